"""`concord status` (concord.operator.status) over moto's SQS."""

from __future__ import annotations

import json

import boto3
from moto import mock_aws

from concord.events.types import Severity
from concord.operator import status as ops

from .helpers import NAMES, NOW


def test_status_shows_a_failed_scheduled_run_parked_by_its_on_failure_destination() -> None:
    """Lambda's on-failure destination of change_capture is `<stage>-change-capture-dlq` (infra
    ScheduledRuns): a failed run parked there alarms in `concord status` with its flow."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName=NAMES.dlq("change-capture"))["QueueUrl"]
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(
                {
                    "version": "1.0",
                    "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
                    "requestPayload": {"source": "aws.events"},
                    "responsePayload": {"errorType": "TransientError"},
                }
            ),
        )

        (status,) = ops.queue_statuses(sqs, NAMES, NOW)

    assert (status.kind, status.flow, status.severity, status.visible, status.alarming) == (
        "dlq",
        "change_capture",
        Severity.WARNING,
        1,
        True,
    )
