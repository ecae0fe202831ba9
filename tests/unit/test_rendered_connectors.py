"""The audit trail renders each event through the connectors its stage names
(`rendered_connectors`, RENDERED_CONNECTORS), and loads only their mappers."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from concord.errors import ConfigurationError
from concord.events import Envelope, parse_event
from concord.local.template import REPO_ROOT
from concord.mappings.inputs import MappingSettings
from concord.mappings.render import render_event
from concord.mappings.vendors import CONNECTORS
from concord.operator.mappings import stage_mapping_config

ACCOUNT_CHANGED = REPO_ROOT / "tests" / "fixtures" / "mapping_corpus" / "events" / "AccountChanged.json"
LOCAL = stage_mapping_config("local", REPO_ROOT)


def settings(connectors: list[str] | None) -> MappingSettings:
    audit = {
        "LEGAL_ENTITIES": json.dumps({k: v.model_dump(mode="json") for k, v in LOCAL.rules.items()}),
        "SYSTEM_OF_RECORD": LOCAL.ownership.model_dump_json(by_alias=True, exclude_none=True),
    }
    if connectors is not None:
        audit["RENDERED_CONNECTORS"] = json.dumps(connectors)
    return MappingSettings.from_env(audit)


def account_changed() -> Envelope:
    return parse_event(json.loads(ACCOUNT_CHANGED.read_text())[0])


def test_a_rendering_covers_only_the_named_connectors() -> None:
    named = settings(["xero", "netsuite"]).config()
    every = settings(None).config()
    assert named is not None and every is not None
    assert named.connectors == ("netsuite", "xero")
    assert every.connectors == CONNECTORS

    event = account_changed()
    assert set(render_event(event, named)) == {"netsuite", "xero"}
    assert set(render_event(event, every)) > {"netsuite", "xero"}


@pytest.mark.parametrize("connectors", [["sap"], "xero", [1]])
def test_an_unknown_connector_is_a_configuration_error(connectors: object) -> None:
    audit = {"RENDERED_CONNECTORS": json.dumps(connectors)}
    with pytest.raises(ConfigurationError, match="RENDERED_CONNECTORS"):
        MappingSettings.from_env(audit)


def test_mappings_diff_renders_the_stage_s_connectors() -> None:
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]
    assert stage_mapping_config("prod", REPO_ROOT).connectors == tuple(sorted(stages["prod"]["rendered_connectors"]))
    assert LOCAL.connectors == CONNECTORS  # the local stage names none: every connector


# Renders the corpus' AccountChanged through two connectors; prints the renderer modules loaded.
LOADED_RENDERERS = """
import json, sys
from concord.events import parse_event
from concord.mappings.render import render_event
from concord.operator.mappings import stage_mapping_config
from concord.local.template import REPO_ROOT
import dataclasses
config = dataclasses.replace(stage_mapping_config("local", REPO_ROOT), connectors=("netsuite", "xero"))
render_event(parse_event(json.loads(open(sys.argv[1]).read())[0]), config)
print(json.dumps(sorted(name for name in sys.modules if name.startswith("concord.mappings.vendors."))))
"""


def test_only_the_named_connectors_mappers_are_imported() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "shared"), str(REPO_ROOT)])}
    result = subprocess.run(
        [sys.executable, "-c", LOADED_RENDERERS, str(ACCOUNT_CHANGED)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=REPO_ROOT,
    )
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded == ["concord.mappings.vendors.netsuite", "concord.mappings.vendors.xero"]
