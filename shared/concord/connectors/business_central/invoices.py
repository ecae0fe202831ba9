"""ErpBilling and ErpReceivables over Business Central's native draft sales invoices.

Concord opens one draft `salesInvoice` per project (externalDocumentNumber = the project's
reference) and adds lines in one transactional `$batch`; finance posts it
(`Microsoft.NAV.post`), after which the invoice keeps its id and is Open, then Paid.

Billed-line dedupe is the registry's (LineRefs.REGISTRY): a standard salesInvoiceLine has no
field for Concord's line id (only `description`, which the customer reads on the invoice), so
storing it needs an AL extension with a custom API page.

Payments: the standard API exposes the lines of customer payment journals (`customerPayments`,
`appliesToInvoiceId`) until the journal is posted; posted applications (Cust. Ledger Entries)
need a custom API page. https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_customerpayment
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from concord.domain import InvoiceLine, InvoiceRecord, PostedInvoice, ReceivedPayment
from concord.errors import ValidationFailed
from concord.ports import ErpBilling, ErpReceivables

from ..kit.errors import NotFound
from . import mappers
from .client import BATCH_LIMIT, BatchRequest, BusinessCentralClient, odata_string
from .payloads import CustomerPaymentRow, SalesInvoiceRow

FAILED_DEPENDENCY = 424


class BusinessCentralInvoices(ErpBilling, ErpReceivables):
    client: BusinessCentralClient
    local_currency: str

    # -- billing --------------------------------------------------------------------------------

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The project's draft invoice (status Draft, externalDocumentNumber the project's
        reference), created without lines when none is open: one call when it exists. A draft
        for another customer or currency is a ValidationFailed (a person decides)."""
        reference = mappers.document_reference(project_ref)
        params = {
            "$filter": f"externalDocumentNumber eq {odata_string(reference)} and status eq 'Draft'",
            "$orderby": "number asc",
            "$top": 1,
        }
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_salesinvoice_get
        drafts = self.client.first_page("find draft invoice", "salesInvoices", params)
        if drafts:
            return self._checked_draft(SalesInvoiceRow.model_validate(drafts[0]), customer_id, currency, project_ref)
        body = {
            "customerId": customer_id,
            "currencyCode": mappers.to_bc_currency(currency, self.local_currency),
            "externalDocumentNumber": reference,
        }
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_salesinvoice_create
        created = self.client.post("create draft invoice", "salesInvoices", body)
        return SalesInvoiceRow.model_validate(created).id

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Up to BATCH_LIMIT lines in one `$batch` with `Isolation: snapshot` (one transaction:
        a refused line adds none). Returns concord_ref -> line id; a ref given twice is one line."""
        if len(lines) > BATCH_LIMIT:
            raise ValidationFailed(f"{len(lines)} invoice lines in one call; at most {BATCH_LIMIT}")
        wanted: dict[str, InvoiceLine] = {}
        for line in lines:
            if not (line.concord_ref and line.concord_ref.strip()):
                raise ValidationFailed(f"invoice line {line.description!r} has no concord_ref")
            wanted.setdefault(line.concord_ref.strip(), line)
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_salesinvoiceline_create
        target = self.client.path(f"salesInvoices({invoice_id})/salesInvoiceLines")
        answers = self.client.batch(
            "add invoice lines",
            [BatchRequest("POST", target, mappers.to_bc_invoice_line(line)) for line in wanted.values()],
            atomic=True,
        )
        # Under `Isolation: snapshot` the operations that did not fail are answered 424 (not run
        # or undone): the cause is the one that failed on its own.
        for answer in sorted(answers, key=lambda answer: answer.status == FAILED_DEPENDENCY):
            error = answer.error(self.client.errors, "add invoice lines")
            if error is not None:
                raise error
        return {ref: str(answer.body["id"]) for ref, answer in zip(wanted, answers, strict=True)}

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Registry-only line refs: Business Central cannot know (see the module docstring)."""
        return {}

    # -- receivables ------------------------------------------------------------------------------

    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        return mappers.to_invoice_record(self._invoice(invoice_id), self.local_currency)

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        try:
            row = self._invoice(invoice_id)
        except NotFound:
            return None
        return mappers.to_posted_invoice(row, self.local_currency)

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        """The payment journal line, with what is left due on the invoice it applies to; None
        for a line that applies to no (posted) invoice or no longer exists (its journal posted:
        see the module docstring)."""
        try:
            # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customerpayment_get
            payment = CustomerPaymentRow.model_validate(
                self.client.get("read payment", f"customerPayments({payment_id})")
            )
        except NotFound:
            return None
        if not payment.appliesToInvoiceId:
            return None
        try:
            invoice = self._invoice(payment.appliesToInvoiceId)
        except NotFound:
            return None
        params = {"$filter": f"appliesToInvoiceId eq {payment.appliesToInvoiceId}"}
        applied = sum(
            (
                abs(CustomerPaymentRow.model_validate(row).amount)
                for row in self.client.listed("read applied payments", "customerPayments", params)
            ),
            Decimal(0),
        )
        return mappers.to_received_payment(payment, invoice, applied, self.local_currency)

    # -- steps ----------------------------------------------------------------------------------

    def _invoice(self, invoice_id: str) -> SalesInvoiceRow:
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_salesinvoice_get
        return SalesInvoiceRow.model_validate(self.client.get("read invoice", f"salesInvoices({invoice_id})"))

    def _checked_draft(self, row: SalesInvoiceRow, customer_id: str, currency: str, project_ref: str) -> str:
        current = mappers.to_canonical_currency(row.currencyCode, self.local_currency)
        if row.customerId != customer_id or current != currency:
            raise ValidationFailed(
                f"the open draft invoice {row.id} of project {project_ref!r} is for customer "
                f"{row.customerId} in {current}, not customer {customer_id} in {currency}"
            )
        return row.id
