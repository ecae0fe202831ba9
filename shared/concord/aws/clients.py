"""boto3 clients, created once per process and reused across invocations.

boto3 honours AWS_ENDPOINT_URL, which is how the same code talks to the local stack.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# Fail fast and let the caller decide: webhook ingest must answer within vendor deadlines.
_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)


@cache
def resource(service: str) -> Any:
    return boto3.resource(service, config=_CONFIG)
