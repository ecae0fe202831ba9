"""What every store does with DynamoDB's low-level client: typed values in and out, paged reads,
conditional puts, partial updates. Stores take a boto3 DynamoDB *client* and a table name, so the
same store serves the Lambda functions (concord.aws.clients), the operator commands and tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
# BatchGetItem reads at most this many keys per call.
BATCH_GET_MAX_KEYS = 100
BATCH_WRITE_MAX_ITEMS = 25


def typed(item: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values → DynamoDB's typed form; None values are left out (no attribute)."""
    return {key: _SERIALIZER.serialize(value) for key, value in item.items() if value is not None}


def plain(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _DESERIALIZER.deserialize(value) for key, value in item.items()}


def sortable(moment: dt.datetime) -> str:
    """An instant as ISO-8601 UTC with microseconds: strings of this one format sort like the
    instants they name (what index sort keys and `BETWEEN` rely on)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class Table:
    """One table through the low-level client (plain values at this boundary)."""

    def __init__(self, client: Any, name: str) -> None:
        self.client = client
        self.name = name

    def get(self, pk: str, sk: str | None = None, *, key_name: str = "pk") -> dict[str, Any] | None:
        key = {key_name: pk} if sk is None else {"pk": pk, "sk": sk}
        item = self.client.get_item(TableName=self.name, Key=typed(key)).get("Item")
        return plain(item) if item else None

    def put(
        self,
        item: Mapping[str, Any],
        *,
        if_absent: bool = False,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> bool:
        """Write the item; with `if_absent` only when no item has its key, with `condition` only
        when it holds (False when the condition fails)."""
        kwargs: dict[str, Any] = {}
        if if_absent:
            condition = "attribute_not_exists(pk)"
        if condition:
            kwargs["ConditionExpression"] = condition
        if values:
            kwargs["ExpressionAttributeValues"] = typed(values)
        try:
            self.client.put_item(TableName=self.name, Item=typed(item), **kwargs)
        except ClientError as error:
            if condition and is_conditional_failure(error):
                return False
            raise
        return True

    def update(self, pk: str, sk: str, values: Mapping[str, Any]) -> None:
        """SET the given attributes (None values are skipped) of an existing or new item."""
        values = {k: v for k, v in values.items() if v is not None}
        if not values:
            return
        self.client.update_item(
            TableName=self.name,
            Key=typed({"pk": pk, "sk": sk}),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in values),
            ExpressionAttributeNames={f"#{k}": k for k in values},
            ExpressionAttributeValues={f":{k}": _SERIALIZER.serialize(v) for k, v in values.items()},
        )

    def query(
        self,
        key_condition: str,
        values: Mapping[str, Any],
        *,
        index: str | None = None,
        filter_expression: str | None = None,
        names: Mapping[str, str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every item a Query returns, page after page."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_condition,
            "ExpressionAttributeValues": typed(values),
        }
        if index:
            kwargs["IndexName"] = index
        if filter_expression:
            kwargs["FilterExpression"] = filter_expression
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        for page in self.client.get_paginator("query").paginate(**kwargs):
            yield from (plain(item) for item in page["Items"])

    def query_prefix(self, pk: str, sk_prefix: str) -> list[dict[str, Any]]:
        return list(self.query("pk = :pk AND begins_with(sk, :sk)", {":pk": pk, ":sk": sk_prefix}))

    def scan(self) -> Iterator[dict[str, Any]]:
        for page in self.client.get_paginator("scan").paginate(TableName=self.name):
            yield from (plain(item) for item in page["Items"])

    def batch_get(self, keys: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
        """The items of these keys that exist (any order), unprocessed keys asked again."""
        found: list[dict[str, Any]] = []
        for start in range(0, len(keys), BATCH_GET_MAX_KEYS):
            request = {self.name: {"Keys": [typed(k) for k in keys[start : start + BATCH_GET_MAX_KEYS]]}}
            while request:
                response = self.client.batch_get_item(RequestItems=request)
                found.extend(plain(item) for item in response["Responses"].get(self.name, []))
                request = response.get("UnprocessedKeys") or {}
        return found

    def batch_put(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Write the items, 25 a BatchWriteItem call (not atomic: each item is a put of its
        own), unprocessed items sent again. Items of one key are written once, the last of them:
        BatchWriteItem refuses a request naming a key twice (a record delivered twice in a batch)."""
        # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html
        items = list({(item["pk"], item.get("sk")): item for item in items}.values())
        for start in range(0, len(items), BATCH_WRITE_MAX_ITEMS):
            chunk = items[start : start + BATCH_WRITE_MAX_ITEMS]
            request = {self.name: [{"PutRequest": {"Item": typed(item)}} for item in chunk]}
            while request:
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    def transact_put(self, items: Sequence[Mapping[str, Any]]) -> None:
        """Write all items or none."""
        self.client.transact_write_items(
            TransactItems=[{"Put": {"TableName": self.name, "Item": typed(item)}} for item in items]
        )
