"""The Business Central API v2.0 sandbox (ERP): companies, customers, sales invoices and their
lines and posting, customer payments, OData paging, ETags, `$batch`, 429 and subscriptions."""

from .app import (
    DEFAULT_CLIENT,
    ENTRA_TENANT,
    ENVIRONMENT,
    FINANCE_CLIENT,
    SCOPE,
    BusinessCentralSandbox,
)
from .company import DEFAULT_COMPANY_ID

__all__ = [
    "DEFAULT_CLIENT",
    "DEFAULT_COMPANY_ID",
    "ENTRA_TENANT",
    "ENVIRONMENT",
    "FINANCE_CLIENT",
    "SCOPE",
    "BusinessCentralSandbox",
]
