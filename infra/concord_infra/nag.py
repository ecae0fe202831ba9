"""cdk-nag AwsSolutions checks and checkov's suppressions. Findings are fixed in code; the few
accepted ones are acknowledged on the construct that causes them, with the reason beside it."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct, IConstruct

# Why no secret has a customer-managed key (checkov CKV_AWS_149).
SECRET_KEY_REASON = (
    "Encrypted with the AWS managed key (aws/secretsmanager); who reads each secret is decided per "
    "function by IAM (each function only its own systems' or sources' secrets). A customer-managed "
    "key adds a key policy to keep in step, not a boundary."
)

# Why no log group has a customer-managed key (checkov CKV_AWS_158).
LOG_KEY_REASON = (
    "CloudWatch Logs encrypts at rest with its own keys; Concord logs ids, outcomes and (access logs) "
    "caller IPs, never secrets or payloads. A customer-managed key per stage adds a key policy, not a boundary."
)


def add_nag_checks(app: Construct) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: IConstruct, finding: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))


def skip_checkov(scope: IConstruct, check_id: str, reason: str) -> None:
    """A checkov check accepted on this resource (its CloudFormation metadata, which checkov
    reads: https://www.checkov.io/2.Basics/Suppressing%20and%20Skipping%20Policies.html)."""
    resource = scope if isinstance(scope, CfnResource) else scope.node.default_child
    assert isinstance(resource, CfnResource), f"{scope.node.path} has no CloudFormation resource"
    skips = [s for s in (resource.get_metadata("checkov") or {}).get("skip", []) if s["id"] != check_id]
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check_id, "comment": reason}]})
