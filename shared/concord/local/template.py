"""The local stack's single source of truth: the CDK app's synthesized template.

`synthesize()` runs the CDK app for the `local` stage (no dependency bundling), and
`read_topology()` turns the template into the resources the emulator must create and the
parts the local runtime must play (functions, event source mappings, API routes), with
CloudFormation intrinsics resolved to local names and ARNs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..naming import Names

REPO_ROOT = Path(__file__).resolve().parents[3]
LOCAL_STAGE = "local"
LOCAL_NAMES = Names(LOCAL_STAGE)  # every local resource is named as a deployed stage's
REGION = "us-east-1"
ACCOUNT = "123456789012"
SYNTH_INPUTS = ("cdk.json", "pyproject.toml", "config", "infra", "functions", "shared/concord")


def _inputs_hash() -> str:
    digest = hashlib.sha256()
    for name in SYNTH_INPUTS:
        root = REPO_ROOT / name
        files = [root] if root.is_file() else sorted(root.rglob("*"))
        for file in files:
            if file.is_file() and "__pycache__" not in file.parts and file.suffix != ".pyc":
                digest.update(str(file.relative_to(REPO_ROOT)).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:16]


def synthesize(cache_dir: Path) -> Path:
    """Synthesize the local stage's template (cached by the hash of its inputs)."""
    key = _inputs_hash()
    outdir = cache_dir / f"cdk.out-{key}"
    template = outdir / f"{LOCAL_NAMES.prefix}.template.json"
    if template.exists():
        return template
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    context.update({"concord:stage": LOCAL_STAGE, "concord:bundle": "code"})
    # Synthesized beside the cache entry, then moved in whole: a stack starting at the same
    # time (another `concord local up`, a parallel test worker) never reads half a template.
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{outdir.name}-", dir=cache_dir))
    env = {
        **os.environ,
        "CDK_OUTDIR": str(staging),
        "CDK_CONTEXT_JSON": json.dumps(context),
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "infra" / "app.py")],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not (staging / template.name).exists():
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"cdk synth of the local stage failed:\n{result.stderr[-4000:]}")
    try:
        staging.rename(outdir)
    except OSError:  # another process cached the same inputs first: its template is this one
        shutil.rmtree(staging, ignore_errors=True)
    return template


# --- topology -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSpec:
    name: str
    attributes: dict[str, str]
    dlq_name: str | None = None
    max_receive_count: int | None = None


@dataclass(frozen=True)
class RuleSpec:
    name: str
    bus_name: str
    pattern: dict[str, Any]
    target_queue_arns: list[str]
    target_dlq_arns: list[str | None]


@dataclass(frozen=True)
class ScheduleSpec:
    """A scheduled rule invoking a function (EventBridge does not run these in moto)."""

    name: str
    expression: str  # rate(...) or cron(...)
    function_name: str


@dataclass(frozen=True)
class TableSpec:
    name: str
    key_schema: list[dict[str, str]]
    attribute_definitions: list[dict[str, str]]
    ttl_attribute: str | None = None
    global_secondary_indexes: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    source: str  # folder relative to the repo root
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: dict[str, str]


@dataclass(frozen=True)
class EventSourceSpec:
    queue_name: str
    function_name: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str  # e.g. /webhooks/{source}
    function_name: str


@dataclass(frozen=True)
class StateMachineSpec:
    name: str
    definition: str


@dataclass(frozen=True)
class Topology:
    buses: list[str]
    archives: list[dict[str, Any]]
    queues: list[QueueSpec]
    rules: list[RuleSpec]
    tables: list[TableSpec]
    secrets: list[str]
    topics: list[str]
    functions: list[FunctionSpec]
    event_sources: list[EventSourceSpec]
    routes: list[RouteSpec]
    state_machines: list[StateMachineSpec]
    schedules: list[ScheduleSpec] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Topology:
        raw = json.loads(text)
        kinds = {
            "queues": QueueSpec,
            "rules": RuleSpec,
            "tables": TableSpec,
            "functions": FunctionSpec,
            "event_sources": EventSourceSpec,
            "routes": RouteSpec,
            "state_machines": StateMachineSpec,
            "schedules": ScheduleSpec,
        }
        return cls(**{k: [kinds[k](**item) for item in v] if k in kinds else v for k, v in raw.items()})

    def function(self, name: str) -> FunctionSpec:
        return next(f for f in self.functions if f.name == name)

    def setting(self, variable: str) -> str:
        """A value the stack passes to its functions, e.g. AUDIT_TABLE_NAME."""
        return next(f.environment[variable] for f in self.functions if variable in f.environment)


