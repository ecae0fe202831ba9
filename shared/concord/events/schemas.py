"""JSON Schemas of the canonical events, generated from the models and checked in.

`python -m concord.events.schemas` rewrites the checked-in files; a unit test fails when
they and the models disagree, so a model change cannot ship without its schema.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .envelope import EVENT_MODELS, Envelope

SCHEMA_DIR = Path(__file__).parent / "schemas"


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


if __name__ == "__main__":
    for path in write_schemas():
        print(path)
    sys.exit(0)
