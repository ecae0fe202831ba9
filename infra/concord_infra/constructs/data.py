"""DynamoDB tables: idempotency records, the cross-reference registry, polling checkpoints,
vendor rate budgets and the sync audit trail."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
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
        # See concord.aws.xref for the item layout.
        self.xref = dynamodb.Table(
            self,
            "CrossReferences",
            table_name=names.xref_table,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            **common,
        )
        # Polling checkpoints (concord.aws.checkpoints): one small item per watch.
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
        # See concord.aws.audit for the item layout.
        self.audit = dynamodb.Table(
            self,
            "Audit",
            table_name=names.audit_table,
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            time_to_live_attribute="expires_at",
            **common,
        )
        for table in (self.idempotency, self.xref, self.checkpoints, self.rate_budget, self.audit):
            skip_checkov(
                table,
                "CKV_AWS_119",
                "Encrypted at rest with the AWS managed KMS key (aws/dynamodb); who reads each table is "
                "decided per function by IAM. A customer-managed key adds cost and a key policy, not a boundary.",
            )
