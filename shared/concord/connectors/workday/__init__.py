"""Workday Financials (Workday Web Services, SOAP): the ERP role for kind "workday"."""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from .connection import WorkdayConnection, open_client, parse_connection
from .erp import CAPABILITIES, WorkdayErp


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> WorkdayErp:
    """The ERP connector of the tenant `connection` names (the registry allows only the ERP role)."""
    settings = parse_connection(connection)
    return WorkdayErp(open_client(settings, context, transport), settings.company_id)


__all__ = ["CAPABILITIES", "WorkdayConnection", "WorkdayErp", "connect"]
