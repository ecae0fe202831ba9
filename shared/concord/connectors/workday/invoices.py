"""ErpBilling and ErpReceivables over Workday customer invoices and payments (Revenue_Management).

Concord opens one draft per project: Submit_Customer_Invoice with Submit=false saves it
unsubmitted (status Draft), with a Customer_Invoice_ID Concord derives from the project's
reference and the project's reference in its Memo. Adding lines resends the draft with every
line it has and the new ones (Customer_Invoice_Line_Replacement_Data replaces the lines): one
read and one Submit per batch, all or nothing. Finance submits it to the business process
(status Approved: posted); the invoice keeps its id. Each line's Memo holds Concord's line id for
people to see, but WWS cannot look lines up by it, so the registry says what was billed
(LineRefs.REGISTRY).
https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Submit_Customer_Invoice.html
https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Get_Customer_Invoices.html
https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Get_Customer_Payments.html
"""

from __future__ import annotations

import datetime as dt
import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from concord.domain import InvoiceLine, InvoiceRecord, PostedInvoice, ReceivedPayment
from concord.errors import DraftClosed, ValidationFailed
from concord.events.types import Money
from concord.ports import ErpBilling, ErpReceivables

from ..kit.errors import NotFound
from . import soap
from .client import WorkdayClient

LINES_PER_CALL = 100
DRAFT, POSTED = "Draft", "Approved"


@dataclass(frozen=True)
class WorkdayLine:
    order: int
    sales_item: str
    description: str
    quantity: str
    unit_cost: str
    memo: str


@dataclass(frozen=True)
class WorkdayInvoice:
    invoice_id: str
    number: str
    customer_id: str
    currency: str
    memo: str
    status: str
    total: Decimal
    amount_due: Decimal
    invoiced_on: dt.date | None
    due_on: dt.date | None
    lines: list[WorkdayLine] = field(default_factory=list)


def invoice_reference_id(project_ref: str, sequence: int) -> str:
    """The Customer_Invoice_ID of the project's `sequence`-th invoice (Concord assigns it)."""
    return f"CI-{hashlib.sha256(project_ref.encode()).hexdigest()[:20].upper()}-{sequence}"


