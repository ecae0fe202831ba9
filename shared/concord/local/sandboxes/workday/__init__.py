"""The Workday Web Services sandbox (ERP): Revenue_Management's customers, customer invoices
(draft and submitted) and customer payments over SOAP, with WS-Security or OAuth sign-in,
transaction-log windows, page-numbered answers and Workday's SOAP faults."""

from .app import (
    API_CLIENT,
    COMPANY,
    FINANCE_PASSWORD,
    FINANCE_USER,
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    REFRESH_TOKEN,
    SERVICE,
    WORKDAY_TENANT,
    WorkdaySandbox,
)

__all__ = [
    "API_CLIENT",
    "COMPANY",
    "FINANCE_PASSWORD",
    "FINANCE_USER",
    "INTEGRATION_PASSWORD",
    "INTEGRATION_USER",
    "REFRESH_TOKEN",
    "SERVICE",
    "WORKDAY_TENANT",
    "WorkdaySandbox",
]
