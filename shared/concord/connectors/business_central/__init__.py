"""Dynamics 365 Business Central (API v2.0): the ERP role for kind "business_central"."""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from .connection import BusinessCentralConnection, open_client, parse_connection
from .erp import CAPABILITIES, BusinessCentralErp
from .renewal import keep_erp_subscriptions as keep_subscriptions


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> BusinessCentralErp:
    """The ERP connector of the company `connection` names (the registry allows only the ERP role)."""
    settings = parse_connection(connection)
    return BusinessCentralErp(open_client(settings, context, transport), settings.local_currency)


__all__ = ["CAPABILITIES", "BusinessCentralConnection", "BusinessCentralErp", "connect", "keep_subscriptions"]
