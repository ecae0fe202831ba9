"""The finance user of each ERP kind, in the one shape the demo and the e2e tests drive
(ErpFinanceUser): the Tryton, NetSuite, Business Central and Dynamics 365 Finance clerks behind
it. An ERP joins by adding its kind and its finance user's constructor to FINANCE_USERS (a SaaS
ERP's sandbox tenant is `/erp`)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ..roles import TRYTON
from ..systems import LocalSystems
from ..vendors import VendorSandboxes
from . import (
    DraftInvoice,
    ErpFinanceUser,
    business_central,
    dynamics_finance,
    netsuite,
    quickbooks,
    tryton,
    workday,
    xero,
)
from .saas import NoScenarioUser

BC_DOCUMENT_NUMBER_LENGTH = 35  # salesInvoice.externalDocumentNumber's maxLength


def _hours(quantities: list[object]) -> Decimal:
    return sum((Decimal(str(q)) for q in quantities), Decimal(0))


@dataclass
class TrytonFinance:
    """Finance in Tryton's `erp` database: native draft invoices, the pay wizard."""

    clerk: tryton.FinanceClerk
    vendor: ClassVar[str] = "Tryton"

    @classmethod
    def signed_in(cls, systems: LocalSystems) -> TrytonFinance:
        return cls(tryton.FinanceClerk(tryton.user_client(systems, "erp")))

    def draft(self, project_ref: str) -> DraftInvoice | None:
        found = self.clerk.draft_invoice(project_ref)
        if found is None:
            return None
        return DraftInvoice(str(found["id"]), Decimal(str(found["total_amount"])), self._hours_of([found["id"]]))

    def post_invoice(self, project_ref: str) -> str:
        found = self.clerk.draft_invoice(project_ref)
        if found is None:
            raise LookupError(f"project {project_ref} has no draft invoice in Tryton")
        self.clerk.post(found["id"])
        return str(found["id"])

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        self.clerk.pay(int(invoice_id), amount)

    def billed_hours(self, project_ref: str) -> Decimal:
        invoices = self.clerk.erp.search_read("account.invoice", [["reference", "=", project_ref]], ["id"])
        return self._hours_of([i["id"] for i in invoices])

    def customer_name(self, customer_id: str) -> str | None:
        rows = self.clerk.erp.search_read("party.party", [["id", "=", int(customer_id)]], ["name"])
        return str(rows[0]["name"]) if rows else None

    def _hours_of(self, invoice_ids: list[int]) -> Decimal:
        lines = self.clerk.erp.search_read("account.invoice.line", [["invoice", "in", invoice_ids]], ["quantity"])
        return _hours([line["quantity"] for line in lines])


@dataclass
class NetSuiteFinance:
    """Finance in a NetSuite account: Concord's draft is a sales order; billing it makes the
    invoice, which posts on save; a customer payment is applied to the invoice."""

    clerk: netsuite.FinanceClerk
    vendor: ClassVar[str] = "NetSuite"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> NetSuiteFinance:
        return cls(netsuite.FinanceClerk.signed_in(vendors))

    def draft(self, project_ref: str) -> DraftInvoice | None:
        order = self.clerk.draft_invoice(project_ref)
        if order is None:
            return None
        return DraftInvoice(
            str(order["id"]), order["total_amount"], _hours([line["quantity"] for line in order["lines"]])
        )

    def post_invoice(self, project_ref: str) -> str:
        order = self.clerk.draft_invoice(project_ref)
        if order is None:
            raise LookupError(f"project {project_ref} has no sales order to bill in NetSuite")
        return self.clerk.post(str(order["id"]))

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        self.clerk.pay(invoice_id, amount)

    def billed_hours(self, project_ref: str) -> Decimal:
        # Concord keeps the project's ref in each sales order's memo; billing copies the lines
        # onto the invoice, so the orders' lines are every hour billed.
        rows = self.clerk.erp.rows(
            "SELECT transactionline.quantity FROM transactionline, transaction "
            "WHERE transactionline.transaction = transaction.id AND transaction.type = 'SalesOrd' "
            f"AND transactionline.mainline = 'F' AND transaction.memo = {netsuite.text(project_ref)}"
        )
        return _hours([row["quantity"] for row in rows])

    def customer_name(self, customer_id: str) -> str | None:
        if not customer_id.isdigit():
            return None
        rows = self.clerk.erp.rows(f"SELECT companyname FROM customer WHERE id = {int(customer_id)}")
        return str(rows[0]["companyname"]) if rows else None


