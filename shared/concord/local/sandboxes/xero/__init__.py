"""The Xero Accounting API sandbox (ERP): contacts, sales invoices (DRAFT, AUTHORISED, PAID; an
update replaces the lines), payments, where/order/page, If-Modified-Since, summarizeErrors,
Idempotency-Key replays and the organisation's limits (429, Retry-After, X-Rate-Limit-Problem)."""

from .app import API_PREFIX, DEFAULT_CLIENT, FINANCE_CLIENT, ORGANISATION_ID, XeroSandbox

__all__ = ["API_PREFIX", "DEFAULT_CLIENT", "FINANCE_CLIENT", "ORGANISATION_ID", "XeroSandbox"]
