"""Xero (Accounting API 2.0): the ERP role for kind "xero"."""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from .connection import XeroConnection, open_client, parse_connection
from .erp import CAPABILITIES, XeroErp


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> XeroErp:
    """The ERP connector of the organisation `connection` names (the registry allows only the ERP role)."""
    settings = parse_connection(connection)
    return XeroErp(open_client(settings, context, transport), settings.account_code)


__all__ = ["CAPABILITIES", "XeroConnection", "XeroErp", "connect"]
