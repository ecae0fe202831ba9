"""Tryton 8.2 as the real CRM, PSA and ERP of the local default (see docs/tryton.md)."""

from .bootstrap import REQUIREMENTS, ensure_databases, ensure_installed, restore_snapshot
from .errors import PortInUseError, TrytonLocalError
from .layout import (
    ADMIN_LOGIN,
    CONCORD_MODULE,
    DATABASE_MODULES,
    DATABASES,
    DEFAULT_PORT,
    WebhookPush,
    admin_password,
    configured_push,
)
from .server import TrytonServer, running_server, start_server, stop_server

__all__ = [
    "ADMIN_LOGIN",
    "CONCORD_MODULE",
    "DATABASES",
    "DATABASE_MODULES",
    "DEFAULT_PORT",
    "REQUIREMENTS",
    "PortInUseError",
    "TrytonLocalError",
    "TrytonServer",
    "WebhookPush",
    "admin_password",
    "configured_push",
    "ensure_databases",
    "ensure_installed",
    "restore_snapshot",
    "running_server",
    "start_server",
    "stop_server",
]
