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
        removal = RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY
        common = dict(
            # Where data is retained (prod), nobody deletes a table by mistake either; dev stacks
            # are torn down with their tables, which protection would block.
            deletion_protection=retain,
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            removal_policy=removal,
        )
        # Layout expected by Powertools' DynamoDBPersistenceLayer (key "id", TTL "expiration").
        self.idempotency = dynamodb.Table(
            self,
            "Idempotency",
            table_name=names.idempotency_table,
            partition_key=dynamodb.Attribute(name="id", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expiration",
            **common,
        )
        # See concord.stores.registry for the item layout and its index.
        self.xref = dynamodb.Table(
            self,
            "CrossReferences",
            table_name=names.xref_table,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            **common,
        )
        # Polling checkpoints (concord.stores.checkpoints): one small item per watch.
        self.checkpoints = dynamodb.Table(
            self,
            "Checkpoints",
            table_name=names.checkpoints_table,
            partition_key=dynamodb.Attribute(name="key", type=dynamodb.AttributeType.STRING),
            **common,
        )
        # The rate budget each vendor account shares across every concurrent function
        # (concord.connectors.kit.budget): one small item per account, taken with conditional writes.
        self.rate_budget = dynamodb.Table(
            self,
            "RateBudget",
            table_name=names.rate_budget_table,
            partition_key=dynamodb.Attribute(name="key", type=dynamodb.AttributeType.STRING),
            **common,
        )
        # See concord.stores.audit for the item layout and its index.
        self.audit = dynamodb.Table(
            self,
            "Audit",
            table_name=names.audit_table,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expires_at",
            **common,
        )
        # Sparse: only link items carry object_type (every entity of a type, for reconciliation).
        self.xref.add_global_secondary_index(
            index_name=BY_OBJECT_TYPE_INDEX,
            partition_key=dynamodb.Attribute(name="object_type", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="canonical_id", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.KEYS_ONLY,
        )
        # Sparse: events, failures, unprocessed deliveries, redrives and replays by kind and time.
        self.audit.add_global_secondary_index(
            index_name=BY_KIND_INDEX,
            partition_key=dynamodb.Attribute(name="kind", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="at", type=dynamodb.AttributeType.STRING),
            projection_type=dynamodb.ProjectionType.ALL,
        )
        for table in (self.idempotency, self.xref, self.checkpoints, self.rate_budget, self.audit):
            skip_checkov(
                table,
                "CKV_AWS_119",
                "Encrypted at rest with the AWS managed KMS key (aws/dynamodb); who reads each table is "
                "decided per function by IAM. A customer-managed key adds cost and a key policy, not a boundary.",
            )


def grant_items(table: dynamodb.ITable, grantee: iam.IGrantable, *actions: str) -> iam.Grant:
    """Item actions on the table alone: Table.grant also grants them on every index (`index/*`)
    once the table has one, which functions that never read an index do not need."""
    return iam.Grant.add_to_principal(grantee=grantee, actions=list(actions), resource_arns=[table.table_arn])


def grant_index_query(table: dynamodb.ITable, index_name: str, grantee: iam.IGrantable) -> iam.Grant:
    """Query on one named index of the table."""
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=["dynamodb:Query"], resource_arns=[f"{table.table_arn}/index/{index_name}"]
    )
