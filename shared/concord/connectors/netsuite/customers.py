"""ErpCustomers over NetSuite's customer record: upserted by Concord's external id (PUT on
`eid:`), found by tax id or company name with SuiteQL, inactive customers included.
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html
"""

from __future__ import annotations

from typing import Any

from concord.domain import Customer, CustomerUpdate, ErpCustomer
from concord.events.types import Address
from concord.ports import ErpCustomers

from .client import suiteql_text
from .session import ErpSession

ADDRESSES = "addressbook"


def address_lines(address: Address) -> dict[str, Any]:
    """The customer's address book as one default billing address (sent with replace=addressbook)."""
    fields: dict[str, Any] = {"addr1": address.street, "city": address.city, "country": {"id": address.country}}
    if address.postal_code:
        fields["zip"] = address.postal_code
    if address.region:
        fields["state"] = address.region
    return {"items": [{"defaultBilling": True, "defaultShipping": True, "addressbookaddress": fields}]}


def billing_address(record: dict[str, Any]) -> Address | None:
    lines = (record.get(ADDRESSES) or {}).get("items") or []
    line = next((item for item in lines if item.get("defaultBilling")), lines[0] if lines else None)
    fields = (line or {}).get("addressbookaddress") or {}
    country = (
        (fields.get("country") or {}).get("id") if isinstance(fields.get("country"), dict) else fields.get("country")
    )
    if not fields.get("addr1") or not fields.get("city") or not country:
        return None
    return Address(
        street=fields["addr1"],
        city=fields["city"],
        postal_code=fields.get("zip") or "",
        region=fields.get("state") or "",
        country=country,
    )


class NetSuiteCustomers(ErpSession, ErpCustomers):
    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By tax id, else by exact company name (one SuiteQL query each), oldest first."""
        column = self.connection.fields.tax_id.lower()
        for field, value in ((column, tax_id), ("companyname", name)):
            if not value:
                continue
            # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157909186990.html
            rows = self.client.query_page(
                f"SELECT id FROM customer WHERE {field} = {suiteql_text(value)} ORDER BY id", limit=1
            )[0]
            if rows:
                return self.get_customer(str(rows[0]["id"]))
        return None

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        """Update and reactivate `customer_id`, or upsert by external id: a retried create finds the first."""
        body = self._fields(customer.name, customer.tax_id, customer.billing_address)
        body["isInactive"] = False
        if customer_id is None:
            body["subsidiary"] = {"id": self.connection.subsidiary_id}
            if customer.currency:
                body["currency"] = {"id": self.currency_id(customer.currency)}
            replace = [ADDRESSES] if ADDRESSES in body else []
            customer_id = self.client.upsert("customer", external_ref, body, replace=replace)
        else:
            self.client.update("customer", customer_id, body, replace=[ADDRESSES] if ADDRESSES in body else [])
        return self.get_customer(customer_id)

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        self.client.update("customer", customer_id, {"isInactive": True})

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        self.client.update("customer", customer_id, {"terms": {"id": self.term_id(payment_term)}})

    def get_customer(self, customer_id: str) -> ErpCustomer:
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141947.html
        record = self.client.get("customer", customer_id, expand=True)
        currency = (record.get("currency") or {}).get("id")
        return ErpCustomer(
            customer_id=str(record["id"]),
            name=record.get("companyName") or record.get("entityId") or "",
            tax_id=record.get(self.connection.fields.tax_id) or None,
            external_ref=record.get("externalId") or None,
            billing_address=billing_address(record),
            currency=self.currency_code(str(currency)) if currency else None,
        )

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        body = self._fields(changes.name, changes.tax_id, changes.billing_address)
        if changes.currency:
            body["currency"] = {"id": self.currency_id(changes.currency)}
        if body:
            self.client.update("customer", customer_id, body, replace=[ADDRESSES] if ADDRESSES in body else [])

    def _fields(self, name: str | None, tax_id: str | None, address: Address | None) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if name is not None:
            body["companyName"] = name
        if tax_id is not None:
            body[self.connection.fields.tax_id] = tax_id
        if address is not None:
            body[ADDRESSES] = address_lines(address)
        return body
