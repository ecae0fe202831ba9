"""ErpCustomers over Business Central: customers by natural key (tax registration number,
display name, and the `number` Concord derives from its own id), every update guarded by the
record's ETag. https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_customer
"""

from __future__ import annotations

from typing import Any

from concord.domain import Customer, CustomerUpdate, ErpCustomer
from concord.errors import ValidationFailed
from concord.ports import ErpCustomers

from ..kit.errors import Conflict
from . import mappers
from .client import BusinessCentralClient, odata_string
from .payloads import CustomerRow


class BusinessCentralCustomers(ErpCustomers):
    client: BusinessCentralClient
    local_currency: str

    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By tax registration number, else exact display name; blocked customers included
        (the API lists them). The first created wins when several match."""
        filters = ([f"taxRegistrationNumber eq {odata_string(tax_id)}"] if tax_id else []) + [
            f"displayName eq {odata_string(name)}"
        ]
        for expression in filters:
            row = self._first_customer(expression)
            if row is not None:
                return mappers.to_erp_customer(row, self.local_currency)
        return None

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        """Update and unblock `customer_id`, or create the customer: looked up first by the
        number derived from `external_ref` (a create retried after a crash finds the first)."""
        body = mappers.to_bc_customer(customer, self.local_currency)
        if customer_id is None:
            number = mappers.customer_number(external_ref)
            found = self._first_customer(f"number eq {odata_string(number)}")
            if found is None:
                # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customer_create
                created = self.client.post("create customer", "customers", {"number": number, **body})
                return mappers.to_erp_customer(CustomerRow.model_validate(created), self.local_currency, external_ref)
            customer_id = found.id
        return mappers.to_erp_customer(self._patch(customer_id, body), self.local_currency, external_ref)

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        self._patch(customer_id, {"blocked": mappers.BLOCKED})

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        """The payment terms by code (e.g. "30 DAYS") or by the name people see ("Net 30 days", as
        CRMs and Concord's rules name them); an unknown one is a ValidationFailed."""
        wanted = odata_string(payment_term)
        params = {"$filter": f"code eq {wanted} or displayName eq {wanted}", "$top": 1}
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_paymentterm_get
        terms = self.client.first_page("find payment terms", "paymentTerms", params)
        if not terms:
            raise ValidationFailed(f"business central has no payment terms {payment_term!r}")
        self._patch(customer_id, {"paymentTermsId": terms[0]["id"]})

    def get_customer(self, customer_id: str) -> ErpCustomer:
        return mappers.to_erp_customer(self._customer(customer_id), self.local_currency)

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        body = mappers.to_bc_customer_changes(changes, self.local_currency)
        if body:
            self._patch(customer_id, body)

    # -- steps ----------------------------------------------------------------------------------

    def _customer(self, customer_id: str) -> CustomerRow:
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customer_get
        return CustomerRow.model_validate(self.client.get("read customer", f"customers({customer_id})"))

    def _first_customer(self, expression: str) -> CustomerRow | None:
        params: dict[str, Any] = {"$filter": expression, "$orderby": "number asc", "$top": 1}
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customer_get
        rows = self.client.first_page("find customer", "customers", params)
        return CustomerRow.model_validate(rows[0]) if rows else None

    def _patch(self, customer_id: str, body: dict[str, Any]) -> CustomerRow:
        """PATCH with the ETag just read; a 412 (someone wrote in between) reads and tries once more."""
        for attempt in (1, 2):
            etag = self._customer(customer_id).etag
            try:
                # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customer_update
                return CustomerRow.model_validate(
                    self.client.patch("update customer", f"customers({customer_id})", etag, body)
                )
            except Conflict:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")
