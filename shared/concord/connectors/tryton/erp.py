"""The local ERP: Tryton's `erp` database (account_invoice, sale...) behind Concord's ErpPort.

Customers are parties (party.party) with addresses and identifiers; invoices are customer
invoices (account.invoice, type "out"); payments are the move lines the pay wizard (or a
reconciliation tool) links to an invoice. Module docs: https://docs.tryton.org/modules-party/,
https://docs.tryton.org/modules-account-invoice/, https://docs.tryton.org/modules-account/
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from concord.domain import (
    ChangeCursor,
    ContractTerms,
    Customer,
    CustomerUpdate,
    ErpCapabilities,
    ErpCustomer,
    ForecastLine,
    InvoiceDraft,
    InvoiceLine,
    InvoiceRecord,
    ProjectForecast,
    RecordChange,
)
from concord.errors import ValidationFailed
from concord.events.payloads import (
    ContractType,
    InvoicePosted,
    Milestone,
    PaymentReceived,
)
from concord.events.types import Address, Money
from concord.ports import ErpPort

from . import mapping
from .mapping import CONCORD_REF, Button, Model
from .rpc import TrytonPermanentError, TrytonRpcClient

logger = logging.getLogger(__name__)

# Move lines that may pay a customer invoice: its payment lines (the pay wizard), or lines of
# another move reconciled with a receivable (a booked bank receipt); payment_received decides.
PAYMENT_CANDIDATES: list[object] = [
    "OR", [["invoice_payment", "!=", None], ["invoice_payment.type", "=", "out"]],
    [["reconciliation", "!=", None], ["account.type.receivable", "=", True],
     ["credit", ">", 0]],
]
RECORD_TYPES: dict[str, tuple[str, list[object]]] = {
    "customer": (Model.PARTY, []),
    "invoice": (Model.INVOICE, [["type", "=", "out"]]),
    "payment": (Model.MOVE_LINE, [PAYMENT_CANDIDATES]),
}
# How many lines add_invoice_lines takes in one call: a choice, not a Tryton limit. Tryton's
# create takes a list and runs it in one transaction (all or nothing); on the one-request-at-a-
# time local server, 100 lines (~1-2 s) keep other callers waiting little.
INVOICE_LINE_BATCH_LIMIT = 100
# The draft invoice Concord adds a project's lines to: concord_ref "<project ref>:open:<n>",
# n = 1, 2... (a new one once the previous is posted). See open_invoice_draft.
OPEN_DRAFT_MARK = ":open:"
# Products (list price, unit, category) and categories (revenue account, taxes) change rarely:
# add_invoice_lines reuses what it read for this long, so a batch costs two calls.
REFERENCE_DATA_SECONDS = 60.0
# Tryton 8.2's account_invoice posts invoices and computes what is left to pay; revenue
# recognition schedules are not part of the modules activated in `erp` (nor of account_invoice).
CAPABILITIES = ErpCapabilities(revenue_schedules=False, billing_terms_per_customer=True)
_NOT_BLANK = ["OR", [CONCORD_REF, "=", None], [CONCORD_REF, "=", ""]]


class TrytonErp(ErpPort):
    """ErpPort over one TrytonRpcClient of the `erp` database (not thread-safe, as the client)."""

    def __init__(self, client: TrytonRpcClient) -> None:
        self.client = client
        self._company_currency: tuple[str, int] | None = None
        self._currency_ids: dict[str, int] = {}
        self._journal: int | None = None
        self._receivable: int | None = None
        self._products: dict[str, tuple[float, dict[str, Any]]] = {}
        self._categories: dict[int, tuple[float, dict[str, Any]]] = {}
        # draft invoice id -> (currency code, currency id): what its lines are priced in
        self._draft_currency: dict[int, tuple[str, int]] = {}

    @property
    def capabilities(self) -> ErpCapabilities:
        return CAPABILITIES

    # -- ChangeSource ----------------------------------------------------------------------

    def changes_since(self, record_type: str, cursor: ChangeCursor,
                      limit: int) -> Sequence[RecordChange]:
        """Customers (every party), customer invoices or payments modified after `cursor`,
        oldest first, each with its created_at (the record's create_date: with the id, what
        names a once-per-record event as concord_sync's push names it).

        An invoice's write_date moves when it is posted and when it becomes paid (the state
        changes), not when a partial payment is linked to it: hence "payment", the move lines
        that may pay a customer invoice (its payment lines, and lines of other moves
        reconciled with a receivable account), by last_modified_at; invoice_posted and
        payment_received tell which of the records are the event. A line linked to an invoice
        long after it was created (without a reconciliation) is not seen again.
        """
        if record_type not in RECORD_TYPES:
            raise ValidationFailed(
                f"ERP record type {record_type!r} unknown; known: {sorted(RECORD_TYPES)}")
        model, domain = RECORD_TYPES[record_type]
        return mapping.poll_changes(self.client, model, record_type, cursor, limit, domain)

    # -- customers -------------------------------------------------------------------------

    def find_customer(self, *, external_ref: str | None, tax_id: str | None,
                      name: str) -> ErpCustomer | None:
        """By concord_ref (archived parties included: it is the same customer), else by tax
        identifier, else by exact name (both among active parties). Several matches for the
        tax id or the name raise AmbiguousMatch: a person has to pick."""
        # https://docs.tryton.org/modules-party/design.html#party
        if external_ref:
            if party := self._by_ref(external_ref):
                return self._erp_customer(party)
        candidates: list[dict[str, Any]] = []
        if tax_id and tax_id.strip():
            candidates = mapping.parties_by_tax_id(self.client, tax_id)
        if not candidates:
            candidates = mapping.search_read(self.client, Model.PARTY, [["name", "=", name]],
                                             ["name", CONCORD_REF], order=[("id", "ASC")])
        if not candidates:
            return None
        if len(candidates) > 1:
            raise mapping.AmbiguousMatch(
                f"{len(candidates)} ERP parties match customer {name!r} (tax id {tax_id!r}): "
                f"{[c['id'] for c in candidates]}")
        return self._erp_customer(candidates[0])

    def upsert_customer(self, customer: Customer, external_ref: str) -> ErpCustomer:
        """Create or update the party of `customer`, linked to Concord by concord_ref.

        Found by concord_ref (archived ones too: they are reactivated), else by tax
        identifier among parties not yet linked to Concord (then linked), else created in one
        call with its address and identifier. Updates name, the invoice (else first) address
        and adds the tax identifier if the party lacks it; other addresses and identifiers
        are left alone. The region is kept only when it names a subdivision seeded in Tryton.
        Idempotent: a second call with the same data writes nothing.
        """
        party = self._by_ref(external_ref)
        if party is None and customer.tax_id:
            linkable = mapping.parties_by_tax_id(self.client, customer.tax_id, extra=[_NOT_BLANK])
            if len(linkable) > 1:
                raise mapping.AmbiguousMatch(
                    f"{len(linkable)} ERP parties have tax id {customer.tax_id!r}: "
                    f"{[p['id'] for p in linkable]}")
            party = linkable[0] if linkable else None
        if party is None:
            return self._create_customer(customer, external_ref)
        party_id = int(party["id"])
        values = mapping.to_tryton_party_values(customer, external_ref)
        if "active" in party and not party["active"]:
            # An archived party's fields are read-only (DeactivableMixin states): revive first.
            self.client.write(Model.PARTY, [party_id], {"active": True})
            party = {**party, "active": True}
        if any(party.get(k) != v for k, v in values.items()):
            # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.write
            self.client.write(Model.PARTY, [party_id], values)
        if customer.billing_address:
            self._update_address(party_id, customer.billing_address)
        if customer.tax_id and not self._has_identifier(party_id, customer.tax_id):
            country = customer.billing_address.country if customer.billing_address else None
            self._create_identifier(party_id, customer.tax_id, country)
        return self._erp_customer(self._by_ref(external_ref) or party)

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        """Archive the party (active = False) and attach the reason as an ir.note
        ("Concord deactivated this customer: <reason> (<time>)"). Idempotent."""
        party_id = mapping.record_id(customer_id, "customer")
        party = mapping.read_one(self.client, Model.PARTY, party_id, ["active"], "customer")
        if party["active"]:
            self.client.write(Model.PARTY, [party_id], {"active": False})
        target = mapping.resource(Model.PARTY, party_id)
        message = f"{mapping.DEACTIVATION_NOTE}{reason.strip()}"
        latest = mapping.latest_note(self.client, target, mapping.DEACTIVATION_NOTE)
        if not (latest and latest.startswith(f"{message} (")):
            mapping.add_note(self.client, target, f"{message} ({mapping.stamp()})")

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        """Set the party's customer payment term, found by its exact name (e.g. "Net 30 days");
        an unknown name is a ValidationFailed (permanent)."""
        party_id = mapping.record_id(customer_id, "customer")
        party = mapping.read_one(self.client, Model.PARTY, party_id, ["customer_payment_term"],
                                 "customer")
        # https://docs.tryton.org/modules-account-invoice/design.html#payment-term
        terms = mapping.search_read(self.client, Model.PAYMENT_TERM,
                                    [["name", "=", payment_term]], ["id"])
        if not terms:
            raise ValidationFailed(f"no payment term named {payment_term!r} in the ERP")
        if len(terms) > 1:
            raise mapping.AmbiguousMatch(f"{len(terms)} ERP payment terms named {payment_term!r}")
        if party["customer_payment_term"] != terms[0]["id"]:
            self.client.write(Model.PARTY, [party_id], {"customer_payment_term": terms[0]["id"]})

    def get_customer(self, customer_id: str) -> ErpCustomer:
        """The party (archived ones too) with its invoice (else first) address, its tax
        identifier, and its customer currency, else the company's."""
        party_id = mapping.record_id(customer_id, "customer")
        party = mapping.read_one(self.client, Model.PARTY, party_id,
                                 ["name", CONCORD_REF, "customer_currency.code"], "customer")
        addresses = mapping.party_addresses(self.client, party_id)
        tax_id = mapping.party_identifiers(self.client, [party_id]).get(party_id)
        return mapping.to_erp_customer(party, tax_id, addresses[0] if addresses else None,
                                       self._customer_currency(party))

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        """Write the fields `changes` sets, only those that differ (a repeat writes nothing).

        name: the party's; currency: its customer currency; billing_address: its invoice
        (else first) address, as upsert_customer; tax_id: REPLACES its tax identifier (the
        one get_customer reports: the first typed one, else the first untyped), kept untyped
        when Tryton cannot validate it, created when it has none.
        """
        party_id = mapping.record_id(customer_id, "customer")
        party = mapping.read_one(self.client, Model.PARTY, party_id,
                                 ["name", "customer_currency.code"], "customer")
        values: dict[str, Any] = {}
        if changes.name is not None and changes.name != party["name"]:
            values["name"] = changes.name
        if changes.currency is not None and changes.currency != self._customer_currency(party):
            values["customer_currency"] = self._currency(changes.currency)
        if values:
            self.client.write(Model.PARTY, [party_id], values)
        country = None
        if changes.billing_address is not None:
            self._update_address(party_id, changes.billing_address)
            country = changes.billing_address.country
        if changes.tax_id is not None and changes.tax_id.strip():
            self._replace_tax_id(party_id, changes.tax_id, country)

    # -- invoices --------------------------------------------------------------------------

    def create_invoice(self, draft: InvoiceDraft, *, concord_ref: str | None = None) -> InvoiceRecord:
        """Create a draft customer invoice (not posted: see post_invoice).

        With `concord_ref` (an extension of the port), an invoice already carrying it is
        returned instead, which makes a retried create idempotent; without, every call creates
        one. Lines: product by code (service item), its unit, its category's revenue account
        and customer taxes. draft.project_id goes into the invoice's `reference`, each line's
        source records into its `note`.
        """
        if concord_ref and (existing := self._invoice_by_ref(concord_ref)):
            return self.get_invoice(existing)
        party_id = mapping.record_id(draft.customer_id, "customer")
        party = mapping.read_one(self.client, Model.PARTY, party_id,
                                 ["customer_payment_term", "account_receivable"], "customer")
        addresses = mapping.party_addresses(self.client, party_id)
        if not addresses:
            raise ValidationFailed(f"ERP customer {party_id} has no address to invoice")
        products = mapping.product_by_code(self.client, (line.service_item for line in draft.lines))
        categories = sorted({p["account_category"] for p in products.values()
                             if p.get("account_category")})
        category_rows = mapping.search_read(self.client, "product.category",
                                            [["id", "in", categories]],
                                            ["account_revenue", "customer_taxes"])
        values = mapping.to_tryton_invoice_values(
            draft, party_id=party_id, invoice_address=addresses[0]["id"],
            list_price_currency=self._company()[0],
            currency_id=self._currency(draft.currency), journal_id=self._revenue_journal(),
            receivable_account=party.get("account_receivable") or self._default_receivable(),
            payment_term=party.get("customer_payment_term"), products=products,
            revenue_accounts={c["id"]: c["account_revenue"] for c in category_rows
                              if c.get("account_revenue")},
            customer_taxes={c["id"]: c.get("customer_taxes") or [] for c in category_rows},
            concord_ref=concord_ref)
        # https://docs.tryton.org/modules-account-invoice/design.html#invoice
        try:
            (invoice_id,) = self.client.create(Model.INVOICE, [values])
        except TrytonPermanentError:
            if concord_ref and (existing := self._invoice_by_ref(concord_ref)):
                return self.get_invoice(existing)  # a concurrent create won the race
            raise
        logger.info("tryton erp created invoice id=%s party=%s lines=%d", invoice_id, party_id,
                    len(draft.lines))
        return self.get_invoice(str(invoice_id))

    def post_invoice(self, invoice_id: str) -> InvoiceRecord:
        """Post the invoice (numbers it, books its move; the invoice date defaults to today).
        Idempotent: an invoice already posted or paid is returned as it is."""
        id_ = mapping.record_id(invoice_id, "invoice")
        row = mapping.read_one(self.client, Model.INVOICE, id_, ["state"], "invoice",
                               [["type", "=", "out"]])
        if row["state"] == "cancelled":
            raise ValidationFailed(f"ERP invoice {id_} is cancelled: it cannot be posted")
        if row["state"] in ("draft", "validated"):
            # https://docs.tryton.org/modules-account-invoice/usage.html (Post button)
            self.client.button(Model.INVOICE, Button.INVOICE_POST, [id_])
        return self.get_invoice(invoice_id)

    @property
    def invoice_line_batch_limit(self) -> int:
        """Lines per add_invoice_lines call (INVOICE_LINE_BATCH_LIMIT: Tryton's create takes a
        list, one transaction per call; the limit is Concord's choice)."""
        return INVOICE_LINE_BATCH_LIMIT

    def open_invoice_draft(self, customer_id: str, currency: str, project_ref: str) -> str:
        """The project's draft customer invoice, created (without lines) when none is open.

        Found by concord_ref "<project_ref>:open:<n>": the highest n whose invoice is still a
        draft. Once it is validated, posted or cancelled (by Concord or a person), the next
        call creates "<project_ref>:open:<n+1>". concord_ref is unique, so two concurrent
        calls cannot create two drafts: the loser's create fails and it returns the winner's.
        The invoice's reference is project_ref (what a person sees). A draft for another
        customer or currency is a ValidationFailed (the project changed hands: a person
        decides). One call when the draft exists.
        """
        party_id = mapping.record_id(customer_id, "customer")
        for attempt in (1, 2):
            drafts, taken = self._open_drafts(project_ref)
            if drafts:
                return self._checked_draft(drafts[-1], party_id, currency, project_ref)
            try:
                return str(self._create_draft(party_id, currency, project_ref,
                                              f"{project_ref}{OPEN_DRAFT_MARK}{taken + 1}"))
            except TrytonPermanentError as exc:
                # concord_ref is unique: a concurrent call created this draft first.
                if exc.kind != "UserError" or attempt == 2:
                    raise
                logger.info("tryton erp draft invoice of %s created concurrently: %s",
                            project_ref, exc)
        raise AssertionError("unreachable")

    def add_invoice_lines(self, invoice_id: str, lines: Sequence[InvoiceLine]) -> dict[str, str]:
        """Add `lines` to the draft invoice in one create call (one transaction: all or none).

        Every line needs a concord_ref (what makes a retried batch add nothing twice; the
        field is unique where set): one search finds the refs the ERP already has on any
        invoice, one create adds the others; returns concord_ref -> line id for all of them.
        Products and categories are cached for REFERENCE_DATA_SECONDS, the invoice's currency
        for the connector's life (Tryton freezes it once the invoice has lines), so a batch
        costs two calls when they are known. An invoice that is no longer a draft, an unknown
        service item or a line priced in another currency is a ValidationFailed and adds
        nothing.
        """
        id_ = mapping.record_id(invoice_id, "invoice")
        if len(lines) > INVOICE_LINE_BATCH_LIMIT:
            raise ValidationFailed(
                f"{len(lines)} invoice lines in one call; at most {INVOICE_LINE_BATCH_LIMIT}")
        wanted: dict[str, InvoiceLine] = {}
        for line in lines:
            if not (line.concord_ref and line.concord_ref.strip()):
                raise ValidationFailed(
                    f"invoice line {line.description!r} has no concord_ref: the ERP needs it "
                    "to add each line once")
            wanted.setdefault(line.concord_ref.strip(), line)
        if not wanted:
            return {}
        found = self._lines_by_ref(wanted)
        missing = [(ref, line) for ref, line in wanted.items() if ref not in found]
        if not missing:
            return found
        currency, currency_id = self._draft_header(id_)
        products = self._reference_products(line.service_item for _, line in missing)
        accounts, taxes = self._category_accounts(products.values())
        values = [mapping.to_tryton_invoice_line_values(
            line, currency=currency, currency_id=currency_id,
            list_price_currency=self._company()[0], products=products,
            revenue_accounts=accounts, customer_taxes=taxes, invoice_id=id_)
            for _, line in missing]
        # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.create
        try:
            ids = self.client.create(Model.INVOICE_LINE, values)
        except TrytonPermanentError as exc:
            self._draft_currency.pop(id_, None)
            if exc.kind != "UserError":
                raise
            again = self._lines_by_ref(wanted)
            if len(again) == len(wanted):  # a concurrent call added the same lines
                return again
            state = mapping.read_one(self.client, Model.INVOICE, id_, ["state"], "invoice",
                                     [["type", "=", "out"]])["state"]
            if state != "draft":
                raise ValidationFailed(
                    f"ERP invoice {id_} is {state}: lines can only be added to a draft "
                    "invoice (open a new one)") from exc
            raise ValidationFailed(f"ERP refused the invoice lines: {exc}") from exc
        logger.info("tryton erp added %d lines to invoice %s (%d already there)", len(ids), id_,
                    len(found))
        return {**found, **{ref: str(i) for (ref, _), i in zip(missing, ids, strict=True)}}

    def invoice_posted(self, invoice_id: str) -> InvoicePosted | None:
        """The customer invoice as concord_sync's push announces it once posted (same fields
        and values); None while it is a draft or validated, when cancelled, for a supplier
        invoice, or when there is no such invoice. One call."""
        id_ = mapping.record_id(invoice_id, "invoice")
        rows = mapping.search_read(self.client, Model.INVOICE, [["id", "=", id_]],
                                   mapping.INVOICE_POSTED_FIELDS, active_test=False)
        return mapping.to_invoice_posted(rows[0]) if rows else None

    def payment_received(self, payment_id: str) -> PaymentReceived | None:
        """The move line as the PaymentReceived concord_sync's push announces for it (same
        fields; invoice_amount_due is what is left to pay now), or None when it does not pay
        a posted customer invoice: a payment line of the invoice (pay wizard), or a line of
        another move, not a write-off, reconciled with the invoice's receivable line."""
        line_id = mapping.record_id(payment_id, "payment")
        rows = mapping.search_read(
            self.client, Model.MOVE_LINE, [["id", "=", line_id]],
            [*mapping.PAYMENT_LINE_FIELDS, "reconciliation", "account", "move.origin",
             "move.journal.type"])
        if not rows:
            return None
        line = rows[0]
        invoice_id = line.get("invoice_payment")
        if invoice_id is None:
            invoice_id = self._reconciled_invoice(line)
        if invoice_id is None:
            return None
        invoices = mapping.search_read(
            self.client, Model.INVOICE, [["id", "=", invoice_id]],
            ["type", "state", "currency", "currency.code", "amount_to_pay", "account"])
        if not invoices:
            return None
        return mapping.to_payment_received_as_pushed(line, invoices[0], self._company()[1])

    def get_invoice(self, invoice_id: str) -> InvoiceRecord:
        """The customer invoice; due_on is the earliest maturity date of its receivable lines
        (so None until posted)."""
        id_ = mapping.record_id(invoice_id, "invoice")
        row = mapping.read_one(self.client, Model.INVOICE, id_, mapping.INVOICE_FIELDS,
                               "invoice", [["type", "=", "out"]])
        due_on = None
        if row.get("lines_to_pay"):
            dates = [r["maturity_date"] for r in mapping.search_read(
                self.client, Model.MOVE_LINE, [["id", "in", row["lines_to_pay"]]],
                ["maturity_date"]) if r.get("maturity_date")]
            due_on = min(dates) if dates else None
        return mapping.to_invoice_record(row, due_on)

    def payments_since(self, cursor: ChangeCursor, limit: int) -> Sequence[PaymentReceived]:
        """Payments of customer invoices dated on or after the cursor's date, by (date, id).

        What Tryton gives: a payment is a move line linked to an invoice (its `payment_lines`,
        filled by the pay wizard), searchable as account.move.line `invoice_payment`. The
        cursor runs on the payment's date (received_on, the only time a PaymentReceived
        carries, so a caller can build the next cursor from the payloads: written_at =
        midnight UTC of the last received_on, ids = payment ids of that date). A payment
        entered later with an earlier date is therefore missed unless the caller polls from an
        older cursor (the payloads are idempotent on payment_id). Payments reconciled against
        an invoice without being linked to it (e.g. straight from a statement) do not appear.
        invoice_amount_due is the invoice's amount to pay now, not as of that payment.
        """
        if limit <= 0:
            return []
        since = cursor.written_at.astimezone(dt.UTC).date() if cursor.written_at.tzinfo \
            else cursor.written_at.date()
        seen = {str(i) for i in cursor.ids_at_written_at}
        # https://docs.tryton.org/modules-account/design.html#account-move-line
        rows = mapping.search_read(
            self.client, Model.MOVE_LINE,
            [["invoice_payment", "!=", None], ["invoice_payment.type", "=", "out"],
             ["date", ">=", since]],
            mapping.PAYMENT_LINE_FIELDS, order=[("date", "ASC"), ("id", "ASC")],
            limit=limit + len(seen))
        rows = [r for r in rows if not (r["date"] == since and str(r["id"]) in seen)][:limit]
        if not rows:
            return []
        invoices = {r["id"]: r for r in mapping.search_read(
            self.client, Model.INVOICE, [["id", "in", sorted({r["invoice_payment"] for r in rows})]],
            ["currency", "currency.code", "amount_to_pay", "state"])}
        return [mapping.to_payment_received(r, invoices[r["invoice_payment"]]) for r in rows]

    # -- project contract terms and cost forecast (concord.project.terms) ----------------

    def set_project_forecast(self, project_ref: str, customer_id: str,
                             forecast: ProjectForecast) -> None:
        """Replace the project's cost forecast (planned hours and cost, one line per person)
        in concord.project.terms; nothing is written when it already says the same."""
        party_id = mapping.record_id(customer_id, "customer")
        terms = self._terms(project_ref)
        current = self._forecast_of(terms) if terms else None
        if terms and current == forecast and terms["customer"] == party_id:
            return
        values: dict[str, Any] = {
            "customer": party_id, "forecast_hours": forecast.planned_hours,
            "forecast_cost": forecast.cost.amount,
            "forecast_currency": self._currency(forecast.cost.currency)}
        lines = [{"employee_id": line.employee_id, "role": line.role,
                  "planned_hours": line.planned_hours, "cost_rate": line.cost_rate.amount,
                  "currency": self._currency(line.cost_rate.currency)}
                 for line in forecast.lines]
        self._write_terms(project_ref, terms, values, "forecast_lines", lines)

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None:
        """The project's contract terms, None until set_contract_terms stored some."""
        terms = self._terms(project_ref)
        return self._contract_of(terms) if terms else None

    def set_contract_terms(self, project_ref: str, customer_id: str,
                           terms: ContractTerms) -> None:
        """Replace the project's contract type, billing owner and milestones; nothing is
        written when they are already those."""
        party_id = mapping.record_id(customer_id, "customer")
        row = self._terms(project_ref)
        if row and self._contract_of(row) == terms and row["customer"] == party_id:
            return
        values = {"customer": party_id, "contract_type": terms.contract_type.value,
                  "billing_owner": terms.billing_owner}
        milestones = [{"milestone_id": m.milestone_id, "name": m.name,
                       "amount": m.amount.amount, "currency": self._currency(m.amount.currency),
                       "due_on": m.due_on} for m in terms.milestones]
        self._write_terms(project_ref, row, values, "milestones", milestones)

    # -- helpers ---------------------------------------------------------------------------

    _TERMS_FIELDS = ("project_ref", "customer", "contract_type", "billing_owner",
                     "forecast_hours", "forecast_cost", "forecast_currency.code",
                     "milestones.milestone_id", "milestones.name", "milestones.amount",
                     "milestones.currency.code", "milestones.due_on",
                     "forecast_lines.employee_id", "forecast_lines.role",
                     "forecast_lines.planned_hours", "forecast_lines.cost_rate",
                     "forecast_lines.currency.code")

    def _terms(self, project_ref: str) -> dict[str, Any] | None:
        rows = mapping.search_read(self.client, Model.PROJECT_TERMS,
                                   [["project_ref", "=", project_ref]], self._TERMS_FIELDS,
                                   limit=1)
        return rows[0] if rows else None

    @staticmethod
    def _contract_of(row: dict[str, Any]) -> ContractTerms | None:
        if not row.get("contract_type"):
            return None
        milestones = [Milestone(milestone_id=m["milestone_id"], name=m["name"],
                                amount=Money(amount=m["amount"], currency=m["currency."]["code"]),
                                due_on=m["due_on"])
                      for m in sorted(row.get("milestones.") or [], key=lambda m: m["id"])]
        return ContractTerms(contract_type=ContractType(row["contract_type"]),
                             billing_owner=row.get("billing_owner") or "", milestones=milestones)

    @staticmethod
    def _forecast_of(row: dict[str, Any]) -> ProjectForecast | None:
        if row.get("forecast_cost") is None or not row.get("forecast_currency."):
            return None
        lines = [ForecastLine(employee_id=f["employee_id"], role=f["role"],
                              planned_hours=f["planned_hours"],
                              cost_rate=Money(amount=f["cost_rate"],
                                              currency=f["currency."]["code"]))
                 for f in sorted(row.get("forecast_lines.") or [], key=lambda f: f["id"])]
        return ProjectForecast(lines=lines, planned_hours=row["forecast_hours"] or Decimal(0),
                               cost=Money(amount=row["forecast_cost"],
                                          currency=row["forecast_currency."]["code"]))

    def _write_terms(self, project_ref: str, row: dict[str, Any] | None, values: dict[str, Any],
                     lines_field: str, lines: list[dict[str, Any]]) -> None:
        """Create the project's terms, or write them replacing every line of `lines_field`
        (one call either way, so one transaction)."""
        if row is not None:
            old = [r["id"] for r in row.get(f"{lines_field}.") or []]
            actions: list[Any] = ([["delete", old]] if old else []) + (
                [["create", lines]] if lines else [])
            self.client.write(Model.PROJECT_TERMS, [row["id"]],
                              {**values, lines_field: actions} if actions else values)
            return
        create = {"project_ref": project_ref, **values}
        if lines:
            create[lines_field] = [["create", lines]]
        try:
            self.client.create(Model.PROJECT_TERMS, [create])
        except TrytonPermanentError as exc:
            # project_ref is unique: a concurrent call created the terms first; write over them.
            if exc.kind != "UserError" or (again := self._terms(project_ref)) is None:
                raise
            self._write_terms(project_ref, again, values, lines_field, lines)

    def _open_drafts(self, project_ref: str) -> tuple[list[dict[str, Any]], int]:
        """The project's open-draft invoices still in draft (oldest first), and the highest
        n used by any of its "<ref>:open:<n>" invoices."""
        prefix = f"{project_ref}{OPEN_DRAFT_MARK}"
        rows = mapping.search_read(
            self.client, Model.INVOICE,
            [[CONCORD_REF, "like", f"{prefix}%"], ["type", "=", "out"]],
            [CONCORD_REF, "state", "party", "currency", "currency.code"],
            order=[("id", "ASC")], active_test=False)
        # LIKE also matches other refs where the project ref has % or _: keep exact ones.
        mine = [(int(r[CONCORD_REF][len(prefix):]), r) for r in rows
                if r[CONCORD_REF].startswith(prefix) and r[CONCORD_REF][len(prefix):].isdigit()]
        drafts = [r for _, r in sorted(mine, key=lambda m: m[0]) if r["state"] == "draft"]
        return drafts, max((n for n, _ in mine), default=0)

    def _checked_draft(self, row: dict[str, Any], party_id: int, currency: str,
                       project_ref: str) -> str:
        code = row["currency."]["code"]
        if row["party"] != party_id or code != currency:
            raise ValidationFailed(
                f"the open draft invoice {row['id']} of project {project_ref!r} is for "
                f"customer {row['party']} in {code}, not customer {party_id} in {currency}")
        self._draft_currency[int(row["id"])] = (code, int(row["currency"]))
        return str(row["id"])

    def _create_draft(self, party_id: int, currency: str, project_ref: str,
                      concord_ref: str) -> int:
        party = mapping.read_one(self.client, Model.PARTY, party_id,
                                 ["customer_payment_term", "account_receivable"], "customer")
        addresses = mapping.party_addresses(self.client, party_id)
        if not addresses:
            raise ValidationFailed(f"ERP customer {party_id} has no address to invoice")
        currency_id = self._currency(currency)
        values = {
            "type": "out", "party": party_id, "invoice_address": addresses[0]["id"],
            "currency": currency_id, "journal": self._revenue_journal(),
            "account": party.get("account_receivable") or self._default_receivable(),
            "reference": project_ref, CONCORD_REF: concord_ref,
        }
        if party.get("customer_payment_term"):
            values["payment_term"] = party["customer_payment_term"]
        (invoice_id,) = self.client.create(Model.INVOICE, [values])
        self._draft_currency[int(invoice_id)] = (currency, currency_id)
        logger.info("tryton erp opened draft invoice id=%s concord_ref=%s", invoice_id,
                    concord_ref)
        return int(invoice_id)

    def _draft_header(self, invoice_id: int) -> tuple[str, int]:
        """(currency code, id) of a draft customer invoice; ValidationFailed when it is not
        a draft (cached: only read the first time)."""
        if invoice_id not in self._draft_currency:
            row = mapping.read_one(self.client, Model.INVOICE, invoice_id,
                                   ["state", "currency", "currency.code"], "invoice",
                                   [["type", "=", "out"]])
            if row["state"] != "draft":
                raise ValidationFailed(
                    f"ERP invoice {invoice_id} is {row['state']}: lines can only be added to "
                    "a draft invoice (open a new one)")
            self._draft_currency[invoice_id] = (row["currency."]["code"], int(row["currency"]))
        return self._draft_currency[invoice_id]

    def billed_refs(self, concord_refs: Sequence[str]) -> dict[str, float]:
        """Of these line refs, those on a customer invoice that is not cancelled, with the
        line's quantity (one search)."""
        if not concord_refs:
            return {}
        rows = mapping.search_read(self.client, Model.INVOICE_LINE,
                                   [[CONCORD_REF, "in", sorted(set(concord_refs))],
                                    ["invoice.state", "!=", "cancelled"]],
                                   [CONCORD_REF, "quantity"])
        return {r[CONCORD_REF]: float(r["quantity"]) for r in rows}

    def _lines_by_ref(self, refs: Iterable[str]) -> dict[str, str]:
        rows = mapping.search_read(self.client, Model.INVOICE_LINE,
                                   [[CONCORD_REF, "in", sorted(refs)]], [CONCORD_REF])
        return {r[CONCORD_REF]: str(r["id"]) for r in rows}

    def _reference_products(self, codes: Iterable[str]) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        wanted = set(codes)
        stale = sorted(c for c in wanted if not (
            c in self._products and now - self._products[c][0] < REFERENCE_DATA_SECONDS))
        if stale:
            for code, row in mapping.product_by_code(self.client, stale).items():
                self._products[code] = (now, row)
        return {c: self._products[c][1] for c in wanted}

    def _category_accounts(self, products: Iterable[dict[str, Any]]
                           ) -> tuple[dict[int, int], dict[int, list[int]]]:
        now = time.monotonic()
        wanted = {p["account_category"] for p in products if p.get("account_category")}
        stale = sorted(c for c in wanted if not (
            c in self._categories and now - self._categories[c][0] < REFERENCE_DATA_SECONDS))
        if stale:
            for row in mapping.search_read(self.client, "product.category",
                                           [["id", "in", stale]],
                                           ["account_revenue", "customer_taxes"]):
                self._categories[row["id"]] = (now, row)
        rows = [self._categories[c][1] for c in wanted if c in self._categories]
        return ({r["id"]: r["account_revenue"] for r in rows if r.get("account_revenue")},
                {r["id"]: r.get("customer_taxes") or [] for r in rows})

    def _reconciled_invoice(self, line: dict[str, Any]) -> int | None:
        """The customer invoice a line of another move pays by reconciliation (as the push's
        _queue_reconciled_payments decides), else None."""
        if not line.get("reconciliation"):
            return None
        origin = (line.get("move.") or {}).get("origin") or ""
        journal = ((line.get("move.") or {}).get("journal.") or {}).get("type")
        if origin.startswith(f"{Model.INVOICE},") or journal == "write-off":
            return None  # an invoice's own move, or a write-off: not a payment
        others = mapping.search_read(
            self.client, Model.MOVE_LINE,
            [["reconciliation", "=", line["reconciliation"]], ["id", "!=", line["id"]],
             ["account", "=", line["account"]]], ["move.origin"])
        for other in others:
            other_origin = (other.get("move.") or {}).get("origin") or ""
            if other_origin.startswith(f"{Model.INVOICE},"):
                return int(other_origin.split(",", 1)[1])
        return None

    def _customer_currency(self, party: dict[str, Any]) -> str:
        return (party.get("customer_currency.") or {}).get("code") or self._company()[0]

    def _company(self) -> tuple[str, int]:
        """(code, id) of the company's currency (cached)."""
        if self._company_currency is None:
            code = mapping.company_currency(self.client)
            self._company_currency = (code, self._currency(code))
        return self._company_currency

    def _replace_tax_id(self, party_id: int, tax_id: str, country: str | None) -> None:
        rows = mapping.search_read(self.client, Model.IDENTIFIER, [["party", "=", party_id]],
                                   ["type", "code"], order=[("sequence", "ASC"), ("id", "ASC")])
        current_code = mapping.party_identifiers(self.client, [party_id]).get(party_id)
        current = next((r for r in rows if r["code"] == current_code), None)
        matching = {r["id"] for r in mapping.search_read(
            self.client, Model.IDENTIFIER,
            [["party", "=", party_id], *mapping.identifier_domain(tax_id)], ["id"])}
        if current is not None and current["id"] in matching:
            return
        if country is None:
            addresses = mapping.party_addresses(self.client, party_id)
            country = ((addresses[0].get("country.") or {}).get("code") if addresses else None)
        if current is None:
            self._create_identifier(party_id, tax_id, country)
        elif matching:
            # The new id is already one of its identifiers: drop the old tax identifier.
            self.client.call(f"model.{Model.IDENTIFIER}.delete", [current["id"]])
        else:
            def write(typed: bool) -> int:
                values = mapping.to_tryton_identifier_values(None, tax_id, country, typed=typed)
                self.client.write(Model.IDENTIFIER, [current["id"]], values)
                return int(current["id"])

            self._typed_or_plain(write, tax_id, country)

    def _by_ref(self, external_ref: str) -> dict[str, Any] | None:
        rows = mapping.search_read(self.client, Model.PARTY, [[CONCORD_REF, "=", external_ref]],
                                   ["name", CONCORD_REF, "active"], order=[("id", "ASC")],
                                   active_test=False)
        if len(rows) > 1:
            raise mapping.AmbiguousMatch(
                f"{len(rows)} ERP parties have concord_ref {external_ref!r}: "
                f"{[r['id'] for r in rows]}")
        return rows[0] if rows else None

    def _invoice_by_ref(self, concord_ref: str) -> str | None:
        rows = mapping.search_read(self.client, Model.INVOICE, [[CONCORD_REF, "=", concord_ref]],
                                   ["id"], limit=1)
        return str(rows[0]["id"]) if rows else None

    def _erp_customer(self, party: dict[str, Any]) -> ErpCustomer:
        tax_id = mapping.party_identifiers(self.client, [int(party["id"])]).get(int(party["id"]))
        return mapping.to_erp_customer(party, tax_id)

    def _create_customer(self, customer: Customer, external_ref: str) -> ErpCustomer:
        values = mapping.to_tryton_party_values(customer, external_ref)
        if customer.billing_address:
            values["addresses"] = [["create", [self._address_values(customer.billing_address)]]]
        country = customer.billing_address.country if customer.billing_address else None

        def create(typed: bool) -> int:
            if customer.tax_id:
                values["identifiers"] = [["create", [mapping.to_tryton_identifier_values(
                    None, customer.tax_id, country, typed=typed)]]]
            (party_id,) = self.client.create(Model.PARTY, [values])
            return int(party_id)

        try:
            party_id = self._typed_or_plain(create, customer.tax_id, country)
        except TrytonPermanentError:
            # concord_ref is unique: a concurrent upsert of the same customer won the race.
            if party := self._by_ref(external_ref):
                return self._erp_customer(party)
            raise
        logger.info("tryton erp created customer id=%s concord_ref=%s", party_id, external_ref)
        return mapping.to_erp_customer({"id": party_id, **values},
                                       mapping.party_identifiers(self.client, [party_id]).get(party_id))

    def _create_identifier(self, party_id: int, tax_id: str, country: str | None) -> None:
        def create(typed: bool) -> int:
            values = mapping.to_tryton_identifier_values(party_id, tax_id, country, typed=typed)
            return int(self.client.create(Model.IDENTIFIER, [values])[0])

        self._typed_or_plain(create, tax_id, country)

    @staticmethod
    def _typed_or_plain(create: Any, tax_id: str | None, country: str | None) -> int:
        """Create with a typed identifier; if Tryton refuses it (a UserError: python-stdnum
        finds the number invalid for that type), store the number without a type instead."""
        if not (tax_id and mapping.tax_identifier_type(tax_id, country)):
            return int(create(False))
        try:
            return int(create(True))
        except TrytonPermanentError as exc:
            if exc.kind != "UserError":
                raise
            logger.warning("tryton erp stores tax id %r untyped: %s", tax_id, exc)
            return int(create(False))

    def _has_identifier(self, party_id: int, tax_id: str) -> bool:
        return bool(mapping.search_read(
            self.client, Model.IDENTIFIER,
            [["party", "=", party_id], *mapping.identifier_domain(tax_id)], ["id"], limit=1))

    def _update_address(self, party_id: int, address: Address) -> None:
        rows = mapping.party_addresses(self.client, party_id)
        if not rows:
            self.client.create(Model.ADDRESS, [{"party": party_id, **self._address_values(address)}])
        elif mapping.address_differs(rows[0], address):
            self.client.write(Model.ADDRESS, [rows[0]["id"]], self._address_values(address))

    def _address_values(self, address: Address) -> dict[str, Any]:
        countries = mapping.search_read(self.client, Model.COUNTRY,
                                        [["code", "=", address.country]], ["id"], limit=1)
        if not countries:
            raise ValidationFailed(f"country {address.country!r} does not exist in the ERP")
        subdivision = None
        if address.region:
            rows = mapping.search_read(
                self.client, Model.SUBDIVISION,
                [["country", "=", countries[0]["id"]],
                 ["OR", ["code", "=", f"{address.country}-{address.region}"],
                  ["name", "=", address.region]]], ["id"], limit=1)
            subdivision = rows[0]["id"] if rows else None
        return mapping.to_tryton_address_values(address, countries[0]["id"], subdivision)

    def _currency(self, code: str) -> int:
        """The id of a currency by ISO code (cached: currencies are not renumbered)."""
        if code not in self._currency_ids:
            rows = mapping.search_read(self.client, Model.CURRENCY, [["code", "=", code]],
                                       ["id"], limit=1)
            if not rows:
                raise ValidationFailed(f"currency {code!r} does not exist in the ERP")
            self._currency_ids[code] = int(rows[0]["id"])
        return self._currency_ids[code]

    def _revenue_journal(self) -> int:
        if self._journal is None:
            rows = mapping.search_read(self.client, Model.JOURNAL, [["type", "=", "revenue"]],
                                       ["id"], order=[("id", "ASC")], limit=1)
            if not rows:
                raise ValidationFailed("the ERP has no revenue journal")
            self._journal = int(rows[0]["id"])
        return self._journal

    def _default_receivable(self) -> int:
        # account.configuration is a singleton (id 1); its defaults are what the client's
        # on_change would put on the invoice.
        (config,) = self.client.call(f"model.{Model.ACCOUNT_CONFIGURATION}.read", [1],
                                     ["default_account_receivable"])
        if not config.get("default_account_receivable"):
            raise ValidationFailed("the ERP has no default receivable account")
        return int(config["default_account_receivable"])
