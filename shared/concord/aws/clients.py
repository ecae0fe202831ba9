"""boto3 clients, created once per process and reused across invocations.

boto3 honours AWS_ENDPOINT_URL, which is how the same code talks to the local stack.

`client("sqs")` is typed as the SQS client (types-boto3, a dev-only package: the imports below
are for the type checker and never run); each service Concord calls has its overload.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient, DynamoDBServiceResource
    from types_boto3_events import EventBridgeClient
    from types_boto3_lambda import LambdaClient
    from types_boto3_secretsmanager import SecretsManagerClient
    from types_boto3_sqs import SQSClient
    from types_boto3_stepfunctions import SFNClient
    from types_boto3_sts import STSClient

# Fail fast and let the caller decide: webhook ingest must answer within vendor deadlines.
_CONFIG = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "standard", "max_attempts": 3},
)


@overload
def client(service: Literal["dynamodb"]) -> DynamoDBClient: ...
@overload
def client(service: Literal["events"]) -> EventBridgeClient: ...
@overload
def client(service: Literal["lambda"]) -> LambdaClient: ...
@overload
def client(service: Literal["secretsmanager"]) -> SecretsManagerClient: ...
@overload
def client(service: Literal["stepfunctions"]) -> SFNClient: ...
@overload
def client(service: Literal["sqs"]) -> SQSClient: ...
@overload
def client(service: Literal["sts"]) -> STSClient: ...
@cache
def client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def resource(service: Literal["dynamodb"]) -> DynamoDBServiceResource:
    return boto3.resource(service, config=_CONFIG)
