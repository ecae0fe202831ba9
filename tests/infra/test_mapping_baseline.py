"""The audit trail function gets the mapping configuration the flows get, so the rendering it
keeps with each event is the one `concord mappings diff` compares with (docs/governance.md)."""

from __future__ import annotations

import json
from typing import Any

from concord import catalog
from concord.mappings.inputs import MappingSettings

from .test_hardening import _functions

FLOW = "quote_to_cash_create_psa_project"  # a function that maps with the stage's configuration


def test_the_audit_trail_function_renders_with_the_flows_configuration(dev: dict[str, Any]) -> None:
    variables = {folder: props["Environment"]["Variables"] for folder, (_, props) in _functions(dev).items()}
    audit, flow = variables[catalog.AUDIT_TRAIL.folder], variables[FLOW]
    assert json.loads(audit["LEGAL_ENTITIES"]) == json.loads(flow["LEGAL_ENTITIES"])
    assert json.loads(audit["SYSTEM_OF_RECORD"]) == json.loads(flow["SYSTEM_OF_RECORD"])
    assert MappingSettings.from_env(audit).config() is not None
