"""Tryton JSON-RPC connector: how Concord reaches the local CRM, PSA and ERP (Tryton 8.2)."""

from .crm import TrytonCrm
from .erp import TrytonErp
from .mapping import AmbiguousMatch, RecordNotFound
from .psa import TrytonPsa
from .rpc import TrytonError, TrytonPermanentError, TrytonRpcClient, TrytonTransientError

__all__ = [
    "AmbiguousMatch", "RecordNotFound", "TrytonCrm", "TrytonErp", "TrytonError",
    "TrytonPermanentError", "TrytonPsa", "TrytonRpcClient", "TrytonTransientError",
]
