"""Which webhook deliveries were published: one DynamoDB write per new delivery.

Powertools Idempotency spends two writes on every delivery (PutItem IN_PROGRESS, then UpdateItem
COMPLETED with the stored response) so that a replay gets the stored response back. Ingress does
not need either: its answer is computed from the delivery itself (event ids derive from the
delivery id), and a record written only *after* PutEvents succeeded means "published", so a
record is never seen for a delivery that is not on the bus. The cost is at the edges, not in
what gets applied:

- two copies of one delivery arriving at the same moment both miss the record and both publish;
  the bus then carries the same event id twice, which every consumer already dedupes (EventBridge
  and SQS deliver at least once anyway);
- the same id with another body arriving at the same moment is published before the conflict is
  seen; the later record write reports it.

Records live in the idempotency table (key `id`, TTL attribute `expiration`: infra DataTables).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from ..errors import PermanentError, TransientError
from .clients import client


class LedgerUnavailable(TransientError):
    """The idempotency table could not be read or written; nothing was acknowledged."""


class DeliveryContentConflict(PermanentError):
    """This delivery id was already published with a different body."""


@dataclass(frozen=True)
class DeliveryLedger:
    table_name: str
    remember_seconds: int

    @staticmethod
    def key(source: str, delivery_id: str) -> str:
        # Hashed: vendor delivery ids have no length bound, DynamoDB keys do (2 KB).
        digest = hashlib.sha256(f"{source}\0{delivery_id}".encode()).hexdigest()
        return f"webhook#{digest}"

    def published(self, source: str, delivery_id: str, body_sha256: str, *, now: int) -> bool:
        """Whether this delivery was published before (a strongly consistent read, 1 RRU).

        Raises DeliveryContentConflict if it was, with another body. A record past its expiry
        that DynamoDB's TTL has not yet deleted counts as absent, as it would once deleted."""
        # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_GetItem.html
        try:
            item = (
                client("dynamodb")
                .get_item(
                    TableName=self.table_name,
                    Key={"id": {"S": self.key(source, delivery_id)}},
                    ConsistentRead=True,
                    ProjectionExpression="#sha, #exp",
                    ExpressionAttributeNames={"#sha": "body_sha256", "#exp": "expiration"},
                )
                .get("Item")
            )
        except (BotoCoreError, ClientError) as error:
            raise LedgerUnavailable(f"idempotency table unreachable: {type(error).__name__}") from error
        if item is None or int(item["expiration"]["N"]) <= now:
            return False
        if item["body_sha256"]["S"] != body_sha256:
            raise DeliveryContentConflict("this delivery id was already received with a different body")
        return True

    def remember(self, source: str, delivery_id: str, body_sha256: str, *, now: int) -> None:
        """Record a delivery once it is on the bus (one conditional PutItem, 1 WRU).

        The condition lets the same body overwrite (a concurrent copy) and refuses another body
        under a live record: that raises DeliveryContentConflict."""
        # https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_PutItem.html
        # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html
        try:
            client("dynamodb").put_item(
                TableName=self.table_name,
                Item={
                    "id": {"S": self.key(source, delivery_id)},
                    "body_sha256": {"S": body_sha256},
                    "expiration": {"N": str(now + self.remember_seconds)},
                },
                ConditionExpression="attribute_not_exists(#id) OR #exp <= :now OR #sha = :sha",
                ExpressionAttributeNames={"#id": "id", "#exp": "expiration", "#sha": "body_sha256"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":sha": {"S": body_sha256}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise DeliveryContentConflict("this delivery id was published with a different body") from error
            raise LedgerUnavailable(f"idempotency table unreachable: {type(error).__name__}") from error
        except BotoCoreError as error:
            raise LedgerUnavailable(f"idempotency table unreachable: {type(error).__name__}") from error