# Physical name property, and what Ref / GetAtt return, per resource type.
_NAME_PROPERTY = {
    "AWS::SQS::Queue": "QueueName",
    "AWS::Events::EventBus": "Name",
    "AWS::Events::Rule": "Name",
    "AWS::Events::Archive": "ArchiveName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Logs::LogGroup": "LogGroupName",
}


class Resolver:
    """Resolves Ref / Fn::GetAtt / Fn::Join / Fn::Sub / Fn::Select / Fn::Split locally."""

    def __init__(self, template: dict[str, Any], stack_name: str) -> None:
        self.resources: dict[str, dict[str, Any]] = template["Resources"]
        self.stack_name = stack_name

    def name_of(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        prop = _NAME_PROPERTY.get(resource["Type"])
        explicit = resource.get("Properties", {}).get(prop) if prop else None
        return self.resolve(explicit) if explicit else f"{self.stack_name}-{logical_id}"[:64]

    def arn_of(self, logical_id: str) -> str:
        kind = self.resources[logical_id]["Type"]
        name = self.name_of(logical_id)
        arns = {
            "AWS::SQS::Queue": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}",
            "AWS::Events::EventBus": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}",
            "AWS::Events::Rule": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}",
            "AWS::Events::Archive": f"arn:aws:events:{REGION}:{ACCOUNT}:archive/{name}",
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
            "AWS::SecretsManager::Secret": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{name}",
        }
        return arns.get(kind, f"arn:aws:local:{REGION}:{ACCOUNT}:{logical_id}")

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            "AWS::NoValue": "",
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id not in self.resources:
            return logical_id  # a template parameter; none matters locally
        kind = self.resources[logical_id]["Type"]
        if kind == "AWS::SQS::Queue":
            return f"{_QUEUE_URL_PLACEHOLDER}/{ACCOUNT}/{self.name_of(logical_id)}"
        if kind in ("AWS::SecretsManager::Secret", "AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"):
            return self.arn_of(logical_id)
        if kind in _NAME_PROPERTY:
            return self.name_of(logical_id)
        return logical_id

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn_of(logical_id)
        if attribute in ("QueueName", "Name", "TopicName"):
            return self.name_of(logical_id)
        if attribute == "QueueUrl":
            return self.ref(logical_id)
        return f"{logical_id}.{attribute}"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key == "Fn::GetAtt":
                logical_id, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(logical_id, attribute)
            if key == "Fn::Join":
                separator, parts = arg
                return separator.join(str(self.resolve(p)) for p in parts)
            if key == "Fn::Select":
                index, items = arg
                return self.resolve(items)[int(index)]
            if key == "Fn::Split":
                separator, text = arg
                return str(self.resolve(text)).split(separator)
            if key == "Fn::Sub":
                text, variables = (arg, {}) if isinstance(arg, str) else arg
                for name, v in variables.items():
                    text = text.replace("${" + name + "}", str(self.resolve(v)))
                return _substitute_refs(text, self)
        return {k: self.resolve(v) for k, v in value.items()}


# Queue URLs depend on the emulator's endpoint, filled in when the stack starts.
_QUEUE_URL_PLACEHOLDER = "{queue_endpoint}"


def _substitute_refs(text: str, resolver: Resolver) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if "." in name:
            logical_id, attribute = name.split(".", 1)
            return resolver.get_att(logical_id, attribute)
        return resolver.ref(name)

    return re.sub(r"\$\{([A-Za-z0-9:.]+)\}", replace, text)


def _of_type(resources: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(lid, r.get("Properties", {})) for lid, r in resources.items() if r["Type"] == kind]


def _arn_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def _route_path(resources: dict[str, Any], resource_ref: Any) -> str:
    """Walk AWS::ApiGateway::Resource parents up to the API's root."""
    parts: list[str] = []
    while isinstance(resource_ref, dict) and "Ref" in resource_ref:
        props = resources[resource_ref["Ref"]]["Properties"]
        parts.append(props["PathPart"])
        resource_ref = props["ParentId"]
    return "/" + "/".join(reversed(parts))


def _function_in(value: Any, resources: dict[str, Any]) -> str | None:
    """The logical id of the Lambda function an integration URI points at."""
    if isinstance(value, dict):
        att = value.get("Fn::GetAtt")
        if isinstance(att, list) and resources.get(att[0], {}).get("Type") == "AWS::Lambda::Function":
            return str(att[0])
        return next((f for v in value.values() if (f := _function_in(v, resources))), None)
    if isinstance(value, list):
        return next((f for v in value if (f := _function_in(v, resources))), None)
    return None


