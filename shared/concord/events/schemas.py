"""JSON Schemas of the canonical events, generated from the models and checked in.

`python -m concord.events.schemas` rewrites the checked-in files; a unit test fails when
they and the models disagree, so a model change cannot ship without its schema.
`python -m concord.events.schemas --release` copies them to schemas/released/, the last released
schema of each version, which a later schema of that version must stay compatible with
(concord.events.compatibility; docs/governance.md, "Versioned events and deprecation").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .envelope import EVENT_MODELS, Envelope

SCHEMA_DIR = Path(__file__).parent / "schemas"
RELEASED_DIR = SCHEMA_DIR / "released"


def schema_file_name(model: type[Envelope]) -> str:
    event_type = model.model_fields["type"].default
    version = model.model_fields["version"].default
    return f"{event_type}.v{version}.json"


def render_schema(model: type[Envelope]) -> str:
    schema = model.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"urn:concord:events:{schema_file_name(model).removesuffix('.json')}"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def expected_schemas() -> dict[str, str]:
    return {schema_file_name(model): render_schema(model) for model in EVENT_MODELS}


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    expected = expected_schemas()
    for stale in set(p.name for p in directory.glob("*.json")) - set(expected):
        (directory / stale).unlink()
    written = []
    for name, text in expected.items():
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def release_schemas(directory: Path = SCHEMA_DIR, released: Path = RELEASED_DIR) -> list[Path]:
    """Record the checked-in schemas as released. A released version whose model is gone (a
    retired version kept by name only) keeps its released schema."""
    released.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sorted(directory.glob("*.json")):
        target = released / source.name
        target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
        written.append(target)
    return written


if __name__ == "__main__":
    for path in release_schemas() if sys.argv[1:] == ["--release"] else write_schemas():
        print(path)
    sys.exit(0)
