"""What the ERP roles share: the account's client and connection, and the reference data they
read once (currencies, items, payment terms) through SuiteQL."""

from __future__ import annotations

from collections.abc import Iterable

from concord.errors import ValidationFailed

from .client import NetSuiteClient, suiteql_text
from .connection import NetSuiteConnection


class ErpSession:
    def __init__(self, client: NetSuiteClient, connection: NetSuiteConnection) -> None:
        self.client = client
        self.connection = connection
        self._currencies: dict[str, str] | None = None  # ISO code -> internal id
        self._items: dict[str, str] = {}  # item name/number (Concord's service item) -> internal id
        self._terms: dict[str, str] = {}  # term name -> internal id
        # Drafts opened by this connector whose sales order is not written yet (billing.py):
        # draft id -> (customer id, currency id, project ref).
        self.opened_drafts: dict[str, tuple[str, str, str]] = {}

    def currency_id(self, code: str) -> str:
        ids = self._currency_table()
        if code not in ids:
            raise ValidationFailed(f"currency {code!r} does not exist in NetSuite")
        return ids[code]

    def currency_code(self, currency_id: str) -> str:
        codes = {v: k for k, v in self._currency_table().items()}
        if currency_id not in codes:
            self._currencies = None  # a currency added since: read the table again
            codes = {v: k for k, v in self._currency_table().items()}
        return codes.get(currency_id, currency_id)

    def _currency_table(self) -> dict[str, str]:
        if self._currencies is None:
            # Currency records: `symbol` is the ISO 4217 code (e.g. USD).
            rows = self.client.query("SELECT id, symbol FROM currency ORDER BY id")
            self._currencies = {str(r["symbol"]): str(r["id"]) for r in rows}
        return self._currencies

    def item_ids(self, names: Iterable[str]) -> dict[str, str]:
        """Internal ids of items by their name/number (`itemid`); ValidationFailed names the unknown."""
        names = list(names)
        wanted = set(names) - set(self._items)
        if wanted:
            listed = ", ".join(suiteql_text(name) for name in sorted(wanted))
            for row in self.client.query(f"SELECT id, itemid FROM item WHERE itemid IN ({listed}) ORDER BY id"):
                self._items.setdefault(str(row["itemid"]), str(row["id"]))
        unknown = sorted(set(names) - set(self._items))
        if unknown:
            raise ValidationFailed(f"NetSuite has no item {', '.join(unknown)}")
        return {name: self._items[name] for name in names}

    def term_id(self, payment_term: str) -> str:
        name = self.connection.payment_terms.get(payment_term, payment_term)
        if name not in self._terms:
            rows = list(self.client.query(f"SELECT id FROM term WHERE name = {suiteql_text(name)} ORDER BY id"))
            if not rows:
                raise ValidationFailed(f"NetSuite has no payment term {name!r}")
            self._terms[name] = str(rows[0]["id"])
        return self._terms[name]
