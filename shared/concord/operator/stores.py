"""One stage's typed stores (concord.stores), as the operator commands read and write them.

A bundle, not a layer: commands call the stores themselves, each call inside `aws_call` (the
`audit_call` / `registry_call` shorthands below) so a refused or failed call names its table and
permission. Listing reads Query the audit trail's `by_kind` index and the entity partitions; only
the checkpoints (one item per watch) are scanned, as their store does.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ..naming import Names
from ..stores.audit import AuditTrail
from ..stores.checkpoints import Checkpoints
from ..stores.registry import Registry
from .calls import aws_call


@dataclass(frozen=True)
class StageStores:
    names: Names
    audit: AuditTrail
    registry: Registry
    checkpoints: Checkpoints

    @classmethod
    def of(cls, dynamodb: Any, names: Names) -> StageStores:
        """The stores of stage `names` over one boto3 DynamoDB (low-level) client."""
        return cls(
            names,
            AuditTrail(dynamodb, names.audit_table),
            Registry(dynamodb, names.xref_table),
            Checkpoints(dynamodb, names.checkpoints_table),
        )

    def audit_call(self, permission: str) -> AbstractContextManager[None]:
        return aws_call(f"table {self.names.audit_table}", permission)

    def registry_call(self, permission: str) -> AbstractContextManager[None]:
        return aws_call(f"table {self.names.xref_table}", permission)

    def checkpoints_call(self, permission: str) -> AbstractContextManager[None]:
        return aws_call(f"table {self.names.checkpoints_table}", permission)
