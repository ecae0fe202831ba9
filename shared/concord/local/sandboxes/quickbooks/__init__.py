"""The QuickBooks Online sandbox (ERP): customers, service items, terms, estimates, invoices,
payments, the query language, `/batch`, `/cdc`, requestid replay, SyncToken conflicts, Faults,
rotating refresh tokens and 429 over 10 a second (per app) or 500 a minute (per realm)."""

from .app import (
    CLIENT_ID,
    CLIENT_SECRET,
    FINANCE_CLIENT_ID,
    FINANCE_CLIENT_SECRET,
    FIRST_REFRESH_TOKENS,
    REALM_ID,
    QuickBooksSandbox,
)

__all__ = [
    "CLIENT_ID",
    "CLIENT_SECRET",
    "FINANCE_CLIENT_ID",
    "FINANCE_CLIENT_SECRET",
    "FIRST_REFRESH_TOKENS",
    "REALM_ID",
    "QuickBooksSandbox",
]
