"""Machinery every vendor sandbox reuses; a vendor adds its routes and schema only."""

from .budget import RequestBudget, Usage
from .control import SandboxController
from .http import BadJson, Request, Response, Router
from .oauth import OAuthClient, OAuthRefused, TokenIssuer
from .paging import Cursors, Page, page_of
from .server import Sandbox, SandboxServer
from .store import MonotonicClock, RecordStore, StoreLayout
from .tenant import Call, CallLog, Tenant, Vendor

__all__ = [
    "BadJson",
    "Call",
    "CallLog",
    "Cursors",
    "MonotonicClock",
    "OAuthClient",
    "OAuthRefused",
    "Page",
    "RecordStore",
    "Request",
    "RequestBudget",
    "Response",
    "Router",
    "Sandbox",
    "SandboxController",
    "SandboxServer",
    "StoreLayout",
    "Tenant",
    "TokenIssuer",
    "Usage",
    "Vendor",
    "page_of",
]