@dataclass
class BusinessCentralFinance:
    """Finance in a Business Central company: native draft sales invoices, posted with
    Microsoft.NAV.post (the posted invoice keeps its id); a customer payment applied to it."""

    clerk: business_central.Finance
    vendor: ClassVar[str] = "Business Central"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> BusinessCentralFinance:
        return cls(business_central.Finance.signed_in(vendors))

    def draft(self, project_ref: str) -> DraftInvoice | None:
        found = self.clerk.draft_invoice(bc_document_reference(project_ref))
        if found is None:
            return None
        hours = _hours([line["quantity"] for line in self.clerk.lines_of(str(found["id"]))])
        return DraftInvoice(str(found["id"]), Decimal(str(found["totalAmountIncludingTax"])), hours)

    def post_invoice(self, project_ref: str) -> str:
        found = self.clerk.draft_invoice(bc_document_reference(project_ref))
        if found is None:
            raise LookupError(f"project {project_ref} has no draft sales invoice in Business Central")
        self.clerk.post(str(found["id"]))
        return str(found["id"])

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        self.clerk.pay(invoice_id, amount)

    def billed_hours(self, project_ref: str) -> Decimal:
        ref = bc_document_reference(project_ref).replace("'", "''")
        invoices = self.clerk.company.records("salesInvoices", f"externalDocumentNumber eq '{ref}'")
        return _hours([line["quantity"] for i in invoices for line in self.clerk.lines_of(str(i["id"]))])

    def customer_name(self, customer_id: str) -> str | None:
        rows = self.clerk.company.records("customers", f"id eq {customer_id}") if _is_guid(customer_id) else []
        return str(rows[0]["displayName"]) if rows else None


@dataclass
class DynamicsFinance:
    """Finance in a Dynamics 365 Finance environment: free text invoices, posted; a payment
    journal line marked against the invoice. Ids are "<company>:<key>" (the connector's)."""

    clerk: dynamics_finance.FinanceClerk
    vendor: ClassVar[str] = "Dynamics 365 Finance"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> DynamicsFinance:
        return cls(dynamics_finance.FinanceClerk.signed_in(vendors))

    def draft(self, project_ref: str) -> DraftInvoice | None:
        found = self.clerk.draft_invoice(project_ref)
        if found is None:
            return None
        return DraftInvoice(
            str(found["id"]), found["total_amount"], _hours([line["Quantity"] for line in found["lines"]])
        )

    def post_invoice(self, project_ref: str) -> str:
        found = self.clerk.draft_invoice(project_ref)
        if found is None:
            raise LookupError(f"project {project_ref} has no unposted free text invoice in Dynamics 365 Finance")
        self.clerk.post(str(found["id"]))
        return str(found["id"])

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        self.clerk.pay(invoice_id, amount)

    def billed_hours(self, project_ref: str) -> Decimal:
        text = dynamics_finance.text
        headers = self.clerk.erp.rows("FreeTextInvoiceHeaders", f"CustomerReference eq {text(project_ref)}")
        return _hours(
            [
                line["Quantity"]
                for h in headers
                for line in self.clerk.erp.rows(
                    "FreeTextInvoiceLines",
                    f"dataAreaId eq {text(h['dataAreaId'])} and InvoiceIdentifier eq {text(h['InvoiceIdentifier'])}",
                )
            ]
        )

    def customer_name(self, customer_id: str) -> str | None:
        company, _, account = customer_id.partition(":")
        text = dynamics_finance.text
        rows = self.clerk.erp.rows(
            "CustomersV3", f"dataAreaId eq {text(company)} and CustomerAccount eq {text(account)}"
        )
        return str(rows[0]["OrganizationName"]) if rows else None


