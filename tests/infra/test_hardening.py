"""Issue #18 (infra): ingest alarms, failure destinations, least privilege, deletion
protection, the optional WAF and reserved concurrency, on the synthesized templates."""

from __future__ import annotations

import json

from concord import catalog

from .conftest import of_type

# Which systems each function calls and which canonical events it publishes (concord.sync).
EXPECTED_ACCESS: dict[str, tuple[set[str], set[str]]] = {
    "quote_to_cash_validate_customer": ({"crm", "erp"}, set()),
    "quote_to_cash_upsert_erp_customer": ({"erp"}, set()),
    "quote_to_cash_create_psa_project": ({"psa"}, set()),
    "quote_to_cash_assign_billing_terms": ({"erp"}, set()),
    "quote_to_cash_map_revenue_schedule": ({"erp"}, set()),
    "quote_to_cash_publish_project_activated": (set(), {"ProjectActivated"}),
    "quote_to_cash_compensate": ({"psa", "erp"}, set()),
    "quote_to_cash_raise_exception": (set(), {"SyncExceptionRaised"}),
    "billing": ({"erp"}, set()),
    "financial_status": ({"crm", "psa"}, set()),
    "customer_master": ({"crm", "psa", "erp"}, {"SyncExceptionRaised"}),
    "project_terms": ({"erp"}, {"SyncExceptionRaised"}),
    "contact_master": ({"crm", "psa", "erp"}, {"SyncExceptionRaised"}),
    "enrichment": (
        {"crm", "psa", "erp"},
        {
            "OpportunityClosedWon",
            "AccountChanged",
            "TimeApproved",
            "InvoicePosted",
            "PaymentReceived",
            "ServiceItemChanged",
            "SyncExceptionRaised",
        },
    ),
    "change_capture": (
        {"crm", "psa", "erp"},
        {
            "OpportunityClosedWon",
            "AccountChanged",
            "TimeApproved",
            "InvoicePosted",
            "PaymentReceived",
            "ServiceItemChanged",
            "SyncExceptionRaised",
        },
    ),
    "reconciliation": ({"crm", "psa", "erp"}, {"DriftDetected"}),
    "audit_trail": (set(), set()),
    "quote_to_cash": (set(), set()),
}
SOURCE_OF = {
    "ProjectActivated": "psa",
    "SyncExceptionRaised": "concord",
    "DriftDetected": "concord",
    "OpportunityClosedWon": "crm",
    "AccountChanged": "crm",
    "ContactChanged": "crm",
    "TimeApproved": "psa",
    "InvoicePosted": "erp",
    "PaymentReceived": "erp",
    "ServiceItemChanged": "erp",
    "ChangeNotified": "concord",
}


def _functions(template: dict) -> dict[str, tuple[str, dict]]:
    """folder -> (logical id, properties)."""
    return {
        f["Metadata"]["concord:source"].removeprefix("functions/"): (lid, f["Properties"])
        for lid, f in of_type(template, "AWS::Lambda::Function").items()
    }


