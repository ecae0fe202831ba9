"""Certinia PSA (the `pse__` package on Salesforce): the PSA role for kind "certinia".

It shares the Salesforce connector's REST client, auth and rate budget (one budget per org host,
so a PSA in the CRM's org draws from the CRM's budget, as Salesforce counts them).
"""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from ..salesforce.connection import open_client, parse_connection
from .connection import CertiniaConnection, OrgMode, PsaFields, Stages
from .psa import CertiniaPsa


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> CertiniaPsa:
    """The PSA connector of the org `connection` names (the registry allows only the PSA role)."""
    settings = parse_connection(CertiniaConnection, connection)
    return CertiniaPsa(open_client(CertiniaConnection, settings, context, transport), settings)


__all__ = ["CertiniaConnection", "CertiniaPsa", "OrgMode", "PsaFields", "Stages", "connect"]
