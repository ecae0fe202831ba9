"""Every AWS error reaches the operator naming the resource and the IAM permission (concord.operator.calls)."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from concord.operator.calls import OperationsError, aws_call


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "ReceiveMessage"),
            "access denied to queue q: the caller lacks sqs:ReceiveMessage",
        ),
        (
            ClientError({"Error": {"Code": "ExpiredToken", "Message": "old"}}, "ReceiveMessage"),
            "AWS refused the credentials for sqs:ReceiveMessage on queue q",
        ),
        (
            ClientError({"Error": {"Code": "AWS.SimpleQueueService.NonExistentQueue", "Message": "?"}}, "GetQueueUrl"),
            "queue q does not exist",
        ),
        (NoCredentialsError(), "no AWS credentials for sqs:ReceiveMessage on queue q"),
        (
            EndpointConnectionError(endpoint_url="https://sqs.eu-west-1.amazonaws.com"),
            "cannot reach https://sqs.eu-west-1.amazonaws.com for sqs:ReceiveMessage on queue q",
        ),
    ],
)
def test_aws_errors_name_the_resource_and_the_permission(error: Exception, expected: str) -> None:
    with (
        pytest.raises(OperationsError, match="^" + expected.replace(".", r"\.")),
        aws_call("queue q", "sqs:ReceiveMessage"),
    ):
        raise error
