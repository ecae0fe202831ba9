"""ErpCustomers over NetSuite's customer record: upserted by Concord's external id (PUT on
`eid:`), found by tax id or company name with SuiteQL, inactive customers included.
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html
"""

from __future__ import annotations

from concord.domain import Customer, CustomerUpdate, ErpCustomer
from concord.ports import ErpCustomers

from . import mappers
from .client import suiteql_text
from .session import ErpSession


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
        tax_id_field = self.connection.fields.tax_id
        if customer_id is None:
            currency_id = self.currency_id(customer.currency) if customer.currency else None
            body = mappers.to_netsuite_customer(
                customer, tax_id_field, subsidiary_id=self.connection.subsidiary_id, currency_id=currency_id
            )
            customer_id = self.client.upsert("customer", external_ref, body, replace=mappers.replaced_sublists(body))
        else:
            body = mappers.to_netsuite_customer(customer, tax_id_field)
            self.client.update("customer", customer_id, body, replace=mappers.replaced_sublists(body))
        return self.get_customer(customer_id)

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        self.client.update("customer", customer_id, {"isInactive": True})

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        self.client.update("customer", customer_id, {"terms": {"id": self.term_id(payment_term)}})

    def get_customer(self, customer_id: str) -> ErpCustomer:
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141947.html
        record = self.client.get("customer", customer_id, expand=True)
        currency = (record.get("currency") or {}).get("id")
        code = self.currency_code(str(currency)) if currency else None
        return mappers.to_erp_customer(record, self.connection.fields.tax_id, code)

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        currency_id = self.currency_id(changes.currency) if changes.currency else None
        body = mappers.to_customer_changes(changes, self.connection.fields.tax_id, currency_id)
        if body:
            self.client.update("customer", customer_id, body, replace=mappers.replaced_sublists(body))
