"""Salesforce (CRM) and Certinia PSA, which runs on Salesforce and shares its REST transport.

`connect(role, connection, context)` is what the connector registry calls for kind "salesforce".
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from ..registry import ConnectorContext, Role
from .connection import OrgConnection, open_client, parse_connection
from .crm import CrmFields, SalesforceCrm


class SalesforceConnection(OrgConnection):
    """The CRM role's secret: {"kind": "salesforce", "instance_url", "auth", "fields", ...}."""

    kind: Literal["salesforce"]
    fields: CrmFields = CrmFields()


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> SalesforceCrm:
    """The CRM connector of the org `connection` names (the registry allows only the CRM role)."""
    settings = parse_connection(SalesforceConnection, connection)
    client = open_client(SalesforceConnection, settings, context, transport)
    return SalesforceCrm(client, settings.fields, context.default_legal_entity)


__all__ = ["CrmFields", "SalesforceConnection", "SalesforceCrm", "connect"]