@dataclass
class WorkdayFinance:
    """Finance in a Workday tenant: Concord's draft is an unsubmitted customer invoice; finance
    submits it (auto-completed: Approved, same id) and puts a customer payment applied to it."""

    clerk: workday.FinanceClerk
    vendor: ClassVar[str] = "Workday"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> WorkdayFinance:
        return cls(workday.FinanceClerk.signed_in(vendors))

    def draft(self, project_ref: str) -> DraftInvoice | None:
        found = self.clerk.draft_invoice(project_ref)
        if found is None:
            return None
        return DraftInvoice(found["id"], found["total"], _hours([line["quantity"] for line in found["lines"]]))

    def post_invoice(self, project_ref: str) -> str:
        found = self.clerk.draft_invoice(project_ref)
        if found is None:
            raise LookupError(f"project {project_ref} has no draft customer invoice in Workday")
        self.clerk.post(found)
        return str(found["id"])

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        self.clerk.pay(invoice_id, amount)

    def billed_hours(self, project_ref: str) -> Decimal:
        return _hours([line["quantity"] for i in self.clerk.invoices(project_ref) for line in i["lines"]])

    def customer_name(self, customer_id: str) -> str | None:
        return self.clerk.customer_name(customer_id)


def bc_document_reference(project_ref: str) -> str:
    """What finance sees of the project on its Business Central invoices: externalDocumentNumber
    holds 35 characters, so a longer ref is there as "P" and 34 hex digits of its SHA-256 (the
    rule docs/connectors.md gives; written out here, not imported, so the scenario checks the
    connector)."""
    if len(project_ref) <= BC_DOCUMENT_NUMBER_LENGTH:
        return project_ref
    return "P" + hashlib.sha256(project_ref.encode()).hexdigest()[: BC_DOCUMENT_NUMBER_LENGTH - 1].upper()


def _is_guid(value: str) -> bool:
    return len(value) == 36 and all(c in "0123456789abcdefABCDEF-" for c in value)


@dataclass
class XeroFinance:
    """Finance in a Xero organisation: native DRAFT sales invoices, approved (AUTHORISED, the
    invoice keeps its id); a payment applied to it."""

    clerk: xero.Finance
    vendor: ClassVar[str] = "Xero"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> XeroFinance:
        return cls(xero.Finance.signed_in(vendors))

    def draft(self, project_ref: str) -> DraftInvoice | None:
        found = self.clerk.draft_invoice(project_ref)
        if found is None:
            return None
        hours = _hours([line["Quantity"] for line in found["LineItems"]])
        return DraftInvoice(str(found["InvoiceID"]), Decimal(str(found["Total"])), hours)

    def post_invoice(self, project_ref: str) -> str:
        found = self.clerk.draft_invoice(project_ref)
        if found is None:
            raise LookupError(f"project {project_ref} has no draft invoice in Xero")
        self.clerk.post(str(found["InvoiceID"]))
        return str(found["InvoiceID"])

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        self.clerk.pay(invoice_id, amount)

    def billed_hours(self, project_ref: str) -> Decimal:
        return _hours([line["Quantity"] for i in self.clerk.invoices_of(project_ref) for line in i["LineItems"]])

    def customer_name(self, customer_id: str) -> str | None:
        return self.clerk.customer_name(customer_id) if _is_guid(customer_id) else None


# SaaS ERP kind -> its finance user, signed in to the sandbox's `/erp` tenant.
FINANCE_USERS: Mapping[str, Callable[[VendorSandboxes], ErpFinanceUser]] = {
    "netsuite": NetSuiteFinance.signed_in,
    "business_central": BusinessCentralFinance.signed_in,
    "dynamics_finance": DynamicsFinance.signed_in,
    "quickbooks": quickbooks.Finance.signed_in,
    "xero": XeroFinance.signed_in,
    "workday": WorkdayFinance.signed_in,
}


def finance_user(kind: str, *, systems: LocalSystems | None, vendors: VendorSandboxes | None) -> ErpFinanceUser:
    """The finance user of an ERP of `kind` on a running stack (NoScenarioUser: none scripted,
    or the stack does not run that ERP)."""
    if kind == TRYTON and systems is not None:
        return TrytonFinance.signed_in(systems)
    if kind in FINANCE_USERS and vendors is not None and vendors.saas.get("erp") == kind:
        return FINANCE_USERS[kind](vendors)
    raise NoScenarioUser(
        f"no finance user for an ERP of kind {kind!r} on this stack (scripted: {', '.join([TRYTON, *FINANCE_USERS])})"
    )
