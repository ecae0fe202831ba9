"""ErpBilling and ErpReceivables over Xero's native draft sales invoices (ACCREC).

Concord opens one DRAFT invoice per project (Reference = the project's reference); finance
approves it (Status AUTHORISED), after which it is paid (PAID once nothing is due).

**An update deletes every line it does not resend, and a line has no field for Concord's id**:
adding lines re-sends the draft's lines (with their LineItemID) followed by the new ones, and
the new lines' ids are those the answer lists after the kept ones. Billed-line dedupe is the
registry's (LineRefs.REGISTRY). Two writers adding lines to one draft at once could drop each
other's lines (Xero has no ETag); Concord's billing flow adds a project's lines one batch at a time.
https://developer.xero.com/documentation/api/accounting/invoices
"""

from __future__ import annotations

from collections.abc import Sequence

from concord.clock import utc_now
from concord.domain import InvoiceLine, InvoiceRecord, PostedInvoice, ReceivedPayment
from concord.errors import DraftClosed, ValidationFailed
from concord.ports import ErpBilling, ErpReceivables

from ..kit.errors import NotFound
from . import mappers
from .client import BATCH_LIMIT, XeroClient
from .payloads import EDITABLE, InvoiceRow, PaymentRow

SALES_INVOICE = "ACCREC"


class XeroInvoices(ErpBilling, ErpReceivables):
    client: XeroClient
    account_code: str

    # -- billing --------------------------------------------------------------------------------

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The project's DRAFT invoice, created without lines when none is open. A draft for
        another customer or currency is a ValidationFailed (a person decides)."""
        where = f'Type=="{SALES_INVOICE}" AND {mappers.where_equals("Reference", project_ref)}'
        # https://developer.xero.com/documentation/api/accounting/invoices#get-invoices
        listed = self.client.get("find draft invoice", "Invoices", {"where": where, "order": "Date ASC"})
        invoices = [InvoiceRow.model_validate(row) for row in listed.get("Invoices") or []]
        draft = next((row for row in invoices if row.Status == "DRAFT"), None)
        if draft is not None:
            return self._checked_draft(draft, customer_id, currency, project_ref)
        body = {
            "Type": SALES_INVOICE,
            "Status": "DRAFT",
            "Contact": {"ContactID": customer_id},
            "CurrencyCode": currency,
            "Reference": project_ref,
            "Date": utc_now().date().isoformat(),
            "LineAmountTypes": "Exclusive",
            "LineItems": [],
        }
        # The project's earlier invoices are in the key: a new draft after a posting is a new request.
        earlier = ",".join(sorted(row.InvoiceID for row in invoices))
        # https://developer.xero.com/documentation/api/accounting/invoices#put-invoices
        created = self.client.save_one(
            "create draft invoice", "PUT", "Invoices", "Invoices", body, f"{project_ref}|{earlier}"
        )
        return InvoiceRow.model_validate(created).InvoiceID

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Up to BATCH_LIMIT lines in one update that re-sends the draft's own lines; all or
        nothing. Returns concord_ref -> LineItemID; a ref given twice is one line."""
        if len(lines) > BATCH_LIMIT:
            raise ValidationFailed(f"{len(lines)} invoice lines in one call; at most {BATCH_LIMIT}")
        wanted: dict[str, InvoiceLine] = {}
        for line in lines:
            if not (line.concord_ref and line.concord_ref.strip()):
                raise ValidationFailed(f"invoice line {line.description!r} has no concord_ref")
            wanted.setdefault(line.concord_ref.strip(), line)
        draft = self._invoice(invoice_id)
        if draft.Status not in EDITABLE:
            raise DraftClosed(f"xero invoice {invoice_id} is {draft.Status}: open the project's draft again")
        kept = [mappers.to_kept_line(line) for line in draft.LineItems]
        added = [mappers.to_new_line(line, self.account_code) for line in wanted.values()]
        body = {"InvoiceID": invoice_id, "LineItems": kept + added}
        version = f"{invoice_id}@{draft.UpdatedDateUTC.isoformat()}"
        # https://developer.xero.com/documentation/api/accounting/invoices#post-invoices
        saved = InvoiceRow.model_validate(
            self.client.save_one("add invoice lines", "POST", f"Invoices/{invoice_id}", "Invoices", body, version)
        )
        known = {line.LineItemID for line in draft.LineItems}
        new_ids = [line.LineItemID for line in saved.LineItems if line.LineItemID not in known]
        if len(new_ids) != len(wanted):
            raise ValidationFailed(f"xero invoice {invoice_id}: {len(new_ids)} lines added for {len(wanted)} sent")
        return dict(zip(wanted, new_ids, strict=True))

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Registry-only line refs: Xero's lines cannot hold them (see the module docstring)."""
        return {}

    # -- receivables ------------------------------------------------------------------------------

    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        return mappers.to_invoice_record(self._invoice(invoice_id))

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        try:
            row = self._invoice(invoice_id)
        except NotFound:
            return None
        return mappers.to_posted_invoice(row)

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        """The payment with what is left due on its sales invoice; None for a deleted payment,
        one of a bill, or one no longer there."""
        try:
            # https://developer.xero.com/documentation/api/accounting/payments#get-payments
            body = self.client.get("read payment", f"Payments/{payment_id}")
            payment = PaymentRow.model_validate(body["Payments"][0])
            invoice = self._invoice(payment.Invoice.InvoiceID)
        except NotFound:
            return None
        return mappers.to_received_payment(payment, invoice)

    # -- steps ----------------------------------------------------------------------------------

    def _invoice(self, invoice_id: str) -> InvoiceRow:
        # https://developer.xero.com/documentation/api/accounting/invoices#get-invoices
        body = self.client.get("read invoice", f"Invoices/{invoice_id}")
        return InvoiceRow.model_validate(body["Invoices"][0])

    def _checked_draft(self, row: InvoiceRow, customer_id: str, currency: str, project_ref: str) -> str:
        if row.Contact.ContactID != customer_id or row.CurrencyCode != currency:
            raise ValidationFailed(
                f"the open draft invoice {row.InvoiceID} of project {project_ref!r} is for contact "
                f"{row.Contact.ContactID} in {row.CurrencyCode}, not contact {customer_id} in {currency}"
            )
        return row.InvoiceID
