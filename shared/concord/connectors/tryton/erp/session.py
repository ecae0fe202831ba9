"""What the ERP roles share: one client of the `erp` database and the reference data they
cache (currencies, the company's currency, the revenue journal, the default receivable)."""

from __future__ import annotations

from typing import Any

from concord.errors import ValidationFailed

from .. import lookups
from ..names import Model
from ..rpc import TrytonRpcClient


class ErpSession:
    """One TrytonRpcClient of the `erp` database (not thread-safe, as the client), and what
    every ERP role reads once."""

    def __init__(self, client: TrytonRpcClient) -> None:
        self.client = client
        self._company_pair: tuple[str, int] | None = None
        self._currency_ids: dict[str, int] = {}
        self._journal: int | None = None

    def customer_currency(self, party: dict[str, Any]) -> str:
        return (party.get("customer_currency.") or {}).get("code") or self.company_currency()[0]

    def company_currency(self) -> tuple[str, int]:
        """(code, id) of the company's currency (cached)."""
        if self._company_pair is None:
            code = lookups.company_currency(self.client)
            self._company_pair = (code, self.currency_id(code))
        return self._company_pair

    def currency_id(self, code: str) -> int:
        """The id of a currency by ISO code (cached: currencies are not renumbered)."""
        if code not in self._currency_ids:
            rows = lookups.search_read(self.client, Model.CURRENCY, [["code", "=", code]], ["id"], limit=1)
            if not rows:
                raise ValidationFailed(f"currency {code!r} does not exist in the ERP")
            self._currency_ids[code] = int(rows[0]["id"])
        return self._currency_ids[code]

    def revenue_journal(self) -> int:
        if self._journal is None:
            rows = lookups.search_read(
                self.client, Model.JOURNAL, [["type", "=", "revenue"]], ["id"], order=[("id", "ASC")], limit=1
            )
            if not rows:
                raise ValidationFailed("the ERP has no revenue journal")
            self._journal = int(rows[0]["id"])
        return self._journal

    def default_receivable(self) -> int:
        # account.configuration is a singleton (id 1); its defaults are what the client's
        # on_change would put on the invoice.
        (config,) = self.client.call(f"model.{Model.ACCOUNT_CONFIGURATION}.read", [1], ["default_account_receivable"])
        if not config.get("default_account_receivable"):
            raise ValidationFailed("the ERP has no default receivable account")
        return int(config["default_account_receivable"])
