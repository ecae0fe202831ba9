"""Step Functions on the emulator's ASL interpreter run the project's handlers as Lambda Tasks."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from concord.local.inspect import LocalView
from concord.local.stack import aws_client

pytestmark = pytest.mark.e2e


def test_lambda_tasks_run_project_handlers_with_catch(view: LocalView) -> None:
    client = aws_client(view.state, "stepfunctions")
    ingest = next(f.name for f in view.topology.functions if f.source.endswith("webhook_ingest"))
    audit = next(f.name for f in view.topology.functions if f.source.endswith("audit_trail"))
    arn = lambda name: f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    definition = {
        "StartAt": "AskIngest",
        "States": {
            # A real handler answering a proxy event for an unknown source: a successful invocation.
            "AskIngest": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {
                    "FunctionName": arn(ingest),
                    "Payload": {
                        "resource": "/webhooks/{source}",
                        "path": "/webhooks/nosuch",
                        "httpMethod": "POST",
                        "headers": {},
                        "pathParameters": {"source": "nosuch"},
                        "body": "{}",
                        "requestContext": {"requestId": "sfn", "stage": "local"},
                        "isBase64Encoded": False,
                    },
                },
                "ResultSelector": {"status.$": "$.Payload.statusCode"},
                "ResultPath": "$.ingest",
                "Next": "BreakAudit",
            },
            # A real handler given an event it cannot process: the error is caught by type.
            "BreakAudit": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": arn(audit), "Payload": {"not": "an sqs event"}},
                "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "MaxAttempts": 1, "IntervalSeconds": 1}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    machine = client.create_state_machine(
        name=f"test-{uuid.uuid4().hex[:8]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/concord-local-lambda",
    )["stateMachineArn"]

    execution = client.start_execution(stateMachineArn=machine, name=f"run-{uuid.uuid4().hex[:8]}", input="{}")
    deadline = time.monotonic() + 60
    while (described := client.describe_execution(executionArn=execution["executionArn"]))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "execution did not finish"
        time.sleep(0.2)

    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    assert output["ingest"]["status"] == 404
    # The handler's own exception type is the Task's error name, as Retry/Catch see it on AWS.
    assert output["error"]["Error"] == "UnexpectedBatchTypeError"
    assert json.loads(output["error"]["Cause"])["errorType"] == "UnexpectedBatchTypeError"
