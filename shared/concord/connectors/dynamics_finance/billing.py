"""ErpBilling over free text invoices: a NATIVE draft. The project's open (unposted) free text
invoice header is its draft, found by Concord's project reference on the header; approved work
goes on it as free text lines, each change set of lines in one `$batch` (all or none). Finance
reviews and posts it in Dynamics 365 Finance; Concord never posts.
https://learn.microsoft.com/en-us/dynamics365/finance/accounts-receivable/create-free-text-invoice-new
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata

Line references are STORED where the environment has an extension field on the line entity
(fields.concord_ref): the ERP then says what was billed and a retried batch adds nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from concord.clock import utc_now
from concord.domain import InvoiceLine
from concord.errors import ValidationFailed
from concord.ports import ErpBilling

from . import mappers
from .batch import BatchRequest
from .entities import COMPANY, CUSTOMERS, INVOICE_HEADERS, INVOICE_LINES
from .ids import key_values, odata_literal, record_id
from .session import ErpSession

logger = logging.getLogger(__name__)

# Lines per add_invoice_lines: one change set. F&O documents no operation count per batch; this keeps
# a change set's transaction short and under the request size limits (verify per environment).
INVOICE_LINE_BATCH_LIMIT = 100
REFS_PER_QUERY = 40  # refs in one $filter (URL length)


class FinanceBilling(ErpSession, ErpBilling):
    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The project's unposted free text invoice, or a new header without lines. An open one
        for another customer or currency is a ValidationFailed (a person decides)."""
        keys = key_values(CUSTOMERS, customer_id)
        if keys is None:
            raise ValidationFailed(f"dynamics_finance: {customer_id!r} is not a customer id")
        company, account = keys[COMPANY], keys["CustomerAccount"]
        ref_field = self.connection.fields.project_ref
        rows, _ = self.client.query_page(
            INVOICE_HEADERS.name,
            top=1,
            orderby="InvoiceIdentifier",
            filter=f"{ref_field} eq {odata_literal(project_ref)} and IsPosted eq false and "
            f"dataAreaId eq {odata_literal(company)}",
        )
        if rows:
            open_header = rows[0]
            if (open_header.get("CustomerAccount"), open_header.get("CurrencyCode")) != (account, currency):
                raise ValidationFailed(
                    f"the open free text invoice {open_header['InvoiceIdentifier']} of project {project_ref!r} is for "
                    f"customer {open_header.get('CustomerAccount')} in {open_header.get('CurrencyCode')}, "
                    f"not {account} in {currency}"
                )
            return record_id(INVOICE_HEADERS, open_header)
        header = mappers.to_invoice_header(company, account, currency, ref_field, project_ref, utc_now().date())
        created = self.client.create(INVOICE_HEADERS.name, header)
        return record_id(INVOICE_HEADERS, created)

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Add the lines in one `$batch` change set; concord_ref -> line id for every line."""
        if len(lines) > INVOICE_LINE_BATCH_LIMIT:
            raise ValidationFailed(f"{len(lines)} invoice lines in one call; at most {INVOICE_LINE_BATCH_LIMIT}")
        wanted: dict[str, InvoiceLine] = {}
        for line in lines:
            ref = (line.concord_ref or "").strip()
            if not ref:
                raise ValidationFailed(f"invoice line {line.description!r} has no concord_ref")
            wanted.setdefault(ref, line)
        header = self.read(INVOICE_HEADERS, invoice_id)
        if header.get("IsPosted"):
            raise ValidationFailed(f"free text invoice {invoice_id} is posted: lines go on the project's next draft")
        found = self._lines_by_ref(list(wanted)) if self.connection.fields.concord_ref else {}
        missing = [(ref, line) for ref, line in wanted.items() if ref not in found]
        if not missing:
            return found
        next_number = self._last_line_number(header) + 1
        requests = [
            BatchRequest("POST", INVOICE_LINES.name, self._line_body(header, ref, line, next_number + n))
            for n, (ref, line) in enumerate(missing)
        ]
        answers = self.client.change_set(f"add lines to {INVOICE_HEADERS.name}", requests)
        added = {ref: record_id(INVOICE_LINES, answer.body) for (ref, _), answer in zip(missing, answers, strict=True)}
        logger.info("dynamics_finance added %d lines to %s (%d already there)", len(added), invoice_id, len(found))
        return {**found, **added}

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Of these refs, those on a free text invoice line, with its quantity (stored refs only)."""
        field = self.connection.fields.concord_ref
        if not field or not concord_refs:
            return {}
        return {ref: float(row.get("Quantity") or 0) for ref, row in self._line_rows(sorted(set(concord_refs))).items()}

    # ---------------------------------------------------------------- helpers

    def _line_body(self, header: dict[str, Any], ref: str, line: InvoiceLine, number: int) -> dict[str, Any]:
        item = self.service_items([line.service_item])[line.service_item]
        price = item.unit_price
        if line.unit_price is not None:
            if line.unit_price.currency != header.get("CurrencyCode"):
                raise ValidationFailed(
                    f"invoice line {ref} is priced in {line.unit_price.currency}, "
                    f"not in the invoice's {header.get('CurrencyCode')}"
                )
            price = line.unit_price.amount
        field = self.connection.fields.concord_ref
        return mappers.to_free_text_line(
            header, number, line, item.main_account, price, (field, ref) if field else None
        )

    def _last_line_number(self, header: dict[str, Any]) -> int:
        rows, _ = self.client.query_page(
            INVOICE_LINES.name,
            top=1,
            orderby="LineNumber desc",
            filter=f"dataAreaId eq {odata_literal(header[COMPANY])} and "
            f"InvoiceIdentifier eq {odata_literal(header['InvoiceIdentifier'])}",
        )
        return int(float(rows[0]["LineNumber"])) if rows else 0

    def _lines_by_ref(self, refs: list[str]) -> dict[str, str]:
        return {ref: record_id(INVOICE_LINES, row) for ref, row in self._line_rows(refs).items()}

    def _line_rows(self, refs: list[str]) -> dict[str, dict[str, Any]]:
        field = self.connection.fields.concord_ref
        assert field is not None
        rows: dict[str, dict[str, Any]] = {}
        for start in range(0, len(refs), REFS_PER_QUERY):
            chunk = refs[start : start + REFS_PER_QUERY]
            condition = " or ".join(f"{field} eq {odata_literal(ref)}" for ref in chunk)
            for row in self.client.query(
                INVOICE_LINES.name,
                filter=f"({condition}) and {self.in_companies()}",
                orderby="dataAreaId,InvoiceIdentifier,LineNumber",
            ):
                rows.setdefault(str(row[field]), row)
        return rows
