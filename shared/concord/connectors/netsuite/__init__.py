"""NetSuite (REST record service + SuiteQL): the ERP role for kind "netsuite"."""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from .connection import NetSuiteConnection, open_client, parse_connection
from .erp import NetSuiteErp, capabilities


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> NetSuiteErp:
    """The ERP connector of the account `connection` names (the registry allows only the ERP role)."""
    settings = parse_connection(connection)
    return NetSuiteErp(open_client(settings, context, transport), settings)


__all__ = ["NetSuiteConnection", "NetSuiteErp", "capabilities", "connect"]
