"""ErpBilling over Tryton: the draft customer invoice (account.invoice, type "out") Concord
fills with a project's approved work; lines carry Concord's id in concord_ref (unique), so the
ERP itself refuses a line twice. Posting stays with finance. Module docs:
https://docs.tryton.org/modules-account-invoice/
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from concord.domain import InvoiceLine
from concord.errors import DraftClosed, ValidationFailed
from concord.ports import ErpBilling

from .. import lookups, mapping, names
from ..names import CONCORD_REF, Model
from ..rpc import TrytonPermanentError, TrytonRpcClient
from .session import ErpSession

logger = logging.getLogger(__name__)

# How many lines add_invoice_lines takes in one call: a choice, not a Tryton limit. Tryton's
# create takes a list and runs it in one transaction (all or nothing); on the one-request-at-a-
# time local server, 100 lines (~1-2 s) keep other callers waiting little.
INVOICE_LINE_BATCH_LIMIT = 100
# The draft invoice Concord adds a project's lines to: concord_ref "<project ref>:open:<n>",
# n = 1, 2... (a new one once the previous is posted). See open_invoice_draft.
OPEN_DRAFT_MARK = ":open:"
# Products (list price, unit, category) and categories (revenue account, taxes) change rarely:
# add_invoice_lines reuses what it read for this long, so a batch costs one call.
REFERENCE_DATA_SECONDS = 60.0


class TrytonErpBilling(ErpSession, ErpBilling):
    """Draft invoices and their lines in the `erp` database."""

    def __init__(self, client: TrytonRpcClient) -> None:
        super().__init__(client)
        self._products: dict[str, tuple[float, dict[str, Any]]] = {}
        self._categories: dict[int, tuple[float, dict[str, Any]]] = {}
        # draft invoice id -> (currency code, currency id): what its lines are priced in
        self._draft_currency: dict[int, tuple[str, int]] = {}
        # project ref -> (draft invoice id, party id, currency) last found or opened: asked
        # again only when a create on it is refused because it is no longer a draft
        self._open_draft: dict[str, tuple[int, int, str]] = {}
        self._unverified: set[int] = set()  # drafts handed out from that cache since their last read

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The project's draft customer invoice, created (without lines) when none is open.

        Found by concord_ref "<project_ref>:open:<n>": the highest n whose invoice is still a
        draft. Once it is validated, posted or cancelled (by Concord or a person), the next
        call creates "<project_ref>:open:<n+1>". concord_ref is unique, so two concurrent
        calls cannot create two drafts: the loser's create fails and it returns the winner's.
        The invoice's reference is project_ref (what a person sees). A draft for another
        customer or currency is a ValidationFailed (the project changed hands: a person
        decides). One call when the draft exists; none when this connector found or opened
        it before (remembered: lines refused because it was posted since are a DraftClosed,
        and the next call looks again).
        """
        party_id = names.record_id(customer_id, "customer")
        cached = self._open_draft.get(project_ref)
        if cached and cached[1:] == (party_id, currency):
            self._unverified.add(cached[0])
            return str(cached[0])
        for attempt in (1, 2):
            drafts, taken = self._open_drafts(project_ref)
            if drafts:
                draft_id = self._checked_draft(drafts[-1], party_id, currency, project_ref)
            else:
                try:
                    draft_id = str(
                        self._create_draft(
                            party_id, currency, project_ref, f"{project_ref}{OPEN_DRAFT_MARK}{taken + 1}"
                        )
                    )
                except TrytonPermanentError as exc:
                    # concord_ref is unique: a concurrent call created this draft first.
                    if exc.kind != "UserError" or attempt == 2:
                        raise
                    logger.info("tryton erp draft invoice of %s created concurrently: %s", project_ref, exc)
                    continue
            self._open_draft[project_ref] = (int(draft_id), party_id, currency)
            self._unverified.discard(int(draft_id))
            return draft_id
        raise AssertionError("unreachable")

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Add `lines` to the draft invoice in one create call (one transaction: all or none).

        Every line needs a concord_ref (what makes a retried batch add nothing twice): the
        field is unique where set, so the lines are created without asking first; when the
        ERP refuses, one search finds the refs it already has (on any invoice) and only the
        others are created. Returns concord_ref -> line id for all of them. Products and
        categories are cached for REFERENCE_DATA_SECONDS, the invoice's currency for the
        connector's life (Tryton freezes it once the invoice has lines), so a batch costs one
        call when they are known. An invoice that is no longer a draft, an unknown service
        item or a line priced in another currency is a ValidationFailed and adds nothing.
        """
        id_ = names.record_id(invoice_id, "invoice")
        if len(lines) > INVOICE_LINE_BATCH_LIMIT:
            raise ValidationFailed(f"{len(lines)} invoice lines in one call; at most {INVOICE_LINE_BATCH_LIMIT}")
        wanted: dict[str, InvoiceLine] = {}
        for line in lines:
            if not (line.concord_ref and line.concord_ref.strip()):
                raise ValidationFailed(
                    f"invoice line {line.description!r} has no concord_ref: the ERP needs it to add each line once"
                )
            wanted.setdefault(line.concord_ref.strip(), line)
        if not wanted:
            return {}
        try:
            return self._create_lines(id_, wanted)
        except TrytonPermanentError as exc:
            if exc.kind != "UserError":
                raise
            refused = exc
        # Refused: a line the ERP has already (concord_ref is unique), or the invoice is no draft.
        found = self._lines_by_ref(wanted)
        missing = {ref: line for ref, line in wanted.items() if ref not in found}
        if not missing:
            return found
        if found:
            logger.info("tryton erp invoice %s: %d of the lines were there already", id_, len(found))
            try:
                return {**found, **self._create_lines(id_, missing)}
            except TrytonPermanentError as exc:
                if exc.kind != "UserError":
                    raise
                refused = exc
        self._draft_currency.pop(id_, None)
        self._refuse_unless_draft(id_, refused)
        raise ValidationFailed(f"ERP refused the invoice lines: {refused}") from refused

    def _create_lines(self, invoice_id: int, lines: dict[str, InvoiceLine]) -> dict[str, str]:
        """One create of the lines (one transaction); concord_ref -> new line id."""
        currency, currency_id = self._draft_header(invoice_id)
        products = self._reference_products(line.service_item for line in lines.values())
        accounts, taxes = self._category_accounts(products.values())
        taxes_by_code = self._taxes_by_code({line.tax_code for line in lines.values() if line.tax_code})
        values = [
            mapping.to_tryton_invoice_line_values(
                line,
                currency=currency,
                currency_id=currency_id,
                list_price_currency=self.company_currency()[0],
                products=products,
                revenue_accounts=accounts,
                customer_taxes=taxes,
                invoice_id=invoice_id,
                taxes_by_code=taxes_by_code,
            )
            for line in lines.values()
        ]
        # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.create
        ids = self.client.create(Model.INVOICE_LINE, values)
        logger.info("tryton erp added %d lines to invoice %s", len(ids), invoice_id)
        return {ref: str(i) for ref, i in zip(lines, ids, strict=True)}

    def _refuse_unless_draft(self, invoice_id: int, refused: TrytonPermanentError) -> None:
        """Raise when the invoice is no longer a draft: DraftClosed when its id came from the
        cache of open drafts (posted since: the next open_invoice_draft opens a new one), else
        ValidationFailed."""
        state = lookups.read_one(self.client, Model.INVOICE, invoice_id, ["state"], "invoice", [["type", "=", "out"]])[
            "state"
        ]
        if state == "draft":
            return
        self._open_draft = {ref: draft for ref, draft in self._open_draft.items() if draft[0] != invoice_id}
        if invoice_id in self._unverified:
            self._unverified.discard(invoice_id)
            raise DraftClosed(f"ERP invoice {invoice_id} was {state} meanwhile: open a new draft") from refused
        raise ValidationFailed(
            f"ERP invoice {invoice_id} is {state}: lines can only be added to a draft invoice (open a new one)"
        ) from refused

    def _open_drafts(self, project_ref: str) -> tuple[list[dict[str, Any]], int]:
        """The project's open-draft invoices still in draft (oldest first), and the highest
        n used by any of its "<ref>:open:<n>" invoices."""
        prefix = f"{project_ref}{OPEN_DRAFT_MARK}"
        rows = lookups.search_read(
            self.client,
            Model.INVOICE,
            [[CONCORD_REF, "like", f"{prefix}%"], ["type", "=", "out"]],
            [CONCORD_REF, "state", "party", "currency", "currency.code"],
            order=[("id", "ASC")],
            active_test=False,
        )
        # LIKE also matches other refs where the project ref has % or _: keep exact ones.
        mine = [
            (int(r[CONCORD_REF][len(prefix) :]), r)
            for r in rows
            if r[CONCORD_REF].startswith(prefix) and r[CONCORD_REF][len(prefix) :].isdigit()
        ]
        drafts = [r for _, r in sorted(mine, key=lambda m: m[0]) if r["state"] == "draft"]
        return drafts, max((n for n, _ in mine), default=0)

    def _checked_draft(self, row: dict[str, Any], party_id: int, currency: str, project_ref: str) -> str:
        code = row["currency."]["code"]
        if row["party"] != party_id or code != currency:
            raise ValidationFailed(
                f"the open draft invoice {row['id']} of project {project_ref!r} is for "
                f"customer {row['party']} in {code}, not customer {party_id} in {currency}"
            )
        self._draft_currency[int(row["id"])] = (code, int(row["currency"]))
        return str(row["id"])

    def _create_draft(self, party_id: int, currency: str, project_ref: str, concord_ref: str) -> int:
        party = lookups.read_one(
            self.client, Model.PARTY, party_id, ["customer_payment_term", "account_receivable"], "customer"
        )
        addresses = lookups.party_addresses(self.client, party_id)
        if not addresses:
            raise ValidationFailed(f"ERP customer {party_id} has no address to invoice")
        currency_id = self.currency_id(currency)
        values = {
            "type": "out",
            "party": party_id,
            "invoice_address": addresses[0]["id"],
            "currency": currency_id,
            "journal": self.revenue_journal(),
            "account": party.get("account_receivable") or self.default_receivable(),
            "reference": project_ref,
            CONCORD_REF: concord_ref,
        }
        if party.get("customer_payment_term"):
            values["payment_term"] = party["customer_payment_term"]
        (invoice_id,) = self.client.create(Model.INVOICE, [values])
        self._draft_currency[int(invoice_id)] = (currency, currency_id)
        logger.info("tryton erp opened draft invoice id=%s concord_ref=%s", invoice_id, concord_ref)
        return int(invoice_id)

    def _draft_header(self, invoice_id: int) -> tuple[str, int]:
        """(currency code, id) of a draft customer invoice; ValidationFailed when it is not
        a draft (cached: only read the first time)."""
        if invoice_id not in self._draft_currency:
            row = lookups.read_one(
                self.client,
                Model.INVOICE,
                invoice_id,
                ["state", "currency", "currency.code"],
                "invoice",
                [["type", "=", "out"]],
            )
            if row["state"] != "draft":
                raise ValidationFailed(
                    f"ERP invoice {invoice_id} is {row['state']}: lines can only be added to "
                    "a draft invoice (open a new one)"
                )
            self._draft_currency[invoice_id] = (row["currency."]["code"], int(row["currency"]))
        return self._draft_currency[invoice_id]

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Of these line refs, those on a customer invoice that is not cancelled, with the
        line's quantity (one search)."""
        if not concord_refs:
            return {}
        rows = lookups.search_read(
            self.client,
            Model.INVOICE_LINE,
            [[CONCORD_REF, "in", sorted(set(concord_refs))], ["invoice.state", "!=", "cancelled"]],
            [CONCORD_REF, "quantity"],
        )
        return {r[CONCORD_REF]: float(r["quantity"]) for r in rows}

    def _lines_by_ref(self, refs: Iterable[str]) -> dict[str, str]:
        rows = lookups.search_read(self.client, Model.INVOICE_LINE, [[CONCORD_REF, "in", sorted(refs)]], [CONCORD_REF])
        return {r[CONCORD_REF]: str(r["id"]) for r in rows}

    def _reference_products(self, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        wanted = set(codes)
        stale = sorted(
            c for c in wanted if not (c in self._products and now - self._products[c][0] < REFERENCE_DATA_SECONDS)
        )
        if stale:
            for code, row in lookups.product_by_code(self.client, stale).items():
                self._products[code] = (now, row)
        return {c: self._products[c][1] for c in wanted}

    def _taxes_by_code(self, codes: set[str]) -> dict[str, int]:
        """The ERP's customer taxes (account.tax) by name, for the lines' tax codes; all must exist."""
        if not codes:
            return {}
        rows = lookups.search_read(self.client, Model.TAX, [["name", "in", sorted(codes)]], ["name"])
        found = {r["name"]: int(r["id"]) for r in rows}
        if missing := sorted(codes - set(found)):
            raise ValidationFailed(f"no tax named {', '.join(map(repr, missing))} in the ERP: check the tax codes")
        return found

    def _category_accounts(self, products: Iterable[dict[str, Any]]) -> tuple[dict[int, int], dict[int, list[int]]]:
        now = time.monotonic()
        wanted = {p["account_category"] for p in products if p.get("account_category")}
        stale = sorted(
            c for c in wanted if not (c in self._categories and now - self._categories[c][0] < REFERENCE_DATA_SECONDS)
        )
        if stale:
            for row in lookups.search_read(
                self.client, "product.category", [["id", "in", stale]], ["account_revenue", "customer_taxes"]
            ):
                self._categories[row["id"]] = (now, row)
        rows = [self._categories[c][1] for c in wanted if c in self._categories]
        return (
            {r["id"]: r["account_revenue"] for r in rows if r.get("account_revenue")},
            {r["id"]: r.get("customer_taxes") or [] for r in rows},
        )
