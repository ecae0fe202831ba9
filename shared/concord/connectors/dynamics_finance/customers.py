"""ErpCustomers over the CustomersV3 entity, keyed by company (dataAreaId) and CustomerAccount.

Customers Concord creates get a deterministic account, `<prefix><10 hex digits of Concord's
customer id>`: a create retried after a crash reads that key first and finds the customer the
first attempt made, without an external-id field (the entity has none) and without trusting
names. The legal entity's customer number sequence must therefore allow manual numbers.
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
"""

from __future__ import annotations

import hashlib
from typing import Any

from concord.domain import Customer, CustomerUpdate, ErpCustomer
from concord.ports import ErpCustomers

from . import mappers
from .entities import CUSTOMERS
from .ids import odata_literal
from .session import ErpSession


def deterministic_account(prefix: str, external_ref: str) -> str:
    return prefix + hashlib.sha256(external_ref.encode()).hexdigest()[:10].upper()


class FinanceCustomers(ErpSession, ErpCustomers):
    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By tax id, else exact organization name, in Concord's companies, on hold or not."""
        for field, value in (("TaxExemptNumber", tax_id), ("OrganizationName", name)):
            if not value:
                continue
            rows, _ = self.client.query_page(
                CUSTOMERS.name,
                filter=f"{field} eq {odata_literal(value)} and {self.in_companies()}",
                orderby="dataAreaId,CustomerAccount",
                top=1,
            )
            if rows:
                return self._customer(rows[0])
        return None

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        """Update and release from hold `customer_id`, or create the customer under its
        deterministic account (a retried create finds and updates the first one)."""
        regions = self.connection.country_regions
        if customer_id is None:
            company = self.connection.company_of(customer.legal_entity)
            account = deterministic_account(self.connection.customer_prefix, external_ref)
            customer_id = f"{company}:{account}"
            if self.find(CUSTOMERS, customer_id) is None:
                body = mappers.to_new_customer(customer, company, account, self.connection.customer_group, regions)
                return self._customer(self.client.create(CUSTOMERS.name, body))
        self.write(CUSTOMERS, customer_id, mappers.to_active_customer(customer, regions))
        return self.get_customer(customer_id)

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        self.write(CUSTOMERS, customer_id, {"OnHoldStatus": mappers.BLOCKED})

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        self.write(
            CUSTOMERS, customer_id, {"PaymentTerms": self.connection.payment_terms.get(payment_term, payment_term)}
        )

    def get_customer(self, customer_id: str) -> ErpCustomer:
        return self._customer(self.read(CUSTOMERS, customer_id))

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        fields = mappers.to_customer_changes(changes, self.connection.country_regions)
        if fields:
            self.write(CUSTOMERS, customer_id, fields)

    def _customer(self, row: dict[str, Any]) -> ErpCustomer:
        return mappers.to_erp_customer(row, self.connection.country_regions)
