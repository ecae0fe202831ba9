"""Powertools Idempotency, set up one way for every function.

The persistence layer is created once per table; decorated functions are built at call
time so no configuration is read at import.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)


@cache
def _store(table_name: str) -> DynamoDBPersistenceLayer:
    # Key attribute "id", TTL attribute "expiration": the table layout in infra (DataTables).
    return DynamoDBPersistenceLayer(table_name=table_name, key_attr="id")


def run_once(
    function: Callable[[dict[str, Any]], dict[str, Any]],
    payload: dict[str, Any],
    *,
    table_name: str,
    key_jmespath: str,
    lambda_context: Any,
    expires_after_seconds: int = 3600,
    payload_validation_jmespath: str = "",
) -> dict[str, Any]:
    """Call `function(payload)` at most once per key; a repeat returns the first result."""
    config = IdempotencyConfig(
        event_key_jmespath=key_jmespath,
        payload_validation_jmespath=payload_validation_jmespath,
        raise_on_no_idempotency_key=True,
        expires_after_seconds=expires_after_seconds,
    )
    config.register_lambda_context(lambda_context)
    # Powertools types the decorator's result as Any; it returns what `function` returns.
    once: Callable[..., dict[str, Any]] = idempotent_function(
        data_keyword_argument="payload", persistence_store=_store(table_name), config=config
    )(lambda payload: function(payload))
    return once(payload=payload)
