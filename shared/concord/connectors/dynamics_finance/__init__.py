"""Dynamics 365 Finance (finance and operations apps, OData data entities): the ERP role for kind
"dynamics_finance"."""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from .connection import FinanceConnection, open_client, parse_connection
from .erp import FinanceErp, capabilities


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> FinanceErp:
    """The ERP connector of the environment `connection` names (the registry allows only the ERP role)."""
    settings = parse_connection(connection)
    return FinanceErp(open_client(settings, context, transport), settings)


__all__ = ["FinanceConnection", "FinanceErp", "capabilities", "connect", "parse_connection"]
