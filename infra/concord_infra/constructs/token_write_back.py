"""What a function connecting to an ERP that rotates its OAuth refresh token needs beyond reading
its connection (stage setting `erp_token_write_back`: QuickBooks Online, and Xero with an OAuth2 connection).

Each refresh answers a new refresh token and kills the one spent, so the connector writes the new
one back to the ERP connection secret, and only one process refreshes at a time: it holds a lock
item on the rate-budget table (key `lock#<kind>#<account>`, a conditional put to take it, a
conditional delete to release it). See concord.connectors.kit.rotation.
"""

from __future__ import annotations

from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager

# The items a refresh lock may take or release: no budget item (`budget#...`) can be overwritten.
LOCK_KEYS = "lock#*"


def grant_token_write_back(
    grantee: iam.IGrantable, erp_secret: secretsmanager.ISecret, rate_budget: dynamodb.ITable
) -> None:
    """A new version of the ERP connection secret and nothing else (no UpdateSecret, no stage
    moves: secret.grant_write would add both), and the lock items of the rate-budget table."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["secretsmanager:PutSecretValue"], resource_arns=[erp_secret.secret_arn]
    )
    grantee.grant_principal.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["dynamodb:PutItem", "dynamodb:DeleteItem"],
            resources=[rate_budget.table_arn],
            # https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
            conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [LOCK_KEYS]}},
        )
    )
