"""DynamoDB tables: idempotency records, the cross-reference registry, polling checkpoints,
vendor rate budgets and the sync audit trail."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from concord.stores.audit import BY_KIND_INDEX
from concord.stores.registry import BY_OBJECT_TYPE_INDEX
from constructs import Construct

from concord.naming import Names

from ..nag import skip_checkov


class DataTables(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, names: Names, retain: bool) -> None:
        super().__init__(scope, construct_id)
        new_table = _TableFactory(self, retain=retain)
        # Layout expected by Powertools' DynamoDBPersistenceLayer (key "id", TTL "expiration").
        self.idempotency = new_table(
            "Idempotency", names.idempotency_table, partition_key="id", ttl_attribute="expiration"
        )
        # See concord.stores.registry for the item layout and its index.
        self.xref = new_table("CrossReferences", names.xref_table, partition_key="pk", sort_key="sk")
        # Polling checkpoints (concord.stores.checkpoints): one small item per watch.
        self.checkpoints = new_table("Checkpoints", names.checkpoints_table, partition_key="key")
        # The rate budget each vendor account shares across every concurrent function
        # (concord.connectors.kit.budget): one small item per account, taken with conditional writes.
        self.rate_budget = new_table("RateBudget", names.rate_budget_table, partition_key="key")
        # See concord.stores.audit for the item layout and its index.
        self.audit = new_table(
            "Audit", names.audit_table, partition_key="pk", sort_key="sk", ttl_attribute="expires_at"
        )
        # Sparse: only link items carry object_type (every entity of a type, for reconciliation).
        self.xref.add_global_secondary_index(
            index_name=BY_OBJECT_TYPE_INDEX,
            partition_key=_string_key("object_type"),
            sort_key=_string_key("canonical_id"),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # Sparse: events, failures, unprocessed deliveries, redrives and replays by kind and time.
        self.audit.add_global_secondary_index(
            index_name=BY_KIND_INDEX,
            partition_key=_string_key("kind"),
            sort_key=_string_key("at"),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        for table in (self.idempotency, self.xref, self.checkpoints, self.rate_budget, self.audit):
            skip_checkov(
                table,
                "CKV_AWS_119",
                "Encrypted at rest with the AWS managed KMS key (aws/dynamodb); who reads each table is "
                "decided per function by IAM. A customer-managed key adds cost and a key policy, not a boundary.",
            )


class _TableFactory:
    """Makes the stack's tables, all with the same billing, encryption, recovery and removal."""

    def __init__(self, scope: Construct, *, retain: bool) -> None:
        self._scope = scope
        self._retain = retain

    def __call__(
        self,
        construct_id: str,
        table_name: str,
        *,
        partition_key: str,
        sort_key: str | None = None,
        ttl_attribute: str | None = None,
    ) -> dynamodb.Table:
        return dynamodb.Table(
            self._scope,
            construct_id,
            table_name=table_name,
            partition_key=_string_key(partition_key),
            sort_key=_string_key(sort_key) if sort_key else None,
            time_to_live_attribute=ttl_attribute,
            # Where data is retained (prod), nobody deletes a table by mistake either; dev stacks
            # are torn down with their tables, which protection would block.
            deletion_protection=self._retain,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=RemovalPolicy.RETAIN if self._retain else RemovalPolicy.DESTROY,
        )


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


def grant_items(table: dynamodb.ITable, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
    """Item actions on the table alone: Table.grant also grants them on every index (`index/*`)
    once the table has one, which functions that never read an index do not need."""
    return iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=[table.table_arn])


def grant_index_query(table: dynamodb.ITable, index_name: str, grantee: iam.IGrantable) -> iam.Grant:
    """Query on one named index of the table."""
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=["dynamodb:Query"], resource_arns=[f"{table.table_arn}/index/{index_name}"]
    )