class WorkdayInvoices(ErpBilling, ErpReceivables):
    client: WorkdayClient
    company_id: str

    # -- billing --------------------------------------------------------------------------------

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The project's draft (Memo = the project's ref, status Draft), saved unsubmitted and
        without lines when none is open. A draft for another currency is a ValidationFailed."""
        body = self.client.request("Get_Customer_Invoices")
        soap.reference(soap.child(body, "Request_Criteria"), "Customer_Reference", "Customer_ID", customer_id)
        ours = [
            invoice
            for invoice in map(parsed_invoice, self.client.every("Get_Customer_Invoices", body, "Customer_Invoice"))
            if invoice.memo == project_ref
        ]
        draft = next((invoice for invoice in ours if invoice.status == DRAFT), None)
        if draft is not None:
            if draft.currency != currency:
                raise ValidationFailed(
                    f"the open draft invoice {draft.invoice_id} of project {project_ref!r} is in {draft.currency}, "
                    f"not {currency}"
                )
            return draft.invoice_id
        invoice_id = invoice_reference_id(project_ref, len(ours) + 1)
        self._submit(
            WorkdayInvoice(
                invoice_id, "", customer_id, currency, project_ref, DRAFT, Decimal(0), Decimal(0), None, None
            ),
            create=True,
        )
        return invoice_id

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Up to LINES_PER_CALL lines in one Submit (the draft resent with its lines); returns
        concord_ref -> line id ("<invoice id>:<line order>"); a ref given twice is one line."""
        if len(lines) > LINES_PER_CALL:
            raise ValidationFailed(f"{len(lines)} invoice lines in one call; at most {LINES_PER_CALL}")
        wanted: dict[str, InvoiceLine] = {}
        for line in lines:
            if not (line.concord_ref and line.concord_ref.strip()):
                raise ValidationFailed(f"invoice line {line.description!r} has no concord_ref")
            wanted.setdefault(line.concord_ref.strip(), line)
        draft = self._invoice(invoice_id)
        if draft.status != DRAFT:
            raise DraftClosed(f"workday invoice {invoice_id} is {draft.status}, no longer a draft")
        start = max((line.order for line in draft.lines), default=0) + 1
        added = [to_workday_line(start + n, ref, line) for n, (ref, line) in enumerate(wanted.items())]
        self._submit(replace(draft, lines=[*draft.lines, *added]), create=False)
        return {line.memo: f"{invoice_id}:{line.order}" for line in added}

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Registry-only line refs: WWS finds no line by its Memo (see the module docstring)."""
        return {}

    # -- receivables ------------------------------------------------------------------------------

    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        invoice = self._invoice(invoice_id)
        posted = invoice.status == POSTED
        return InvoiceRecord(
            invoice_id=invoice.invoice_id,
            number=invoice.number or None,
            posted=posted,
            total=Money(amount=invoice.total, currency=invoice.currency),
            amount_due=Money(amount=invoice.amount_due if posted else invoice.total, currency=invoice.currency),
            due_on=invoice.due_on if posted else None,
        )

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        try:
            invoice = self._invoice(invoice_id)
        except NotFound:
            return None
        if invoice.status != POSTED or invoice.invoiced_on is None or invoice.due_on is None:
            return None
        return PostedInvoice(
            invoice_id=invoice.invoice_id,
            number=invoice.number,
            customer_id=invoice.customer_id,
            invoiced_on=invoice.invoiced_on,
            due_on=invoice.due_on,
            total=Money(amount=invoice.total, currency=invoice.currency),
        )

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        """The payment with what is left due on the invoice it pays; None for one that pays no
        customer invoice, or that no longer exists."""
        body = self.client.request("Get_Customer_Payments")
        soap.reference(
            soap.child(body, "Request_References"),
            "Customer_Payment_Reference",
            "Customer_Payment_Reference_ID",
            payment_id,
        )
        try:
            found = self.client.page("Get_Customer_Payments", body, "Customer_Payment", 1, 1).items
        except NotFound:
            return None
        data = found[0].find("wd:Customer_Payment_Data", soap.NS) if found else None
        invoice_id = soap.id_of(
            data, "wd:Customer_Invoice_Payment_Data/wd:Customer_Invoice_Reference", "Customer_Invoice_Reference_ID"
        )
        if data is None or not invoice_id:
            return None
        try:
            invoice = self._invoice(invoice_id)
        except NotFound:
            return None
        currency = soap.id_of(data, "wd:Currency_Reference", "Currency_ID") or invoice.currency
        return ReceivedPayment(
            payment_id=payment_id,
            invoice_id=invoice_id,
            amount=Money(amount=Decimal(soap.text(data, "wd:Amount")), currency=currency),
            received_on=dt.date.fromisoformat(soap.text(data, "wd:Payment_Date")[:10]),
            invoice_amount_due=Money(amount=invoice.amount_due, currency=invoice.currency),
        )

    # -- steps ----------------------------------------------------------------------------------

    def _invoice(self, invoice_id: str) -> WorkdayInvoice:
        body = self.client.request("Get_Customer_Invoices")
        soap.reference(
            soap.child(body, "Request_References"),
            "Customer_Invoice_Reference",
            "Customer_Invoice_Reference_ID",
            invoice_id,
        )
        found = self.client.page("Get_Customer_Invoices", body, "Customer_Invoice", 1, 1).items
        if not found:
            raise NotFound(f"workday has no customer invoice {invoice_id!r}")
        return parsed_invoice(found[0])

    def _submit(self, invoice: WorkdayInvoice, *, create: bool) -> None:
        """Save the invoice unsubmitted (Submit=false), its lines replaced by `invoice.lines`."""
        body = self.client.request("Submit_Customer_Invoice", add_only=create)
        fill_submit_invoice(body, invoice, self.company_id, create=create)
        self.client.call("Submit_Customer_Invoice", body)


def fill_submit_invoice(body: ET.Element, invoice: WorkdayInvoice, company_id: str, *, create: bool) -> None:
    """A Submit_Customer_Invoice_Request saving the invoice unsubmitted (Submit=false), its lines
    replaced by `invoice.lines`; an existing one (not `create`) is named by its reference."""
    if not create:
        soap.reference(body, "Customer_Invoice_Reference", "Customer_Invoice_Reference_ID", invoice.invoice_id)
    data = soap.child(body, "Customer_Invoice_Data")
    soap.child(data, "Customer_Invoice_ID", invoice.invoice_id)
    soap.child(data, "Submit", "false")
    soap.reference(data, "Company_Reference", "Company_Reference_ID", company_id)
    soap.reference(data, "Customer_Reference", "Customer_ID", invoice.customer_id)
    soap.reference(data, "Currency_Reference", "Currency_ID", invoice.currency)
    soap.child(data, "Memo", invoice.memo)
    for line in invoice.lines:
        element = soap.child(data, "Customer_Invoice_Line_Replacement_Data")
        soap.child(element, "Line_Order", line.order)
        soap.reference(element, "Sales_Item_Reference", "Sales_Item_ID", line.sales_item)
        soap.child(element, "Line_Item_Description", line.description)
        soap.child(element, "Quantity", line.quantity)
        if line.unit_cost:
            soap.child(element, "Unit_Cost", line.unit_cost)
        soap.child(element, "Memo", line.memo)


def to_workday_line(order: int, concord_ref: str, line: InvoiceLine) -> WorkdayLine:
    """A line priced by the sales item unless the line names a price (the ERP owns rates)."""
    price = str(line.unit_price.amount) if line.unit_price is not None else ""
    return WorkdayLine(order, line.service_item, line.description[:255], str(line.quantity), price, concord_ref)


def _date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value[:10]) if value else None


def parsed_invoice(element: ET.Element) -> WorkdayInvoice:
    """A Get_Customer_Invoices answer's `wd:Customer_Invoice` element."""
    data = element.find("wd:Customer_Invoice_Data", soap.NS)
    lines = [
        WorkdayLine(
            order=int(soap.text(line, "wd:Line_Order") or 0),
            sales_item=soap.id_of(line, "wd:Sales_Item_Reference", "Sales_Item_ID"),
            description=soap.text(line, "wd:Line_Item_Description"),
            quantity=soap.text(line, "wd:Quantity"),
            unit_cost=soap.text(line, "wd:Unit_Cost"),
            memo=soap.text(line, "wd:Memo"),
        )
        for line in (data.findall("wd:Customer_Invoice_Line_Data", soap.NS) if data is not None else [])
    ]
    return WorkdayInvoice(
        invoice_id=soap.id_of(element, "wd:Customer_Invoice_Reference", "Customer_Invoice_Reference_ID"),
        number=soap.text(data, "wd:Invoice_Number"),
        customer_id=soap.id_of(data, "wd:Customer_Reference", "Customer_ID"),
        currency=soap.id_of(data, "wd:Currency_Reference", "Currency_ID"),
        memo=soap.text(data, "wd:Memo"),
        status=soap.id_of(data, "wd:Invoice_Status_Reference", "Document_Status_ID"),
        total=Decimal(soap.text(data, "wd:Total_Invoice_Amount") or 0),
        amount_due=Decimal(soap.text(data, "wd:Amount_Due") or 0),
        invoiced_on=_date(soap.text(data, "wd:Invoice_Date")),
        due_on=_date(soap.text(data, "wd:Due_Date")),
        lines=lines,
    )
