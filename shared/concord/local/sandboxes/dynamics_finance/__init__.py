"""A stateful Dynamics 365 Finance sandbox (OData data entities, $batch, Entra ID tokens)
playing one environment per tenant."""

from .app import (
    DEFAULT_COMPANY,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    Environment,
    FinanceSandbox,
)

__all__ = ["DEFAULT_COMPANY", "DEMO_CLIENT_ID", "DEMO_CLIENT_SECRET", "Environment", "FinanceSandbox"]
