"""The local CRM: Tryton's `crm` database (sale_opportunity) behind Concord's CrmPort.

Accounts are parties (party.party), deals are opportunities (sale.opportunity). Module docs:
https://docs.tryton.org/modules-party/ and https://docs.tryton.org/modules-sale-opportunity/
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from decimal import Decimal

from concord.domain import ChangeCursor, Customer, FinancialStatus, Opportunity, RecordChange
from concord.errors import ValidationFailed
from concord.events.payloads import OpportunityLine
from concord.ports import CrmPort

from . import mapping
from .mapping import Model
from .rpc import TrytonRpcClient

logger = logging.getLogger(__name__)

# record_type of changes_since -> (model, extra domain)
RECORD_TYPES: dict[str, tuple[str, list[object]]] = {
    "customer": (Model.PARTY, []),
    "opportunity": (Model.OPPORTUNITY, []),
}


class TrytonCrm(CrmPort):
    """CrmPort over one TrytonRpcClient of the `crm` database (not thread-safe, as the client)."""

    def __init__(self, client: TrytonRpcClient, legal_entity: str = "us-01") -> None:
        self.client = client
        self.legal_entity = legal_entity
        self._currency: str | None = None

    # -- ChangeSource ----------------------------------------------------------------------

    def changes_since(self, record_type: str, cursor: ChangeCursor,
                      limit: int) -> Sequence[RecordChange]:
        """Customers (every party, including the company's own and employees') or
        opportunities modified after `cursor`, oldest first (see mapping.poll_changes).

        A party's write_date moves when the party is saved (also when its addresses are edited
        through the party form); an address edited on its own does not touch the party.
        """
        if record_type not in RECORD_TYPES:
            raise ValidationFailed(
                f"CRM record type {record_type!r} unknown; known: {sorted(RECORD_TYPES)}")
        model, domain = RECORD_TYPES[record_type]
        return mapping.poll_changes(self.client, model, record_type, cursor, limit, domain)

    # -- CrmPort ---------------------------------------------------------------------------

    def get_customer(self, account_id: str) -> Customer:
        """The party with its invoice (else first) address and tax identifier.

        Currency: the party's customer currency if set, else the company's (USD locally).
        """
        party_id = mapping.record_id(account_id, "customer")
        # https://docs.tryton.org/modules-party/design.html#party
        party = mapping.read_one(self.client, Model.PARTY, party_id,
                                 ["name", "customer_currency.code"], "customer")
        addresses = mapping.party_addresses(self.client, party_id)
        tax_id = mapping.party_identifiers(self.client, [party_id]).get(party_id)
        currency = (party.get("customer_currency.") or {}).get("code") or self._company_currency()
        return mapping.to_customer(party, addresses[0] if addresses else None, tax_id,
                                   currency, self.legal_entity)

    def get_opportunity(self, opportunity_id: str) -> Opportunity:
        """The opportunity and its lines (service item = product code).

        Opportunity lines carry no price in Tryton: once converted, the lines and prices are
        those of the sale it created (the deal as quoted); before, the opportunity's lines at
        each product's list price.
        """
        id_ = mapping.record_id(opportunity_id, "opportunity")
        # https://docs.tryton.org/modules-sale-opportunity/design.html
        row = mapping.read_one(
            self.client, Model.OPPORTUNITY, id_,
            ["number", "description", "party", "amount", "currency.code", "state", "end_date",
             "sales"], "opportunity")
        return mapping.to_opportunity(row, self._lines(row))

    def set_financial_status(self, opportunity_id: str, status: FinancialStatus) -> None:
        """Record the deal's financial status on the opportunity, as an ir.note.

        Tryton's opportunity has no such field, and its `comment` is read-only once it is
        converted or won (Tryton enforces field states on RPC writes), which is exactly when a
        financial status arrives. So Concord attaches a note ("Concord financial status: paid
        (set by Concord <time>)"), visible in the client's Notes. Idempotent: nothing is added
        when the newest such note already says this status. A note does not move the
        opportunity's write_date, so it does not echo back through changes_since.
        """
        id_ = mapping.record_id(opportunity_id, "opportunity")
        mapping.read_one(self.client, Model.OPPORTUNITY, id_, ["id"], "opportunity")
        target = mapping.resource(Model.OPPORTUNITY, id_)
        latest = mapping.latest_note(self.client, target, mapping.FINANCIAL_STATUS_NOTE)
        if mapping.status_of_note(latest, mapping.FINANCIAL_STATUS_NOTE) == status:
            return
        mapping.add_note(self.client, target, mapping.financial_status_note(status))

    def financial_status(self, opportunity_id: str) -> FinancialStatus | None:
        """The status of the newest "Concord financial status" note on the opportunity."""
        target = mapping.resource(Model.OPPORTUNITY, mapping.record_id(opportunity_id, "opportunity"))
        latest = mapping.latest_note(self.client, target, mapping.FINANCIAL_STATUS_NOTE)
        return mapping.status_of_note(latest, mapping.FINANCIAL_STATUS_NOTE)

    # -- helpers ---------------------------------------------------------------------------

    def _lines(self, opportunity: dict[str, object]) -> list[OpportunityLine]:
        currency = opportunity["currency."]["code"]  # type: ignore[index]
        what = f"opportunity {opportunity['id']}"
        sales = opportunity.get("sales") or []
        if sales:
            rows = mapping.search_read(
                self.client, Model.SALE_LINE, [["sale", "in", sales], ["type", "=", "line"]],
                ["product.code", "product.rec_name", "description", "quantity", "unit_price"],
                order=[("sale", "ASC"), ("sequence", "ASC"), ("id", "ASC")])
            return [mapping.to_opportunity_line(r, Decimal(r["unit_price"]), currency, what)
                    for r in rows]
        rows = mapping.search_read(
            self.client, Model.OPPORTUNITY_LINE, [["opportunity", "=", opportunity["id"]]],
            ["product.code", "product.rec_name", "product.list_price_used", "description",
             "quantity"], order=[("sequence", "ASC"), ("id", "ASC")])
        return [mapping.to_opportunity_line(
            r, Decimal((r.get("product.") or {}).get("list_price_used") or 0), currency, what)
            for r in rows]

    def _company_currency(self) -> str:
        if self._currency is None:
            self._currency = mapping.company_currency(self.client)
        return self._currency
