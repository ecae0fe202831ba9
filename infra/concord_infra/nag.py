"""cdk-nag AwsSolutions checks. Findings are fixed in code; the few accepted ones are
acknowledged on the construct that causes them, with the reason beside it."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct


def add_nag_checks(app: Construct) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(scope: Construct, finding: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=finding, reason=reason))
