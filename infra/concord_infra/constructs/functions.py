"""Lambda functions: the shared layer (Concord's code + dependencies) and one function per folder.

Packaging needs no Docker: the layer is bundled locally with pip's manylinux wheels for the
Lambda runtime's Python, and compiled to bytecode here (Lambda's file system is read-only: a
module without bytecode is compiled again at every cold start). Each function ships only its own
folder; `shared/` ships once, in the layer. Every function gets its own role, its own log group
with retention, and tracing.
"""

from __future__ import annotations

import compileall
import hashlib
import py_compile
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, CfnResource, DockerImage, Duration, ILocalBundling, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from concord.naming import Names

from ..nag import LOG_KEY_REASON, acknowledge, skip_checkov

REPO_ROOT = Path(__file__).resolve().parents[3]
# The Python the functions deploy on, also the one the tests run on: pyproject.toml's
# tool.concord.python (why that version: there). The layer's wheels are built for it.
RUNTIME_PYTHON_VERSION: str = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["concord"]["python"]
RUNTIME: lambda_.Runtime = getattr(lambda_.Runtime, "PYTHON_" + RUNTIME_PYTHON_VERSION.replace(".", "_"))
# Graviton: about 20% less per GB-second than x86_64 at the same memory; every binary wheel the
# layer needs (pydantic-core, cryptography, cffi, wrapt) is published for manylinux2014_aarch64.
# The layer's wheels and the functions' architecture must change together (docs/decisions.md).
ARCHITECTURE: lambda_.Architecture = lambda_.Architecture.ARM_64
LAYER_PLATFORM = "manylinux2014_aarch64"
# Provided by the Lambda Python runtime: not bundled (botocore alone is ~30 MB, pulled in
# by aws-xray-sdk), so functions use the runtime's copies.
PROVIDED_BY_RUNTIME = {"boto3", "botocore", "s3transfer", "jmespath"}
METRICS_NAMESPACE = "Concord"
SOURCE_METADATA_KEY = "concord:source"


def runtime_requirements() -> list[str]:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return [
        req
        for req in project["dependencies"]
        if req.split("[")[0].split("=")[0].split(">")[0].strip() not in PROVIDED_BY_RUNTIME
    ]


def _tree_hash(*paths: Path) -> str:
    digest = hashlib.sha256()
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(REPO_ROOT)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


@jsii.implements(ILocalBundling)
class LayerBundler:
    """Builds the layer's `python/` folder on this machine (no Docker)."""

    def __init__(self, with_dependencies: bool) -> None:
        self._with_dependencies = with_dependencies

    # jsii passes the BundlingOptions struct as keywords; only the output folder matters here.
    def try_bundle(self, output_dir: str, *, image: DockerImage, **_options: object) -> bool:
        target = Path(output_dir) / "python"
        shutil.copytree(
            REPO_ROOT / "shared" / "concord",
            target / "concord",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "local", "cli", "operator"),
        )
        if self._with_dependencies:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "-qq",
                    "--no-compile",
                    "--target",
                    str(target),
                    "--platform",
                    LAYER_PLATFORM,
                    "--implementation",
                    "cp",
                    "--python-version",
                    RUNTIME_PYTHON_VERSION,
                    "--only-binary=:all:",
                    *runtime_requirements(),
                ],
                check=True,
            )
            _remove_distributions(target, PROVIDED_BY_RUNTIME)
        compile_bytecode(target)
        return True


