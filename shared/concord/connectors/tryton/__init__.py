"""Tryton JSON-RPC connector: how Concord reaches the local CRM, PSA and ERP (Tryton 8.2)."""

from .rpc import TrytonError, TrytonPermanentError, TrytonRpcClient, TrytonTransientError

__all__ = ["TrytonError", "TrytonPermanentError", "TrytonRpcClient", "TrytonTransientError"]