def read_topology(template_path: Path, stack_name: str) -> Topology:
    template = json.loads(template_path.read_text())
    resources = template["Resources"]
    r = Resolver(template, stack_name)

    queues = []
    for lid, props in _of_type(resources, "AWS::SQS::Queue"):
        redrive = r.resolve(props.get("RedrivePolicy")) or {}
        attributes: dict[str, str] = {
            k: str(props[k])
            for k in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds")
            if k in props
        }
        queues.append(
            QueueSpec(
                name=r.name_of(lid),
                attributes=attributes,
                dlq_name=_arn_name(redrive["deadLetterTargetArn"]) if redrive else None,
                max_receive_count=int(redrive["maxReceiveCount"]) if redrive else None,
            )
        )

    rules: list[RuleSpec] = []
    schedules: list[ScheduleSpec] = []
    for lid, props in _of_type(resources, "AWS::Events::Rule"):
        targets = r.resolve(props.get("Targets", []))
        if "ScheduleExpression" in props:
            schedules.extend(
                ScheduleSpec(r.name_of(lid), props["ScheduleExpression"], _arn_name(t["Arn"]))
                for t in targets
                if ":function:" in t["Arn"]
            )
            continue
        rules.append(
            RuleSpec(
                name=r.name_of(lid),
                bus_name=r.resolve(props.get("EventBusName", "default")),
                pattern=r.resolve(props["EventPattern"]),
                target_queue_arns=[t["Arn"] for t in targets],
                target_dlq_arns=[t.get("DeadLetterConfig", {}).get("Arn") for t in targets],
            )
        )

    tables = []
    for lid, props in _of_type(resources, "AWS::DynamoDB::Table"):
        ttl = props.get("TimeToLiveSpecification") or {}
        tables.append(
            TableSpec(
                name=r.name_of(lid),
                key_schema=props["KeySchema"],
                attribute_definitions=props["AttributeDefinitions"],
                ttl_attribute=ttl.get("AttributeName") if ttl.get("Enabled") else None,
                global_secondary_indexes=props.get("GlobalSecondaryIndexes", []),
            )
        )

    functions = []
    for lid, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        source = resource.get("Metadata", {}).get("concord:source")
        if source is None:
            continue  # CDK's own helper functions (none today) have no local source
        functions.append(
            FunctionSpec(
                name=r.name_of(lid),
                source=source,
                handler=props["Handler"],
                timeout_seconds=int(props.get("Timeout", 3)),
                memory_mb=int(props.get("MemorySize", 128)),
                environment=r.resolve(props.get("Environment", {}).get("Variables", {})),
            )
        )

    event_sources = [
        EventSourceSpec(
            queue_name=_arn_name(r.resolve(props["EventSourceArn"])),
            function_name=r.resolve(props["FunctionName"]),
            batch_size=int(props.get("BatchSize", 10)),
            batching_window_seconds=int(props.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
        )
        for _, props in _of_type(resources, "AWS::Lambda::EventSourceMapping")
        if ":sqs:" in r.resolve(props["EventSourceArn"])
    ]

    routes = []
    for _, props in _of_type(resources, "AWS::ApiGateway::Method"):
        integration = props.get("Integration", {})
        function_id = _function_in(integration.get("Uri"), resources)
        if integration.get("Type") == "AWS_PROXY" and function_id:
            routes.append(
                RouteSpec(
                    method=props["HttpMethod"],
                    path=_route_path(resources, props["ResourceId"]),
                    function_name=r.name_of(function_id),
                )
            )

    archives = [
        {
            "name": r.name_of(lid),
            "bus_arn": r.resolve(props["SourceArn"]),
            "pattern": r.resolve(props.get("EventPattern")),
            "retention_days": int(props.get("RetentionDays", 0)),
        }
        for lid, props in _of_type(resources, "AWS::Events::Archive")
    ]

    return Topology(
        buses=[r.name_of(lid) for lid, _ in _of_type(resources, "AWS::Events::EventBus")],
        archives=archives,
        queues=queues,
        rules=rules,
        tables=tables,
        secrets=[r.name_of(lid) for lid, _ in _of_type(resources, "AWS::SecretsManager::Secret")],
        topics=[r.name_of(lid) for lid, _ in _of_type(resources, "AWS::SNS::Topic")],
        functions=functions,
        event_sources=event_sources,
        routes=routes,
        state_machines=[
            StateMachineSpec(
                name=r.name_of(lid),
                definition=r.resolve(props["DefinitionString"]),
            )
            for lid, props in _of_type(resources, "AWS::StepFunctions::StateMachine")
        ],
        schedules=schedules,
    )
