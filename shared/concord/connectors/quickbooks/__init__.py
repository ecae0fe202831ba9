"""QuickBooks Online (Accounting API v3): the ERP role for kind "quickbooks"."""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from .connection import QuickBooksConnection, open_client, parse_connection
from .erp import CAPABILITIES, QuickBooksErp


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> QuickBooksErp:
    """The ERP connector of the company `connection` names (the registry allows only the ERP role)."""
    settings = parse_connection(connection)
    return QuickBooksErp(open_client(connection, context, transport), settings.home_currency)


__all__ = ["CAPABILITIES", "QuickBooksConnection", "QuickBooksErp", "connect"]
