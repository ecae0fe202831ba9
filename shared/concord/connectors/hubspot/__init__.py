"""HubSpot (CRM) over the date-versioned CRM API.

`connect(role, connection, context)` is what the connector registry calls for kind "hubspot".
"""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from .connection import HubSpotConnection, open_client, parse_connection
from .crm import CrmProperties, HubSpotCrm


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> HubSpotCrm:
    """The CRM connector of the portal `connection` names (the registry allows only the CRM role)."""
    settings = parse_connection(connection)
    client = open_client(settings, context, transport)
    return HubSpotCrm(client, settings.properties, context.default_legal_entity, settings.default_currency)


__all__ = ["CrmProperties", "HubSpotConnection", "HubSpotCrm", "connect"]
