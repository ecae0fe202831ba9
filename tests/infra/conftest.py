"""The CDK app synthesized once per test session, per stage, as `cdk synth` would."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from aws_cdk.assertions import Template

from ..conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "infra"))

from app import build_app


def _context(stage: str) -> dict[str, Any]:
    # cdk.App() in tests does not read cdk.json: pass its context. No dependency bundling.
    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return {**context, "concord:stage": stage, "concord:bundle": "code"}


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """stage -> (template dict, assertions Template). Synth fails on any cdk-nag finding."""
    result = {}
    for stage in ("dev", "prod"):
        app, stack = build_app(_context(stage), outdir=str(tmp_path_factory.mktemp(f"cdk-{stage}")))
        assembly = app.synth()
        template = assembly.get_stack_by_name(stack.stack_name).template
        result[stage] = (template, Template.from_json(template), assembly.directory)
    return result


@pytest.fixture(scope="session")
def dev(synthesized: dict[str, Any]) -> dict[str, Any]:
    return synthesized["dev"][0]


@pytest.fixture(scope="session")
def dev_template(synthesized: dict[str, Any]) -> Template:
    return synthesized["dev"][1]


@pytest.fixture(scope="session")
def prod(synthesized: dict[str, Any]) -> dict[str, Any]:
    return synthesized["prod"][0]


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}
