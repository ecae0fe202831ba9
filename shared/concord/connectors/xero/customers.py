"""ErpCustomers over Xero contacts: Concord's reference is the contact's ContactNumber ("used
to identify contacts in external systems", settable through the API only); natural keys are
the TaxNumber and the Name (unique in an organisation).
https://developer.xero.com/documentation/api/accounting/contacts
"""

from __future__ import annotations

from typing import Any

from concord.domain import Customer, CustomerUpdate, ErpCustomer
from concord.ports import ErpCustomers

from . import mappers
from .client import XeroClient
from .payloads import ContactRow


class XeroCustomers(ErpCustomers):
    client: XeroClient

    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By TaxNumber, else exact Name; archived contacts included."""
        clauses = ([mappers.where_equals("TaxNumber", tax_id)] if tax_id else []) + [mappers.where_equals("Name", name)]
        for clause in clauses:
            row = self._first_contact(clause)
            if row is not None:
                return mappers.to_erp_customer(row)
        return None

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        """Update and re-activate `customer_id`, or create the contact: found first by its
        ContactNumber (a create retried after a crash finds the first)."""
        body = mappers.to_xero_contact(customer, external_ref)
        if customer_id is None:
            found = self._first_contact(mappers.where_equals("ContactNumber", body["ContactNumber"]))
            if found is None:
                # https://developer.xero.com/documentation/api/accounting/contacts#put-contacts
                created = self.client.save_one("create contact", "PUT", "Contacts", "Contacts", body, external_ref)
                return mappers.to_erp_customer(ContactRow.model_validate(created), external_ref)
            customer_id = found.ContactID
        return mappers.to_erp_customer(self._update(customer_id, body), external_ref)

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        self._update(customer_id, {"ContactStatus": "ARCHIVED"})

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        self._update(customer_id, {"PaymentTerms": mappers.to_sales_terms(payment_term)})

    def get_customer(self, customer_id: str) -> ErpCustomer:
        return mappers.to_erp_customer(self._contact(customer_id))

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        body = mappers.to_xero_contact_changes(changes)
        if body:
            self._update(customer_id, body)

    # -- steps ----------------------------------------------------------------------------------

    def _contact(self, customer_id: str) -> ContactRow:
        # https://developer.xero.com/documentation/api/accounting/contacts#get-contacts
        body = self.client.get("read contact", f"Contacts/{customer_id}")
        return ContactRow.model_validate(body["Contacts"][0])

    def _first_contact(self, where: str) -> ContactRow | None:
        params: dict[str, Any] = {"where": where, "includeArchived": "true", "order": "UpdatedDateUTC ASC"}
        # https://developer.xero.com/documentation/api/accounting/contacts#optimised-use-of-the-where-filter
        rows = self.client.get("find contact", "Contacts", params).get("Contacts") or []
        return ContactRow.model_validate(rows[0]) if rows else None

    def _update(self, customer_id: str, fields: dict[str, Any]) -> ContactRow:
        """POST to the contact's own path: only the fields sent change. The key names the version
        read, so the same change made again later (after another one) is not a replay."""
        current = self._contact(customer_id)
        body = {"ContactID": customer_id, **fields}
        version = f"{customer_id}@{current.UpdatedDateUTC.isoformat()}"
        # https://developer.xero.com/documentation/api/accounting/contacts#post-contacts
        saved = self.client.save_one("update contact", "POST", f"Contacts/{customer_id}", "Contacts", body, version)
        return ContactRow.model_validate(saved)
