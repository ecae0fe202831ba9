"""The Xero Accounting API sandbox (ERP): contacts, sales invoices (DRAFT, AUTHORISED, PAID; an
update replaces the lines), payments, where/order/page, If-Modified-Since, summarizeErrors,
Idempotency-Key replays, the organisation's limits (429, Retry-After, X-Rate-Limit-Problem), and
both auth shapes (a custom connection; an OAuth2 app whose refresh tokens rotate)."""

from .app import API_PREFIX, DEFAULT_CLIENT, FINANCE_CLIENT, ORGANISATION_ID, XeroSandbox, XeroTenant
from .identity import FIRST_REFRESH_TOKEN, OAUTH_APP

__all__ = [
    "API_PREFIX",
    "DEFAULT_CLIENT",
    "FINANCE_CLIENT",
    "FIRST_REFRESH_TOKEN",
    "OAUTH_APP",
    "ORGANISATION_ID",
    "XeroSandbox",
    "XeroTenant",
]
