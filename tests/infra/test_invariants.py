"""Invariants of the synthesized stack that a security review and on-call rely on."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Match, Template

from .conftest import of_type


def _refs(value: Any) -> set[str]:
    """Logical ids referenced anywhere inside a template value."""
    if isinstance(value, dict):
        found = set()
        if "Ref" in value:
            found.add(value["Ref"])
        if "Fn::GetAtt" in value:
            found.add(value["Fn::GetAtt"][0])
        for v in value.values():
            found |= _refs(v)
        return found
    if isinstance(value, list):
        return set().union(*map(_refs, value)) if value else set()
    return set()


def test_cdk_nag_reports_no_unacknowledged_finding(synthesized: dict[str, Any]) -> None:
    for stage, (_, _, outdir) in synthesized.items():
        report = json.loads((Path(outdir) / "validation-report.json").read_text())
        violations = [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]]
        assert violations == [], f"{stage}: {violations}"


def test_every_consumer_queue_has_a_dlq_and_a_dlq_alarm_routed_to_a_topic(dev: dict) -> None:
    queues = of_type(dev, "AWS::SQS::Queue")
    consumers = {lid: q for lid, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    dlqs = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in consumers.values()}
    # and the dead-letter queues of rule targets (e.g. the change-capture schedule's)
    dlqs |= {
        target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
        for rule in of_type(dev, "AWS::Events::Rule").values()
        for target in rule["Properties"].get("Targets", [])
        if "DeadLetterConfig" in target
    }
    assert consumers and set(queues) == set(consumers) | dlqs, "a queue is neither a consumer queue nor a DLQ"
    alarms = of_type(dev, "AWS::CloudWatch::Alarm").values()
    for dlq in dlqs:
        watching = [a for a in alarms if dlq in _refs(a["Properties"].get("Dimensions", []))]
        assert watching, f"no alarm watches {dlq}"
        assert all(a["Properties"]["AlarmActions"] for a in watching)


def test_every_event_source_mapping_reports_batch_item_failures(dev: dict) -> None:
    mappings = of_type(dev, "AWS::Lambda::EventSourceMapping")
    assert mappings
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_queues_encrypt_at_rest_and_refuse_plain_http(dev_template: Template, dev: dict) -> None:
    for queue in of_type(dev, "AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    policies = of_type(dev, "AWS::SQS::QueuePolicy").values()
    denied = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if (
                statement["Effect"] == "Deny"
                and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            ):
                denied |= _refs(policy["Properties"]["Queues"])
    assert denied == set(of_type(dev, "AWS::SQS::Queue"))


def test_every_function_has_tracing_its_own_role_and_a_log_group_with_retention(dev: dict) -> None:
    functions = of_type(dev, "AWS::Lambda::Function")
    log_groups = of_type(dev, "AWS::Logs::LogGroup")
    roles = [f["Properties"]["Role"]["Fn::GetAtt"][0] for f in functions.values()]
    assert len(set(roles)) == len(roles) == len(functions)
    for function in functions.values():
        props = function["Properties"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        group = props["LoggingConfig"]["LogGroup"]["Ref"]
        assert log_groups[group]["Properties"]["RetentionInDays"] == 14
        assert function["Metadata"]["concord:source"].startswith("functions/")


def test_no_role_has_wildcard_actions_and_data_actions_name_their_resources(dev: dict) -> None:
    data_types = {"AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::SecretsManager::Secret", "AWS::Events::EventBus"}
    data = {lid for lid, r in dev["Resources"].items() if r["Type"] in data_types}
    for policy in of_type(dev, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            assert all(a != "*" and not a.endswith(":*") for a in actions), actions
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            if any(a.split(":")[0] in ("dynamodb", "sqs", "secretsmanager", "events") for a in actions):
                assert "*" not in resources, statement
                assert _refs(resources) & data, f"data action on no named resource: {statement}"


def test_tables_have_point_in_time_recovery_encryption_and_ttl_where_records_expire(dev: dict) -> None:
    tables = {t["Properties"]["TableName"]: t["Properties"] for t in of_type(dev, "AWS::DynamoDB::Table").values()}
    assert set(tables) == {
        "concord-dev-idempotency",
        "concord-dev-audit",
        "concord-dev-xref",
        "concord-dev-checkpoints",
        "concord-dev-rate-budget",
    }
    for props in tables.values():
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"]["SSEEnabled"] is True
    assert tables["concord-dev-idempotency"]["TimeToLiveSpecification"] == {
        "AttributeName": "expiration",
        "Enabled": True,
    }
    assert tables["concord-dev-audit"]["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert "TimeToLiveSpecification" not in tables["concord-dev-xref"]  # cross-references are kept
    assert "TimeToLiveSpecification" not in tables["concord-dev-checkpoints"]
    assert "TimeToLiveSpecification" not in tables["concord-dev-rate-budget"]


def test_functions_that_call_systems_share_the_rate_budget_and_name_the_default_legal_entity(dev: dict) -> None:
    functions = of_type(dev, "AWS::Lambda::Function").values()
    calling = [
        f["Properties"]
        for f in functions
        if "SYSTEMS_SECRET_PREFIX" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert len(calling) >= 10
    for props in calling:
        variables = props["Environment"]["Variables"]
        assert variables["DEFAULT_LEGAL_ENTITY"] == "us-01"
        assert "RATE_BUDGET_TABLE_NAME" in variables


def test_webhook_api_validates_throttles_and_logs(dev_template: Template) -> None:
    dev_template.has_resource_properties(
        "AWS::ApiGateway::Method",
        {"HttpMethod": "POST", "RequestValidatorId": Match.any_value(), "Integration": {"Type": "AWS_PROXY"}},
    )
    dev_template.has_resource_properties(
        "AWS::ApiGateway::RequestValidator", {"ValidateRequestBody": True, "ValidateRequestParameters": True}
    )
    dev_template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": Match.array_with(
                [Match.object_like({"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100})]
            ),
        },
    )


def test_every_source_has_its_own_throttled_route(dev: dict) -> None:
    (stage,) = of_type(dev, "AWS::ApiGateway::Stage").values()
    settings = {m["ResourcePath"]: m for m in stage["Properties"]["MethodSettings"] if m["HttpMethod"] == "POST"}
    ingest = next(
        f
        for f in of_type(dev, "AWS::Lambda::Function").values()
        if f["Metadata"]["concord:source"] == "functions/webhook_ingest"
    )
    sources = json.loads(ingest["Properties"]["Environment"]["Variables"]["WEBHOOK_SOURCES"])
    # API Gateway escapes "/" in a method setting's resource path as "~1"
    assert set(settings) == {f"/~1webhooks~1{source}" for source in sources}
    assert all(m["ThrottlingRateLimit"] > 0 and m["ThrottlingBurstLimit"] > 0 for m in settings.values())


def test_ingest_gets_one_secret_per_configured_source(dev: dict) -> None:
    secrets = [s["Properties"]["Name"] for s in of_type(dev, "AWS::SecretsManager::Secret").values()]
    ingest = next(
        f
        for f in of_type(dev, "AWS::Lambda::Function").values()
        if f["Metadata"]["concord:source"] == "functions/webhook_ingest"
    )
    env = ingest["Properties"]["Environment"]["Variables"]
    sources = json.loads(env["WEBHOOK_SOURCES"])
    webhook_secrets = [name for name in secrets if name.startswith(env["WEBHOOK_SECRET_PREFIX"] + "/")]
    assert sorted(webhook_secrets) == sorted(f"{env['WEBHOOK_SECRET_PREFIX']}/{s}" for s in sources)


def test_prod_retains_data_and_dev_does_not(dev: dict, prod: dict) -> None:
    for template, policy in ((prod, "Retain"), (dev, "Delete")):
        for table in of_type(template, "AWS::DynamoDB::Table").values():
            assert table["DeletionPolicy"] == policy
    assert {g["Properties"]["RetentionInDays"] for g in of_type(prod, "AWS::Logs::LogGroup").values()} == {365}


def _state_machine_definition(template: dict) -> dict:
    (machine,) = of_type(template, "AWS::StepFunctions::StateMachine").values()
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    # Function ARNs are tokens; the structure around them is what matters here.
    return json.loads("".join(p if isinstance(p, str) else '"ARN"' for p in parts).replace('""ARN""', '"ARN"'))


def test_every_saga_task_retries_transient_errors_with_jitter_and_catches_the_rest(dev: dict) -> None:
    from concord.sync.saga import RETRYABLE_ERRORS

    states = _state_machine_definition(dev)["States"]
    task_names = [name for name, state in states.items() if state["Type"] == "Task"]
    assert len(task_names) == 8
    for name in task_names:
        state = states[name]
        retry, in_progress = state["Retry"]
        assert retry["ErrorEquals"] == RETRYABLE_ERRORS
        assert retry["JitterStrategy"] == "FULL" and retry["BackoffRate"] == 2
        # an attempt cut short (crash, timeout) is waited out, then retried
        assert in_progress["ErrorEquals"] == ["SagaStepInProgress"] and in_progress["IntervalSeconds"] >= 30
        assert [c["ErrorEquals"] for c in state["Catch"]] == [["States.ALL"]], name


def test_a_failed_step_is_noted_then_compensated_then_reported(dev: dict) -> None:
    states = _state_machine_definition(dev)["States"]
    for step in (
        "ValidateCustomer",
        "UpsertErpCustomer",
        "CreatePsaProject",
        "AssignBillingTerms",
        "MapRevenueSchedule",
        "PublishProjectActivated",
    ):
        noted = states[states[step]["Catch"][0]["Next"]]
        assert noted == {"Type": "Pass", "Result": step, "ResultPath": "$.failed_step", "Next": "Compensate"}
    assert states["Compensate"]["Next"] == "RaiseSyncException"
    assert states["RaiseSyncException"]["Next"] == "QuoteToCashFailed"
    assert states["QuoteToCashFailed"]["Type"] == "Fail"


def test_the_state_machine_logs_everything_and_traces(dev_template: Template) -> None:
    dev_template.has_resource_properties(
        "AWS::StepFunctions::StateMachine",
        {"TracingConfiguration": {"Enabled": True}, "LoggingConfiguration": Match.object_like({"Level": "ALL"})},
    )


def test_the_dashboard_shows_every_flow_queue_and_the_saga(dev: dict) -> None:
    (dashboard,) = of_type(dev, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in (
        "Webhooks: accepted",
        "audit_trail: retry queue and DLQ",
        "quote_to_cash: retry queue and DLQ",
        "billing: retry queue and DLQ",
        "financial_status: retry queue and DLQ",
        "customer_master: retry queue and DLQ",
        "project_terms: retry queue and DLQ",
        "QuoteToCash",
        "Business exceptions raised",
    ):
        assert title in body, title


def test_saga_failures_alarm_on_the_warning_topic(dev: dict) -> None:
    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in of_type(dev, "AWS::CloudWatch::Alarm").values()}
    topics = {lid: t["Properties"]["TopicName"] for lid, t in of_type(dev, "AWS::SNS::Topic").items()}
    for name in ("concord-dev-quote-to-cash-failed", "concord-dev-quote-to-cash-timed-out"):
        (action,) = alarms[name]["AlarmActions"]
        assert topics[action["Ref"]] == "concord-dev-alarms-warning"


def test_each_dlq_alarms_on_the_topic_of_the_severity_operators_see(dev: dict) -> None:
    """`concord exceptions` ranks a parked message by its queue's flow in concord.catalog
    (severity_of); the DLQ's alarm must page at that same severity, and every flow has one."""
    from concord import catalog

    alarms = {a["Properties"]["AlarmName"]: a["Properties"] for a in of_type(dev, "AWS::CloudWatch::Alarm").values()}
    topics = {lid: t["Properties"]["TopicName"] for lid, t in of_type(dev, "AWS::SNS::Topic").items()}
    dlq_alarms = {
        name.removeprefix("concord-dev-").removesuffix("-dlq-not-empty"): alarm
        for name, alarm in alarms.items()
        if name.endswith("-dlq-not-empty")
    }
    # Every flow the stage deploys (the renewal only where the ERP is Business Central: dev is not).
    assert set(dlq_alarms) == {flow.short_name for flow in catalog.FLOWS if flow is not catalog.SUBSCRIPTION_RENEWAL}
    for queue, alarm in dlq_alarms.items():
        (action,) = alarm["AlarmActions"]
        assert topics[action["Ref"]] == f"concord-dev-alarms-{catalog.severity_of(queue).value}", queue


def test_the_layer_carries_bytecode_that_needs_no_source_times(synthesized: dict[str, Any]) -> None:
    """Lambda's /opt is read-only: a module without bytecode would be compiled at every cold start.
    Hash-based bytecode with the source check off (flags == 1): the asset zip drops the sources'
    times, and the runtime's Python (the one running this test) must accept the magic number."""
    _, _, outdir = synthesized["dev"]
    (layer,) = {path.parents[1] for path in Path(outdir).glob("asset.*/python/concord/__init__.py")}
    modules = sorted(layer.rglob("*.py"))
    assert len(modules) > 100
    for module in modules:
        (compiled,) = (module.parent / "__pycache__").glob(f"{module.stem}.{sys.implementation.cache_tag}.pyc")
        header = compiled.read_bytes()[:8]
        assert header[:4] == importlib.util.MAGIC_NUMBER, module
        assert int.from_bytes(header[4:8], "little") == 1, module
