"""The audit trail function gets the mapping configuration the flows get, so the rendering it
keeps with each event is the one `concord mappings diff` compares with (docs/governance.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from concord import catalog
from concord.mappings.inputs import MappingSettings
from concord.mappings.vendors import CONNECTORS
from concord_infra.config import REPO_ROOT, StageConfig

from .test_hardening import _functions

FLOW = "quote_to_cash_create_psa_project"  # a function that maps with the stage's configuration


def test_the_audit_trail_function_renders_with_the_flows_configuration(dev: dict[str, Any]) -> None:
    variables = {folder: props["Environment"]["Variables"] for folder, (_, props) in _functions(dev).items()}
    audit, flow = variables[catalog.AUDIT_TRAIL.folder], variables[FLOW]
    assert json.loads(audit["LEGAL_ENTITIES"]) == json.loads(flow["LEGAL_ENTITIES"])
    assert json.loads(audit["SYSTEM_OF_RECORD"]) == json.loads(flow["SYSTEM_OF_RECORD"])
    assert MappingSettings.from_env(audit).config() is not None


def test_a_stage_that_names_its_connectors_renders_only_those(dev: dict[str, Any], prod: dict[str, Any]) -> None:
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]
    named = stages["prod"]["rendered_connectors"]
    prod_audit = _functions(prod)[catalog.AUDIT_TRAIL.folder][1]["Environment"]["Variables"]
    dev_audit = _functions(dev)[catalog.AUDIT_TRAIL.folder][1]["Environment"]["Variables"]

    prod_config, dev_config = (
        MappingSettings.from_env(prod_audit).config(),
        MappingSettings.from_env(dev_audit).config(),
    )
    assert prod_config is not None and prod_config.connectors == tuple(sorted(named))
    assert "RENDERED_CONNECTORS" not in dev_audit  # dev names none: every connector
    assert dev_config is not None and dev_config.connectors == CONNECTORS


def test_a_stage_naming_an_unknown_connector_fails_the_synth() -> None:
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]
    with pytest.raises(ValidationError, match="unknown connectors \\['sap'\\]"):
        StageConfig.model_validate({**stages["prod"], "rendered_connectors": ["netsuite", "sap"]})
