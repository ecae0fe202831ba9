"""The compatibility gate: every checked-in event schema against its last released schema.

A schema of a released version may only grow (docs/governance.md, "Versioned events and deprecation"); a
breaking change needs a new version. `python -m concord.events.schemas --release` records the
released schemas when a version ships.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from concord.events import schemas
from concord.events.compatibility import breaking_changes

RELEASED = sorted(path.name for path in schemas.RELEASED_DIR.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def gate(directory: Path, released: Path) -> dict[str, list[str]]:
    """What the gate reports for the schemas in `directory` against those in `released`."""
    report = {}
    for path in sorted(released.glob("*.json")):
        current = directory / path.name
        problems = ["schema removed"] if not current.is_file() else breaking_changes(load(path), load(current))
        if problems:
            report[path.name] = problems
    return report


def test_every_current_version_was_released() -> None:
    # A version ships with its released schema, so the gate guards it from then on.
    assert set(schemas.expected_schemas()) <= set(RELEASED)


@pytest.mark.parametrize("name", RELEASED)
def test_a_released_schema_is_still_accepted_by_the_current_one(name: str) -> None:
    current = schemas.SCHEMA_DIR / name
    assert current.is_file(), f"{name} was released: a retired version keeps its schema"
    assert breaking_changes(load(schemas.RELEASED_DIR / name), load(current)) == [], (
        f"{name} changed incompatibly: add a new version (concord.events.versions) instead"
    )


def test_the_gate_fails_on_a_breaking_edit_of_opportunity_closed_won_v2(tmp_path: Path) -> None:
    directory = tmp_path / "schemas"
    shutil.copytree(schemas.SCHEMA_DIR, directory)
    v2 = directory / "OpportunityClosedWon.v2.json"
    schema = load(v2)
    deal = schema["$defs"]["OpportunityClosedWon"]
    del deal["properties"]["billing_owner"]  # a field removed
    deal["required"].append("payment_term")  # an optional field made required
    schema["$defs"]["ContractType"]["enum"].remove("milestone")  # an enum value removed
    v2.write_text(json.dumps(schema), encoding="utf-8")

    assert gate(directory, directory / "released") == {
        "OpportunityClosedWon.v2.json": [
            "$.data.billing_owner: field removed",
            "$.data.payment_term: field is required now",
            "$.data.contract_type: enum values removed: milestone",
        ]
    }
    assert gate(schemas.SCHEMA_DIR, schemas.RELEASED_DIR) == {}


# --------------------------------------------------------------------------- the comparer


def obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


TEXT = {"type": "string"}


def test_an_added_optional_field_is_compatible() -> None:
    assert breaking_changes(obj({"a": TEXT}, ("a",)), obj({"a": TEXT, "b": TEXT}, ("a",))) == []


def test_a_new_required_field_breaks() -> None:
    assert breaking_changes(obj({"a": TEXT}), obj({"a": TEXT, "b": TEXT}, ("b",))) == ["$.b: field is required now"]


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ({"type": "number"}, {"type": "integer"}, "$.a: type narrowed from number to integer"),
        ({"anyOf": [TEXT, {"type": "null"}]}, TEXT, "$.a: null no longer accepted"),
        ({"type": "string", "maxLength": 64}, {"type": "string", "maxLength": 32}, "$.a: maxLength lowered"),
        ({"type": "integer", "minimum": 0}, {"type": "integer", "minimum": 1}, "$.a: minimum raised"),
        (TEXT, {"type": "string", "pattern": "^[A-Z]+$"}, "$.a: pattern changed"),
        ({"enum": ["x", "y"]}, {"enum": ["x"]}, "$.a: enum values removed: y"),
    ],
)
def test_a_narrowed_field_breaks(old: dict[str, Any], new: dict[str, Any], problem: str) -> None:
    (found,) = breaking_changes(obj({"a": old}), obj({"a": new}))
    assert found.startswith(problem)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ({"type": "integer"}, {"type": "number"}),
        (TEXT, {"anyOf": [TEXT, {"type": "null"}]}),
        ({"type": "string", "maxLength": 32}, {"type": "string", "maxLength": 64}),
        ({"enum": ["x"]}, {"enum": ["x", "y"]}),
    ],
)
def test_a_widened_field_is_compatible(old: dict[str, Any], new: dict[str, Any]) -> None:
    assert breaking_changes(obj({"a": old}), obj({"a": new})) == []


def test_references_are_compared_by_what_they_point_to() -> None:
    released = {"$defs": {"Old": obj({"a": TEXT}, ("a",))}, **obj({"x": {"$ref": "#/$defs/Old"}})}
    renamed = copy.deepcopy(released) | {"$defs": {"New": obj({"a": TEXT}, ("a",))}}
    renamed["properties"]["x"] = {"$ref": "#/$defs/New"}
    narrowed = copy.deepcopy(renamed)
    narrowed["$defs"]["New"]["properties"]["a"] = {"type": "string", "maxLength": 3}

    assert breaking_changes(released, renamed) == []
    assert breaking_changes(released, narrowed) == ["$.x.a: maxLength lowered from none to 3"]
