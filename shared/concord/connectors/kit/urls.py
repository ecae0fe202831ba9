"""The URL of a system a connection secret names: validated, and never shown with credentials.

A system's URL must be https. Plain http is accepted only to a loopback address (127.0.0.0/8,
::1, localhost), where the traffic never leaves the machine: that is how the local stack reaches
its systems (http://127.0.0.1:<port>), and no deployed stage has a vendor API on loopback. The
rule needs no stage or flag that a deployed secret could set by mistake.

Credentials belong in the secret's own fields, never in the URL (https://user:pass@host):
such a URL is refused, and `redacted` drops them from any URL put into a log or an error.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated
from urllib.parse import SplitResult, urlsplit

from pydantic import AfterValidator

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def secure_url(value: str) -> str:
    """`value` if it is an https URL (or http to loopback) without credentials; else ValueError.

    The messages never repeat the URL: it may hold a password."""
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        _ = parts.port  # reading the port validates it (ValueError if not a number in range)
    except ValueError:
        raise ValueError("not a URL") from None
    if parts.username is not None or parts.password is not None:
        raise ValueError("a URL must not carry credentials (user:password@): put them in the secret's fields")
    if not host:
        raise ValueError("a URL must name a host")
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(host)):
        return value
    raise ValueError("a system's URL must be https (plain http only to a loopback address)")


# A pydantic field type for the URLs of connection secrets.
SystemUrl = Annotated[str, AfterValidator(secure_url)]


def redacted(url: object) -> str:
    """`url` (a str or an httpx.URL) without user, password, query or fragment: fit for a log line."""
    try:
        parts = urlsplit(str(url))
        netloc = parts.hostname or ""
        if ":" in netloc:
            netloc = f"[{netloc}]"
        if parts.port is not None:
            netloc = f"{netloc}:{parts.port}"
    except ValueError:
        return "<unparseable URL>"
    return SplitResult(parts.scheme, netloc, parts.path, "", "").geturl()
