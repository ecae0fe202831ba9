"""The local ERP: Tryton's `erp` database (account_invoice, sale...) behind Concord's ErpPort.

Customers are parties (party.party) with addresses and identifiers; invoices are customer
invoices (account.invoice, type "out"); payments are the move lines the pay wizard (or a
reconciliation tool) links to an invoice. Module docs: https://docs.tryton.org/modules-party/,
https://docs.tryton.org/modules-account-invoice/, https://docs.tryton.org/modules-account/
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from concord.domain import (
    ChangeCursor,
    Customer,
    ErpCapabilities,
    ErpCustomer,
    InvoiceDraft,
    InvoiceRecord,
    RecordChange,
)
from concord.errors import ValidationFailed
from concord.events.payloads import PaymentReceived
from concord.events.types import Address
from concord.ports import ErpPort

from . import mapping
from .mapping import CONCORD_REF, Button, Model
from .rpc import TrytonPermanentError, TrytonRpcClient

logger = logging.getLogger(__name__)

RECORD_TYPES: dict[str, tuple[str, list[object]]] = {
    "customer": (Model.PARTY, []),
    "invoice": (Model.INVOICE, [["type", "=", "out"]]),
}
# Tryton 8.2's account_invoice posts invoices and computes what is left to pay; revenue
# recognition schedules are not part of the modules activated in `erp` (nor of account_invoice).
CAPABILITIES = ErpCapabilities(revenue_schedules=False, billing_terms_per_customer=True)
_NOT_BLANK = ["OR", [CONCORD_REF, "=", None], [CONCORD_REF, "=", ""]]


class TrytonErp(ErpPort):
    """ErpPort over one TrytonRpcClient of the `erp` database (not thread-safe, as the client)."""

    def __init__(self, client: TrytonRpcClient) -> None:
        self.client = client

    @property
    def capabilities(self) -> ErpCapabilities:
        return CAPABILITIES

    # -- ChangeSource ----------------------------------------------------------------------

    def changes_since(self, record_type: str, cursor: ChangeCursor,
                      limit: int) -> Sequence[RecordChange]:
        """Customers (every party) or customer invoices modified after `cursor`, oldest first.

        An invoice's write_date moves when it is posted and when it becomes paid (the state
        changes), not when a partial payment is linked to it: see payments_since.
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

    # -- helpers ---------------------------------------------------------------------------

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
        rows = mapping.search_read(self.client, Model.CURRENCY, [["code", "=", code]], ["id"],
                                   limit=1)
        if not rows:
            raise ValidationFailed(f"currency {code!r} does not exist in the ERP")
        return int(rows[0]["id"])

    def _revenue_journal(self) -> int:
        rows = mapping.search_read(self.client, Model.JOURNAL, [["type", "=", "revenue"]], ["id"],
                                   order=[("id", "ASC")], limit=1)
        if not rows:
            raise ValidationFailed("the ERP has no revenue journal")
        return int(rows[0]["id"])

    def _default_receivable(self) -> int:
        # account.configuration is a singleton (id 1); its defaults are what the client's
        # on_change would put on the invoice.
        (config,) = self.client.call(f"model.{Model.ACCOUNT_CONFIGURATION}.read", [1],
                                     ["default_account_receivable"])
        if not config.get("default_account_receivable"):
            raise ValidationFailed("the ERP has no default receivable account")
        return int(config["default_account_receivable"])
