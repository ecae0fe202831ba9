"""The stores' tables as the CDK app declares them (infra/concord_infra/constructs/data.py), for
moto: keys and global secondary indexes, so the stores' index queries run in unit tests."""

from __future__ import annotations

from typing import Any

from concord.stores.audit import BY_KIND_INDEX
from concord.stores.registry import BY_OBJECT_TYPE_INDEX


def _index(name: str, partition: str, sort: str, projection: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": partition, "KeyType": "HASH"}, {"AttributeName": sort, "KeyType": "RANGE"}],
        "Projection": {"ProjectionType": projection},
    }


def _pk_sk_table(dynamodb: Any, name: str, index: dict[str, Any]) -> None:
    attributes = ["pk", "sk", *(k["AttributeName"] for k in index["KeySchema"])]
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in attributes],
        GlobalSecondaryIndexes=[index],
        BillingMode="PAY_PER_REQUEST",
    )


def create_audit_table(dynamodb: Any, name: str) -> None:
    _pk_sk_table(dynamodb, name, _index(BY_KIND_INDEX, "kind", "at", "ALL"))


def create_registry_table(dynamodb: Any, name: str) -> None:
    _pk_sk_table(dynamodb, name, _index(BY_OBJECT_TYPE_INDEX, "object_type", "canonical_id", "KEYS_ONLY"))


def create_checkpoints_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "key", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "key", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
