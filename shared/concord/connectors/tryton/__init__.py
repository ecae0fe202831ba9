"""Tryton JSON-RPC connector: Concord's CRM, PSA and ERP over Tryton 8.2 databases, with
Concord's own Tryton module (module/concord_sync) that the databases activate."""

from .connection import TrytonConnection, connect
from .crm import TrytonCrm
from .erp import TrytonErp
from .names import AmbiguousMatch, RecordNotFound
from .psa import TrytonPsa
from .rpc import TrytonError, TrytonLoginRefused, TrytonPermanentError, TrytonRpcClient, TrytonTransientError

__all__ = [
    "AmbiguousMatch",
    "RecordNotFound",
    "TrytonConnection",
    "TrytonCrm",
    "TrytonErp",
    "TrytonError",
    "TrytonLoginRefused",
    "TrytonPermanentError",
    "TrytonPsa",
    "TrytonRpcClient",
    "TrytonTransientError",
    "connect",
]
