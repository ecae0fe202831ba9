"""Kantata OX (formerly Mavenlink): the PSA role for kind "kantata"."""

from __future__ import annotations

from typing import Any

import httpx

from ..registry import ConnectorContext, Role
from .connection import KantataConnection, StatusKeys, open_client, parse_connection
from .psa import KantataPsa


def connect(
    role: Role, connection: dict[str, Any], context: ConnectorContext, transport: httpx.BaseTransport | None = None
) -> KantataPsa:
    """The PSA connector of the account `connection` names (the registry allows only the PSA role)."""
    settings = parse_connection(connection)
    return KantataPsa(open_client(settings, context, transport), settings)


__all__ = ["KantataConnection", "KantataPsa", "StatusKeys", "connect"]
