"""ErpBilling over QuickBooks Online, which has no draft invoices (an invoice is on receivables
the moment it is created): the draft is EMULATED by an Estimate per project. Concord adds the
project's approved work to it as lines; finance converts it into the invoice (in QuickBooks:
create invoice from the estimate, which links the two and closes the estimate).
https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate

An estimate rather than lines held in Concord until posting: the lines are then in QuickBooks,
where finance reviews, edits and posts them with QuickBooks' own screens, and Concord needs no
store of its own. A draft is named "<project ref>#<n>" (n = 1, 2... a new one once finance has
converted the last), written in the estimate's PrivateNote; QuickBooks refuses a transaction
without lines, so the estimate is created with its first lines, not when the draft is opened.
QuickBooks lines have no reference field: billed-line dedupe is the registry's (LineRefs.REGISTRY).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from concord.domain import InvoiceLine
from concord.errors import ValidationFailed

from ..kit.errors import NotFound
from .client import QuickBooksClient, Record, quoted

DRAFT_NOTE = "concord-draft "
# Lines per add_invoice_lines: they all go in one write of the estimate.
INVOICE_LINE_LIMIT = 100
OPEN_ESTIMATE = frozenset({"Pending", "Accepted"})


def draft_number(draft_id: str, project_ref: str) -> int | None:
    prefix = project_ref + "#"
    rest = draft_id[len(prefix) :] if draft_id.startswith(prefix) else ""
    return int(rest) if rest.isdigit() else None


def draft_of(estimate: Record) -> str | None:
    """The draft id a Concord estimate carries in its PrivateNote."""
    note = str(estimate.get("PrivateNote") or "")
    return note[len(DRAFT_NOTE) :] if note.startswith(DRAFT_NOTE) else None


def to_estimate_line(line: InvoiceLine, item_id: str, concord_ref: str) -> dict[str, Any]:
    """An estimate line for approved work; its description carries Concord's line ref (QuickBooks
    lines have no field for it). Without a unit price QuickBooks prices it from the item."""
    detail: dict[str, Any] = {"ItemRef": {"value": item_id}, "Qty": line.quantity}
    if line.unit_price is not None:
        detail["UnitPrice"] = float(line.unit_price.amount)
    return {
        "DetailType": "SalesItemLineDetail",
        "Description": f"{line.description} ({concord_ref})"[:4000],
        "SalesItemLineDetail": detail,
    }


def to_estimate(customer_id: str, currency: str, draft_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The draft's estimate as its first write creates it (QuickBooks refuses one without lines)."""
    return {
        "CustomerRef": {"value": customer_id},
        "CurrencyRef": {"value": currency},
        "PrivateNote": DRAFT_NOTE + draft_id,
        "Line": lines,
    }


def _refs_key(lines: Sequence[tuple[str, InvoiceLine]]) -> str:
    return hashlib.sha256("\n".join(ref for ref, _ in lines).encode()).hexdigest()[:24]


class QuickBooksBilling:
    client: QuickBooksClient
    home_currency: str
    opened_drafts: dict[str, tuple[str, str]]  # draft id -> (customer id, currency), until written
    item_ids: dict[str, str]

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        estimates = [
            e
            for e in self.client.query("find drafts", "Estimate", f"CustomerRef = {quoted(customer_id)}")
            if draft_number(draft_of(e) or "", project_ref) is not None
        ]
        latest = max(estimates, key=lambda e: draft_number(draft_of(e) or "", project_ref) or 0, default=None)
        if latest is not None and latest.get("TxnStatus", "Pending") in OPEN_ESTIMATE:
            held = (latest.get("CurrencyRef") or {}).get("value") or self.home_currency
            if held != currency:
                raise ValidationFailed(
                    f"the open estimate {latest['Id']} of {project_ref!r} is in {held}, not {currency}"
                )
            return str(draft_of(latest))
        number = draft_number(draft_of(latest) or "", project_ref) if latest else 0
        draft = f"{project_ref}#{(number or 0) + 1}"
        self.opened_drafts[draft] = (customer_id, currency)
        return draft

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Append the lines to the draft's estimate in one write (its first write creates it).
        Returns concord_ref -> "<estimate id>:<line id>"."""
        if len(lines) > INVOICE_LINE_LIMIT:
            raise ValidationFailed(f"{len(lines)} invoice lines in one call; at most {INVOICE_LINE_LIMIT}")
        wanted: dict[str, InvoiceLine] = {}
        for line in lines:
            ref = (line.concord_ref or "").strip()
            if not ref:
                raise ValidationFailed(f"invoice line {line.description!r} has no concord_ref")
            wanted.setdefault(ref, line)
        missing = list(wanted.items())
        estimate = self.estimate_of(invoice_id)
        if estimate is None:
            if invoice_id not in self.opened_drafts:
                raise ValidationFailed(f"draft {invoice_id!r} was not opened (open_invoice_draft) and has no estimate")
            customer_id, currency = self.opened_drafts[invoice_id]
            body = to_estimate(customer_id, currency, invoice_id, self._line_values(missing))
            written = self.client.write("Estimate", body, f"draft:{invoice_id}:create:{_refs_key(missing)}")
        else:
            if estimate.get("TxnStatus", "Pending") not in OPEN_ESTIMATE:
                raise ValidationFailed(f"estimate {estimate['Id']} ({invoice_id}) is converted or closed")
            new_lines = self._line_values(missing)
            written = self.client.update(
                "Estimate",
                str(estimate["Id"]),
                lambda current: {"Line": [*_item_lines(current), *new_lines]},
                f"draft:{invoice_id}:lines:{_refs_key(missing)}",
            )
        # The new lines are the written version's last ones: the SyncToken kept any other write out.
        added = [str(line["Id"]) for line in _item_lines(written)][-len(missing) :]
        return {ref: f"{written['Id']}:{line_id}" for (ref, _), line_id in zip(missing, added, strict=True)}

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """QuickBooks lines carry no reference: only Concord's registry knows (LineRefs.REGISTRY)."""
        return {}

    # ---------------------------------------------------------------- helpers

    def estimate_of(self, draft_id: str) -> Record | None:
        """The estimate holding the draft (any status), found among its customer's estimates."""
        customer = self.opened_drafts.get(draft_id, (None, None))[0]
        where = f"CustomerRef = {quoted(customer)}" if customer else ""
        found = [e for e in self.client.query("find draft", "Estimate", where) if draft_of(e) == draft_id]
        return found[0] if found else None

    def _item(self, code: str) -> str:
        if code not in self.item_ids:
            rows = self.client.query("find item", "Item", f"Name = {quoted(code)}")
            if not rows:
                raise NotFound(f"quickbooks: no item named {code!r}")
            self.item_ids[code] = str(rows[0]["Id"])
        return self.item_ids[code]

    def _line_values(self, lines: Sequence[tuple[str, InvoiceLine]]) -> list[dict[str, Any]]:
        return [to_estimate_line(line, self._item(line.service_item), ref) for ref, line in lines]


def _item_lines(record: Record) -> list[dict[str, Any]]:
    return [line for line in record.get("Line", []) if line.get("DetailType") == "SalesItemLineDetail"]