def compile_bytecode(target: Path) -> None:
    """Every module's bytecode beside it, for the runtime's Python. `/opt` is read-only on Lambda,
    so without it every cold start compiles every module it imports (a handler's import measured
    1.35 s of CPU against 0.89 s with bytecode). Unchecked hashes: the asset's zip does not keep
    the sources' modification times, which timestamp-checked bytecode would be compared with."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != RUNTIME_PYTHON_VERSION:
        raise RuntimeError(
            f"the layer is compiled by the Python that synthesizes it ({running}), but the functions run "
            f"Python {RUNTIME_PYTHON_VERSION}: synthesize with the venv `make` builds (tool.concord.python)"
        )
    if not compileall.compile_dir(target, quiet=1, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH):
        raise RuntimeError(f"the layer's modules did not all compile (under {target})")


def _remove_distributions(target: Path, names: set[str]) -> None:
    """Delete installed distributions by their RECORD (what pip wrote for each)."""
    for dist_info in target.glob("*.dist-info"):
        if dist_info.name.split("-")[0].lower().replace("_", "-") not in names:
            continue
        for line in (dist_info / "RECORD").read_text().splitlines():
            path = target / line.split(",")[0]
            if path.is_file():
                path.unlink()
        shutil.rmtree(dist_info, ignore_errors=True)
    for folder in sorted(target.iterdir(), reverse=True):
        if folder.is_dir() and not any(folder.rglob("*.*")):
            shutil.rmtree(folder)


class SharedLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, with_dependencies: bool) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            code=lambda_.Code.from_asset(
                str(REPO_ROOT / "shared"),
                asset_hash=_tree_hash(REPO_ROOT / "pyproject.toml", REPO_ROOT / "shared" / "concord", Path(__file__))
                + ("-deps" if with_dependencies else "-code"),
                bundling=BundlingOptions(
                    # Never pulled: the local bundler always succeeds.
                    image=DockerImage.from_registry(f"public.ecr.aws/sam/build-python{RUNTIME_PYTHON_VERSION}"),
                    local=LayerBundler(with_dependencies),
                ),
            ),
            compatible_runtimes=[RUNTIME],
            description="Concord shared code and runtime dependencies",
        )


DEFAULT_TIMEOUT = Duration.seconds(30)


class ConcordFunction(Construct):
    """One Lambda function from `functions/<name>/handler.py`, with its own role and log group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        names: Names,
        layer: lambda_.ILayerVersion,
        environment: dict[str, str],
        log_retention_days: int,
        retain_logs: bool,
        timeout: Duration = DEFAULT_TIMEOUT,
        memory_size: int = 256,
        reserved_concurrency: int | None = None,
        description: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.reserved_concurrency = reserved_concurrency
        self.timeout = timeout
        function_name = names.function(name)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=RETENTION[log_retention_days],
            removal_policy=RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY,
        )
        # Its own role, allowed to write to its own log group only (no managed policy).
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"Execution role of {function_name}",
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[self.log_group.log_group_arn],
            )
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=description,
            runtime=RUNTIME,
            architecture=ARCHITECTURE,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(REPO_ROOT / "functions" / name), exclude=["__pycache__", "*.pyc"]),
            layers=[layer],
            role=self.role,
            log_group=self.log_group,
            timeout=timeout,
            memory_size=memory_size,
            reserved_concurrent_executions=reserved_concurrency,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "POWERTOOLS_SERVICE_NAME": name,
                "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
        )
        acknowledge(
            self.role,
            "AwsSolutions-IAM5[Resource::*]",
            "X-Ray's PutTraceSegments and PutTelemetryRecords have no resource-level permissions.",
        )
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            f"Python {RUNTIME_PYTHON_VERSION} on purpose: the code is tested and type-checked on it "
            "(pyproject.toml, tool.concord.python); its Lambda runtime is supported, not the newest.",
        )
        # The local stack runs this folder's handler in its own runtime.
        cfn = self.function.node.default_child
        assert isinstance(cfn, CfnResource), f"{self.function.node.path} has no CloudFormation resource"
        cfn.add_metadata(SOURCE_METADATA_KEY, f"functions/{name}")
        self._skip_checkov_checks(reserved_concurrency)

    def _skip_checkov_checks(self, reserved_concurrency: int | None) -> None:
        for check_id, reason in FUNCTION_CHECKS_ACCEPTED.items():
            skip_checkov(self.function, check_id, reason)
        skip_checkov(self.log_group, "CKV_AWS_158", LOG_KEY_REASON)
        if reserved_concurrency is None:
            skip_checkov(
                self.function,
                "CKV_AWS_115",
                "Not reserved: bounded by its trigger (schedule, saga, API throttle) and the vendors' shared "
                "rate budget; a reservation takes from the account's pool. The sync flows reserve theirs "
                "where the stage sets flow_reserved_concurrency.",
            )

    @property
    def arn(self) -> str:
        return str(self.function.function_arn)


# checkov findings every Concord function accepts, and why.
FUNCTION_CHECKS_ACCEPTED = {
    "CKV_AWS_117": "No VPC: the functions reach SaaS APIs and AWS services over HTTPS and hold no network "
    "resource to protect; a VPC would need NAT gateways for the vendors and adds no boundary.",
    "CKV_AWS_173": "Environment variables hold names and configuration, never secrets (those are read from "
    "Secrets Manager); Lambda encrypts them at rest with its AWS managed key.",
}

RETENTION = {
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}
