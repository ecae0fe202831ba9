"""Creates the template's resources in the emulator through the service APIs.

Idempotent: running it against an emulator that already has the resources changes nothing,
so `concord local up` can always provision.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from botocore.exceptions import ClientError

from .template import ACCOUNT, LOCAL_NAMES, REGION, Topology

LOCAL_ROLE = LOCAL_NAMES.resource("lambda")
# A local-only observation point (not in the CDK stack): a queue that receives a copy of
# every canonical event on the bus, so tests and the demo can see exactly what reached it.
BUS_TAP = LOCAL_NAMES.resource("bus_tap")


def _exists(error: ClientError) -> bool:
    code = error.response["Error"]["Code"]
    return code in {
        "ResourceAlreadyExistsException",
        "ResourceExistsException",
        "ResourceInUseException",
        "ResourceConflictException",
        "EntityAlreadyExists",
        "QueueAlreadyExists",
        "StateMachineAlreadyExists",
    }


def _create(call: Any, **kwargs: Any) -> None:
    try:
        call(**kwargs)
    except ClientError as error:
        if not _exists(error):
            raise


def _placeholder_zip() -> bytes:
    # moto's Lambda keeps function metadata; the code runs in the local runtime instead.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Runs in Concord's local Lambda runtime.\n")
    return buffer.getvalue()


def provision(
    topology: Topology,
    clients: Any,
    secret_values: dict[str, str],
    visibility_timeout_cap: int | None,
) -> None:
    """`clients(service)` returns a boto3 client bound to the emulator."""
    sqs, events, dynamodb = clients("sqs"), clients("events"), clients("dynamodb")

    # DLQs first, so redrive policies can point at them.
    ordered = sorted(topology.queues, key=lambda q: q.dlq_name is not None)
    for queue in ordered:
        attributes = dict(queue.attributes)
        if visibility_timeout_cap is not None:
            current = int(attributes.get("VisibilityTimeout", 30))
            attributes["VisibilityTimeout"] = str(min(current, visibility_timeout_cap))
        if queue.dlq_name:
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue.dlq_name}",
                    "maxReceiveCount": queue.max_receive_count,
                }
            )
        url = sqs.create_queue(QueueName=queue.name)["QueueUrl"]
        sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)

    for bus in topology.buses:
        _create(events.create_event_bus, Name=bus)
    for archive in topology.archives:
        _create(
            events.create_archive,
            ArchiveName=archive["name"],
            EventSourceArn=archive["bus_arn"],
            EventPattern=json.dumps(archive["pattern"]) if archive["pattern"] else None,
            RetentionDays=archive["retention_days"],
        )
    for rule in topology.rules:
        events.put_rule(Name=rule.name, EventBusName=rule.bus_name, EventPattern=json.dumps(rule.pattern))
        targets = []
        for index, (arn, dlq) in enumerate(zip(rule.target_queue_arns, rule.target_dlq_arns, strict=True)):
            target: dict[str, Any] = {"Id": f"Target{index}", "Arn": arn}
            if dlq:
                target["DeadLetterConfig"] = {"Arn": dlq}
            targets.append(target)
        events.put_targets(Rule=rule.name, EventBusName=rule.bus_name, Targets=targets)

    # Scheduled rules exist in the emulator (which never runs them) so that, as on AWS, an
    # operator can disable one; the local runtime's scheduler skips a disabled rule.
    for schedule in topology.schedules:
        try:
            events.describe_rule(Name=schedule.name)
        except ClientError:
            events.put_rule(Name=schedule.name, ScheduleExpression=schedule.expression, State="ENABLED")

    for bus in topology.buses:
        tap_url = sqs.create_queue(QueueName=BUS_TAP)["QueueUrl"]
        tap_arn = sqs.get_queue_attributes(QueueUrl=tap_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events.put_rule(Name=BUS_TAP, EventBusName=bus, EventPattern=json.dumps({"source": [{"prefix": "concord."}]}))
        events.put_targets(Rule=BUS_TAP, EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}])

    for table in topology.tables:
        kwargs: dict[str, Any] = dict(
            TableName=table.name,
            KeySchema=table.key_schema,
            AttributeDefinitions=table.attribute_definitions,
            BillingMode="PAY_PER_REQUEST",
        )
        if table.global_secondary_indexes:
            kwargs["GlobalSecondaryIndexes"] = table.global_secondary_indexes
        _create(dynamodb.create_table, **kwargs)
        if table.ttl_attribute:
            dynamodb.update_time_to_live(
                TableName=table.name,
                TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
            )

    secrets = clients("secretsmanager")
    for name in topology.secrets:
        if name in secret_values:
            _create(secrets.create_secret, Name=name, SecretString=secret_values[name])

    sns = clients("sns")
    for topic in topology.topics:
        sns.create_topic(Name=topic)

    iam, lambda_ = clients("iam"), clients("lambda")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    _create(iam.create_role, RoleName=LOCAL_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{LOCAL_ROLE}"
    for function in topology.functions:
        _create(
            lambda_.create_function,
            FunctionName=function.name,
            Runtime="python3.12",
            Role=role_arn,
            Handler=function.handler,
            Code={"ZipFile": _placeholder_zip()},
            Timeout=function.timeout_seconds,
            MemorySize=function.memory_mb,
            Environment={"Variables": function.environment},
        )

    sfn = clients("stepfunctions")
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    for machine in topology.state_machines:
        if machine.name in existing:
            sfn.update_state_machine(stateMachineArn=existing[machine.name], definition=machine.definition)
        else:
            sfn.create_state_machine(name=machine.name, definition=machine.definition, roleArn=role_arn)
