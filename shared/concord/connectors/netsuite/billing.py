"""ErpBilling over NetSuite, whose invoices post on save: the draft is EMULATED by a sales order
per project. Concord adds the project's approved work to it as lines; finance transforms it into
the invoice (POST salesOrder/{id}/!transform/invoice), which posts it.
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157901123882.html

A draft is named by the sales order's external id, "<project ref>:open:<n>" (n = 1, 2... a new one
once finance has billed the last): deterministic, so the order is upserted by it and a retried
first write finds the order the first one created. NetSuite refuses a transaction without lines,
so the order is written with its first lines, not when the draft is opened.

Billed lines carry their concord_ref in a custom transaction column where the account has one
(fields.concord_ref_column, copied onto the invoice by the transform): NetSuite then says what was
billed and a retried batch adds nothing twice. Without it only Concord's registry knows.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from concord.domain import InvoiceLine
from concord.errors import ValidationFailed
from concord.ports import ErpBilling

from ..kit.errors import Conflict
from . import mappers
from .client import suiteql_ids, suiteql_text
from .session import ErpSession

logger = logging.getLogger(__name__)

OPEN_DRAFT_MARK = ":open:"
# Lines per add_invoice_lines: all of them go in one write of the order (REST creates no records
# in bulk, but one transaction takes many lines); the SuiteQL reads around it stay under a page.
INVOICE_LINE_BATCH_LIMIT = 200
# Sales order statuses (SuiteQL transaction.status) whose order can still take lines: Pending
# Approval, Pending Fulfillment, Partially Fulfilled, Pending Billing/Partially Fulfilled, Pending Billing.
OPEN_ORDER = frozenset("ABDEF")
SALES_ORDER, INVOICE = "SalesOrd", "CustInvc"


def draft_number(draft_id: str, project_ref: str) -> int | None:
    prefix = project_ref + OPEN_DRAFT_MARK
    rest = draft_id[len(prefix) :] if draft_id.startswith(prefix) else ""
    return int(rest) if rest.isdigit() else None


class NetSuiteBilling(ErpSession, ErpBilling):
    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The external id of the project's open sales order, or of the next one (written with
        its first lines by add_invoice_lines). One SuiteQL query. An open order for another
        customer or currency is a ValidationFailed (the project changed hands: a person decides)."""
        prefix = project_ref + OPEN_DRAFT_MARK
        like = prefix.replace("%", "").replace("_", "")  # LIKE narrows; exact prefixes are kept below
        rows = [
            r
            for r in self.client.query(
                "SELECT id, externalid, status, entity, currency FROM transaction "
                f"WHERE type = '{SALES_ORDER}' AND externalid LIKE {suiteql_text(like + '%')} ORDER BY id"
            )
            if draft_number(str(r["externalid"]), project_ref) is not None
        ]
        latest = max(rows, key=lambda r: draft_number(str(r["externalid"]), project_ref) or 0, default=None)
        currency_id = self.currency_id(currency)
        if latest is not None and str(latest["status"]) in OPEN_ORDER:
            if (str(latest["entity"]), str(latest["currency"])) != (customer_id, currency_id):
                raise ValidationFailed(
                    f"the open sales order {latest['id']} of project {project_ref!r} is for customer "
                    f"{latest['entity']} in currency {latest['currency']}, not {customer_id} in {currency}"
                )
            draft = str(latest["externalid"])
        else:
            number = draft_number(str(latest["externalid"]), project_ref) if latest else 0
            draft = f"{prefix}{(number or 0) + 1}"
        self.opened_drafts[draft] = (customer_id, currency_id, project_ref)
        return draft

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Add the lines to the draft's sales order in one write (PATCH appends them; the first
        write upserts the order with them). Returns concord_ref -> "<order id>:<line id>"."""
        if len(lines) > INVOICE_LINE_BATCH_LIMIT:
            raise ValidationFailed(f"{len(lines)} invoice lines in one call; at most {INVOICE_LINE_BATCH_LIMIT}")
        column = self.connection.fields.concord_ref_column
        wanted: dict[str, InvoiceLine] = {}
        for line in lines:
            ref = (line.concord_ref or "").strip()
            if not ref:
                raise ValidationFailed(f"invoice line {line.description!r} has no concord_ref")
            wanted.setdefault(ref, line)
        found = self._lines_by_ref(wanted) if column else {}
        missing = [(ref, line) for ref, line in wanted.items() if ref not in found]
        if not missing:
            return found
        order = self._order(invoice_id)
        customer_id, currency_id = self._header(invoice_id, order)
        body_lines = self._line_values(missing, currency_id)
        if order is None:
            _, _, project_ref = self.opened_drafts[invoice_id]
            # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html
            order_id = self.client.upsert(
                "salesOrder", invoice_id, mappers.to_sales_order(customer_id, currency_id, project_ref, body_lines)
            )
            before: set[str] = set()
        else:
            order_id = str(order["id"])
            before = set(self._order_lines(order_id)) if not column else set()
            # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545295601.html
            self.client.update("salesOrder", order_id, {"item": {"items": body_lines}})
        added = self._added(order_id, [ref for ref, _ in missing], before)
        logger.info("netsuite added %d lines to sales order %s (%d already there)", len(added), order_id, len(found))
        return {**found, **added}

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Of these refs, those on a sales order or invoice line, with the line's quantity
        (stored line refs only: without the column NetSuite cannot know)."""
        column = self.connection.fields.concord_ref_column
        if not column or not concord_refs:
            return {}
        listed = ", ".join(suiteql_text(ref) for ref in sorted(set(concord_refs)))
        rows = self.client.query(
            f"SELECT tl.{column} AS ref, tl.quantity AS quantity FROM transactionline tl "
            f"JOIN transaction t ON t.id = tl.transaction WHERE t.type IN ('{SALES_ORDER}', '{INVOICE}') "
            f"AND t.status NOT IN ('C', 'H') AND tl.{column} IN ({listed}) ORDER BY tl.transaction, tl.id"
        )
        billed: dict[str, float] = {}
        for row in rows:
            # The sign of a sale line's quantity in transactionline is not the record's (verify): abs.
            billed.setdefault(str(row["ref"]), abs(float(row["quantity"])))
        return billed

    # ---------------------------------------------------------------- helpers

    def _order(self, draft_id: str) -> dict[str, Any] | None:
        rows = self.client.query_page(
            f"SELECT id, status, entity, currency FROM transaction WHERE type = '{SALES_ORDER}' "
            f"AND externalid = {suiteql_text(draft_id)}",
            limit=1,
        )[0]
        if rows and str(rows[0]["status"]) not in OPEN_ORDER:
            raise ValidationFailed(
                f"sales order {rows[0]['id']} ({draft_id}) is billed or closed: lines go on the project's next draft"
            )
        return rows[0] if rows else None

    def _header(self, draft_id: str, order: dict[str, Any] | None) -> tuple[str, str]:
        if order is not None:
            return str(order["entity"]), str(order["currency"])
        if draft_id not in self.opened_drafts:
            raise ValidationFailed(f"draft {draft_id!r} was not opened (open_invoice_draft) and has no sales order")
        customer_id, currency_id, _ = self.opened_drafts[draft_id]
        return customer_id, currency_id

    def _line_values(self, lines: list[tuple[str, InvoiceLine]], currency_id: str) -> list[dict[str, Any]]:
        items = self.item_ids(line.service_item for _, line in lines)
        column = self.connection.fields.concord_ref_column
        for ref, line in lines:
            if line.unit_price is not None and self.currency_id(line.unit_price.currency) != currency_id:
                raise ValidationFailed(
                    f"invoice line {ref} is priced in {line.unit_price.currency}, not in the sales order's currency"
                )
        return [mappers.to_sales_order_line(line, items[line.service_item], ref, column) for ref, line in lines]

    def _lines_by_ref(self, refs: Sequence[str] | dict[str, Any]) -> dict[str, str]:
        column = self.connection.fields.concord_ref_column
        listed = ", ".join(suiteql_text(ref) for ref in sorted(refs))
        rows = self.client.query(
            f"SELECT transaction, id, {column} AS ref FROM transactionline "
            f"WHERE {column} IN ({listed}) ORDER BY transaction, id"
        )
        found: dict[str, str] = {}
        for row in rows:  # an order's line and the invoice line copied from it: the order's first
            found.setdefault(str(row["ref"]), f"{row['transaction']}:{row['id']}")
        return found

    def _order_lines(self, order_id: str) -> list[str]:
        rows = self.client.query(
            f"SELECT id FROM transactionline WHERE transaction = {suiteql_ids([order_id])} "
            "AND mainline = 'F' ORDER BY id"
        )
        return [str(row["id"]) for row in rows]

    def _added(self, order_id: str, refs: list[str], before: set[str]) -> dict[str, str]:
        """concord_ref -> line id of the lines just written: by the column where there is one,
        else the order's new lines in the order they were sent."""
        if self.connection.fields.concord_ref_column:
            found = self._lines_by_ref(refs)
            if set(refs) - set(found):
                raise Conflict(f"netsuite sales order {order_id}: lines written but not found by reference")
            return {ref: found[ref] for ref in refs}
        new = [line for line in self._order_lines(order_id) if line not in before]
        if len(new) != len(refs):  # someone else wrote lines meanwhile: which are ours is unknown
            raise Conflict(f"netsuite sales order {order_id}: {len(refs)} lines sent, {len(new)} new lines found")
        return {ref: f"{order_id}:{line}" for ref, line in zip(refs, new, strict=True)}
