"""The local CRM: Tryton's `crm` database (sale_opportunity) behind Concord's CrmPort.

Accounts are parties (party.party), deals are opportunities (sale.opportunity). Module docs:
https://docs.tryton.org/modules-party/ and https://docs.tryton.org/modules-sale-opportunity/
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from decimal import Decimal

from concord.domain import CrmCapabilities, Customer, FinancialStatus, Opportunity
from concord.errors import ConcordError
from concord.events.payloads import OpportunityLine
from concord.ports import CrmPort

from . import lookups, mapping, names, status_notes
from .catalogue import TrytonCatalogue
from .contacts import TrytonContacts
from .names import MODIFIED_AT, Model
from .polling import RecordTypes, TrytonPolled
from .rpc import TrytonRpcClient

logger = logging.getLogger(__name__)

# changes_since: Customers (every party, including the company's own and employees') or
# opportunities modified after `cursor`, oldest first (see polling.poll_changes).
#
# A party's write_date moves when the party is saved (also when its addresses are edited
# through the party form); an address edited on its own does not touch the party.
RECORD_TYPES = RecordTypes(
    "CRM",
    {
        "customer": (Model.PARTY, [], MODIFIED_AT),
        "opportunity": (Model.OPPORTUNITY, [], MODIFIED_AT),
    },
)
# Service items are products, sold on opportunities (catalogue.py); a party's people (contacts.py).
CAPABILITIES = CrmCapabilities(service_items=True, contacts=True)
FINANCIAL_STATUS = status_notes.NotedStatus(
    Model.OPPORTUNITY, "opportunity", names.FINANCIAL_STATUS_NOTE, mapping.financial_status_note
)


class TrytonCrm(TrytonPolled, TrytonCatalogue, TrytonContacts, CrmPort):
    """CrmPort over one TrytonRpcClient of the `crm` database (not thread-safe, as the client).

    legal_entity: of every customer (a Tryton company is one legal entity; Concord's
    configuration names it, see connect())."""

    record_types = RECORD_TYPES

    def __init__(self, client: TrytonRpcClient, legal_entity: str) -> None:
        self.client = client
        self.legal_entity = legal_entity
        self._currency: str | None = None

    @property
    def capabilities(self) -> CrmCapabilities:
        return CAPABILITIES

    # -- CrmPort ---------------------------------------------------------------------------

    def get_customer(self, account_id: str) -> Customer:
        """The party with its invoice (else first) address and tax identifier.

        Currency: the party's customer currency if set, else the company's (USD locally).
        """
        party_id = names.record_id(account_id, "customer")
        # https://docs.tryton.org/modules-party/design.html#party
        party = lookups.read_one(self.client, Model.PARTY, party_id, ["name", "customer_currency.code"], "customer")
        addresses = lookups.party_addresses(self.client, party_id)
        tax_id = lookups.party_identifiers(self.client, [party_id]).get(party_id)
        currency = (party.get("customer_currency.") or {}).get("code") or self._company_currency()
        return mapping.to_customer(party, addresses[0] if addresses else None, tax_id, currency, self.legal_entity)

    def get_opportunity(self, opportunity_id: str) -> Opportunity:
        """The opportunity and its lines (service item = product code).

        Opportunity lines carry no price in Tryton: once converted, the lines and prices are
        those of the sale it created (the deal as quoted); before, the opportunity's lines at
        each product's list price.
        """
        id_ = names.record_id(opportunity_id, "opportunity")
        # https://docs.tryton.org/modules-sale-opportunity/design.html
        row = lookups.read_one(
            self.client,
            Model.OPPORTUNITY,
            id_,
            [
                "number",
                "description",
                "party",
                "amount",
                "currency.code",
                "state",
                "end_date",
                "sales",
                "employee.rec_name",
            ],
            "opportunity",
        )
        return mapping.to_opportunity(row, self._lines(row))

    def set_financial_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        """Record each deal's financial status on its opportunity, as an ir.note ("Concord
        financial status: paid (set by Concord <time>)"), one call per batch
        (status_notes). Tryton's opportunity has no such field, and its `comment` is read-only
        once it is converted or won (Tryton enforces field states on RPC writes), which is
        exactly when a financial status arrives. Idempotent: nothing is added when the newest
        such note already says this status. A note does not move the opportunity's
        write_date, so it does not echo back through changes_since.
        """
        return status_notes.write_statuses(self.client, FINANCIAL_STATUS, statuses)

    def financial_status(self, opportunity_id: str) -> FinancialStatus | None:
        """The status of the newest "Concord financial status" note on the opportunity."""
        target = lookups.resource(Model.OPPORTUNITY, names.record_id(opportunity_id, "opportunity"))
        latest = lookups.latest_note(self.client, target, names.FINANCIAL_STATUS_NOTE)
        return mapping.status_of_note(latest, names.FINANCIAL_STATUS_NOTE)

    # -- helpers ---------------------------------------------------------------------------

    def _lines(self, opportunity: dict[str, object]) -> list[OpportunityLine]:
        currency = opportunity["currency."]["code"]  # type: ignore[index]
        what = f"opportunity {opportunity['id']}"
        sales = opportunity.get("sales") or []
        if sales:
            rows = lookups.search_read(
                self.client,
                Model.SALE_LINE,
                [["sale", "in", sales], ["type", "=", "line"]],
                ["product.code", "product.rec_name", "description", "quantity", "unit_price"],
                order=[("sale", "ASC"), ("sequence", "ASC"), ("id", "ASC")],
            )
            return [mapping.to_opportunity_line(r, Decimal(r["unit_price"]), currency, what) for r in rows]
        rows = lookups.search_read(
            self.client,
            Model.OPPORTUNITY_LINE,
            [["opportunity", "=", opportunity["id"]]],
            ["product.code", "product.rec_name", "product.list_price_used", "description", "quantity"],
            order=[("sequence", "ASC"), ("id", "ASC")],
        )
        return [
            mapping.to_opportunity_line(
                r, Decimal((r.get("product.") or {}).get("list_price_used") or 0), currency, what
            )
            for r in rows
        ]

    def _company_currency(self) -> str:
        if self._currency is None:
            self._currency = lookups.company_currency(self.client)
        return self._currency