def _statements(template: dict, function_props: dict) -> list[dict]:
    role = function_props["Role"]["Fn::GetAtt"][0]
    return [
        s
        for p in of_type(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict) -> list[str]:
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def _secrets_read(template: dict, function_props: dict) -> set[str]:
    names = {lid: s["Properties"]["Name"] for lid, s in of_type(template, "AWS::SecretsManager::Secret").items()}
    read = set()
    for statement in _statements(template, function_props):
        if "secretsmanager:GetSecretValue" in _actions(statement):
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            read |= {names[r["Ref"]] for r in resources}
    return read


def _alarms(template: dict) -> dict[str, dict]:
    return {a["Properties"]["AlarmName"]: a["Properties"] for a in of_type(template, "AWS::CloudWatch::Alarm").values()}


def _topic_of(template: dict, alarm: dict) -> str:
    (action,) = alarm["AlarmActions"]
    return of_type(template, "AWS::SNS::Topic")[action["Ref"]]["Properties"]["TopicName"].rsplit("-", 1)[-1]


# --------------------------------------------------------------------------- item 2: the ingest path


def test_the_ingest_path_alarms_by_business_severity(dev: dict) -> None:
    alarms = _alarms(dev)
    expected = {
        "concord-dev-webhooks-5xx": ("5XXError", "high"),
        "concord-dev-webhooks-ingest-errors": ("Errors", "high"),
        "concord-dev-webhooks-ingest-throttles": ("Throttles", "warning"),
    }
    for name, (metric, severity) in expected.items():
        assert alarms[name]["MetricName"] == metric and _topic_of(dev, alarms[name]) == severity, name
    deferred = alarms["concord-dev-webhooks-deferred"]
    (query,) = deferred["Metrics"]
    assert "SUM(WebhooksDeferred)" in query["Expression"] and "service = 'webhook_ingest'" in query["Expression"]
    assert _topic_of(dev, deferred) == "high"


def test_signature_failures_alarm_per_configured_source(dev: dict) -> None:
    (_, ingest) = _functions(dev)["webhook_ingest"]
    sources = json.loads(ingest["Environment"]["Variables"]["WEBHOOK_SOURCES"])
    alarms = {
        a["Dimensions"][1]["Value"] if a["Dimensions"][0]["Name"] == "service" else a["Dimensions"][0]["Value"]: a
        for a in _alarms(dev).values()
        if a.get("MetricName") == "SignatureFailures"
    }
    assert set(alarms) == set(sources)
    for source, alarm in alarms.items():
        assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {"service": "webhook_ingest", "source": source}
        assert alarm["Namespace"] == "Concord" and alarm["Threshold"] == 10 and _topic_of(dev, alarm) == "warning"


# --------------------------------------------------------------------------- item 3: asynchronous invocations


def test_every_asynchronously_invoked_function_has_an_on_failure_queue_and_alarms(dev: dict) -> None:
    functions = {lid: folder for folder, (lid, _) in _functions(dev).items()}
    invoked_async = {
        target["Arn"]["Fn::GetAtt"][0]
        for rule in of_type(dev, "AWS::Events::Rule").values()
        for target in rule["Properties"].get("Targets", [])
        if "Fn::GetAtt" in target["Arn"] and target["Arn"]["Fn::GetAtt"][0] in functions
    }
    assert {functions[f] for f in invoked_async} == {"change_capture", "reconciliation"}
    configs = {
        c["Properties"]["FunctionName"]["Ref"]: c["Properties"]
        for c in of_type(dev, "AWS::Lambda::EventInvokeConfig").values()
    }
    queues = of_type(dev, "AWS::SQS::Queue")
    alarms = _alarms(dev)
    for function in invoked_async:
        queue = configs[function]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        name = queues[queue]["Properties"]["QueueName"]
        base = name.removeprefix("concord-dev-").removesuffix("-dlq")
        flow = catalog.flow_of_queue(name.removeprefix("concord-dev-"))
        assert name.endswith("-dlq") and flow is not None, name  # `concord status` lists it with its flow
        assert _topic_of(dev, alarms[f"concord-dev-{base}-dlq-not-empty"]) == flow.severity.value
        failed = alarms[f"concord-dev-{base}-failed"]
        assert failed["MetricName"] == "Errors" and failed["Dimensions"][0]["Value"] == {"Ref": function}


# --------------------------------------------------------------------------- item 9: least privilege


def test_each_function_reads_only_the_secrets_of_the_systems_it_calls(dev: dict) -> None:
    functions = _functions(dev)
    for folder, (systems, _) in EXPECTED_ACCESS.items():
        read = _secrets_read(dev, functions[folder][1])
        assert read == {f"concord/dev/systems/{system}" for system in systems}, folder
    ingest_reads = _secrets_read(dev, functions["webhook_ingest"][1])
    assert ingest_reads and all(name.startswith("concord/dev/webhooks/") for name in ingest_reads)


def test_each_producer_may_put_only_its_own_event_types_from_their_sources(dev: dict) -> None:
    functions = _functions(dev)
    for folder, (_, publishes) in EXPECTED_ACCESS.items():
        puts = [s for s in _statements(dev, functions[folder][1]) if "events:PutEvents" in _actions(s)]
        allowed = set()
        for statement in puts:
            condition = statement["Condition"]["StringEquals"]
            types = set(condition["events:detail-type"])
            assert {f"concord.{SOURCE_OF[t]}" for t in types} == {condition["events:source"]}, (folder, condition)
            allowed |= types
        assert allowed == publishes, folder


def test_the_ingest_function_may_put_only_events_of_its_sources_systems(dev: dict) -> None:
    puts = [s for s in _statements(dev, _functions(dev)["webhook_ingest"][1]) if "events:PutEvents" in _actions(s)]
    by_source = {
        s["Condition"]["StringEquals"]["events:source"]: set(s["Condition"]["StringEquals"]["events:detail-type"])
        for s in puts
    }
    assert by_source["concord.concord"] == {"ChangeNotified"}  # never SyncExceptionRaised or DriftDetected
    assert set(by_source) == {"concord.crm", "concord.psa", "concord.erp", "concord.concord"}
    assert by_source["concord.crm"] == {"OpportunityClosedWon", "AccountChanged", "ContactChanged"}


def test_the_ingest_function_only_reads_and_puts_delivery_records(dev: dict) -> None:
    """One conditional PutItem per delivery (concord.aws.delivery_ledger): no UpdateItem, no DeleteItem."""
    [table] = [
        lid
        for lid, t in of_type(dev, "AWS::DynamoDB::Table").items()
        if t["Properties"]["TableName"] == "concord-dev-idempotency"
    ]
    on_table = {
        action
        for s in _statements(dev, _functions(dev)["webhook_ingest"][1])
        if {"Fn::GetAtt": [table, "Arn"]} in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
        for action in _actions(s)
    }
    assert on_table == {"dynamodb:GetItem", "dynamodb:PutItem"}


def test_the_audit_trail_only_puts_items_one_by_one_or_in_batches(dev: dict) -> None:
    """An event is one conditional PutItem after a BatchWriteItem of its index items, never a
    transaction (twice the write units) and never an update or delete."""
    actions = {
        action
        for s in _statements(dev, _functions(dev)["audit_trail"][1])
        for action in _actions(s)
        if action.startswith("dynamodb:")
    }
    assert actions == {"dynamodb:PutItem", "dynamodb:BatchWriteItem"}


# --------------------------------------------------------------------------- item 10: deletion protection


def test_prod_tables_are_protected_from_deletion_and_dev_tables_are_not(dev: dict, prod: dict) -> None:
    for template, protected in ((prod, True), (dev, False)):
        for table in of_type(template, "AWS::DynamoDB::Table").values():
            assert table["Properties"].get("DeletionProtectionEnabled", False) is protected


# --------------------------------------------------------------------------- WAF and reserved concurrency


def test_prod_puts_a_web_acl_on_the_webhook_stage_and_dev_does_not(dev: dict, prod: dict) -> None:
    assert not of_type(dev, "AWS::WAFv2::WebACL") and not of_type(dev, "AWS::WAFv2::WebACLAssociation")
    ((acl_lid, acl),) = of_type(prod, "AWS::WAFv2::WebACL").items()
    (association,) = of_type(prod, "AWS::WAFv2::WebACLAssociation").values()
    (stage_lid,) = of_type(prod, "AWS::ApiGateway::Stage")
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": [acl_lid, "Arn"]}
    assert {"Ref": stage_lid} in association["Properties"]["ResourceArn"]["Fn::Join"][1]
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    rate = rules["RateLimitPerSourceIp"]["Statement"]["RateBasedStatement"]
    assert (rate["AggregateKeyType"], rate["Limit"]) == ("IP", 3000) and "Block" in rules["RateLimitPerSourceIp"][
        "Action"
    ]
    common = rules["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["VendorName"] == "AWS"
    # vendors' batched deliveries exceed the set's 8 KB body rule: counted, not blocked
    assert [o["Name"] for o in common["RuleActionOverrides"]] == ["SizeRestrictions_BODY"]
    assert acl["Properties"]["Scope"] == "REGIONAL" and "Allow" in acl["Properties"]["DefaultAction"]


def test_prod_caps_the_flows_that_call_vendors_and_their_queues_pollers(dev: dict, prod: dict) -> None:
    flows = {"billing", "financial_status", "customer_master", "project_terms", "enrichment"}
    for template, cap in ((prod, 5), (dev, None)):
        functions = _functions(template)
        mappings = {
            m["Properties"]["FunctionName"]["Ref"]: m["Properties"]
            for m in of_type(template, "AWS::Lambda::EventSourceMapping").values()
        }
        for folder in flows:
            lid, props = functions[folder]
            assert props.get("ReservedConcurrentExecutions") == cap, folder
            assert mappings[lid].get("ScalingConfig", {}).get("MaximumConcurrency") == cap, folder
        assert "ReservedConcurrentExecutions" not in functions["webhook_ingest"][1]
