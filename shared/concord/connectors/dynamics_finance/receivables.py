"""ErpReceivables over free text invoices and customer payment journals.

An invoice is known by its header's id (the draft Concord filled); once finance posts it, the
header carries the invoice number. A payment is a posted customer payment journal line marked
against that invoice number (settlement by marking in the journal). What is still due is the
invoice's total less the posted payment lines marked against it: settlements made otherwise
(credit notes, write-offs, settling open transactions later) are not seen (docs/connectors.md).
https://learn.microsoft.com/en-us/dynamics365/finance/accounts-receivable/customer-payments-overview
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from concord.clock import utc_now
from concord.domain import InvoiceRecord, PostedInvoice, ReceivedPayment
from concord.events.types import Money
from concord.ports import ErpReceivables

from .entities import COMPANY, CUSTOMERS, INVOICE_HEADERS, INVOICE_LINES, PAYMENT_LINES
from .ids import odata_literal, record_id
from .session import ErpSession


def _day(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)[:10]) if value else None


def _amount(value: Any) -> Decimal:
    return Decimal(str(value or 0))


class FinanceReceivables(ErpSession, ErpReceivables):
    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        header = self.read(INVOICE_HEADERS, invoice_id)
        total = self._total(header)
        posted = bool(header.get("IsPosted"))
        due = self._due(header, total) if posted else total
        return InvoiceRecord(
            invoice_id=invoice_id,
            number=header.get("InvoiceNumber") or None,
            posted=posted,
            total=total,
            amount_due=due,
            due_on=_day(header.get("DueDate")),
        )

    def posted_invoice(self, invoice_id: str) -> PostedInvoice | None:
        header = self.find(INVOICE_HEADERS, invoice_id)
        if header is None or not header.get("IsPosted"):
            return None
        invoiced_on = _day(header.get("InvoiceDate")) or utc_now().date()
        return PostedInvoice(
            invoice_id=invoice_id,
            number=header.get("InvoiceNumber") or header["InvoiceIdentifier"],
            customer_id=record_id(CUSTOMERS, header),
            invoiced_on=invoiced_on,
            due_on=_day(header.get("DueDate")) or invoiced_on,
            total=self._total(header),
        )

    def received_payment(self, payment_id: str) -> ReceivedPayment | None:
        """The posted payment line and the invoice it is marked against; None when it is not
        posted or marks no invoice Concord can see."""
        line = self.find(PAYMENT_LINES, payment_id)
        if line is None or not line.get("IsPosted") or not line.get("MarkedInvoice"):
            return None
        rows, _ = self.client.query_page(
            INVOICE_HEADERS.name,
            top=1,
            filter=f"InvoiceNumber eq {odata_literal(line['MarkedInvoice'])} and IsPosted eq true and "
            f"dataAreaId eq {odata_literal(line[COMPANY])}",
        )
        if not rows:
            return None
        header = rows[0]
        total = self._total(header)
        return ReceivedPayment(
            payment_id=payment_id,
            invoice_id=record_id(INVOICE_HEADERS, header),
            amount=Money(amount=_amount(line.get("CreditAmount")), currency=total.currency),
            received_on=_day(line.get("TransactionDate")) or utc_now().date(),
            invoice_amount_due=self._due(header, total),
        )

    # ---------------------------------------------------------------- helpers

    def _total(self, header: dict[str, Any]) -> Money:
        lines = self.client.query(
            INVOICE_LINES.name,
            orderby="LineNumber",
            filter=f"dataAreaId eq {odata_literal(header[COMPANY])} and "
            f"InvoiceIdentifier eq {odata_literal(header['InvoiceIdentifier'])}",
        )
        total = sum((_amount(line.get("Quantity")) * _amount(line.get("UnitPrice")) for line in lines), Decimal(0))
        return Money(amount=total.quantize(Decimal("0.01")), currency=header.get("CurrencyCode") or "USD")

    def _due(self, header: dict[str, Any], total: Money) -> Money:
        paid = sum(
            (
                _amount(line.get("CreditAmount"))
                for line in self.client.query(
                    PAYMENT_LINES.name,
                    filter=f"MarkedInvoice eq {odata_literal(header.get('InvoiceNumber') or '')} and "
                    f"IsPosted eq true and dataAreaId eq {odata_literal(header[COMPANY])}",
                )
            ),
            Decimal(0),
        )
        return Money(amount=max(total.amount - paid, Decimal(0)), currency=total.currency)
