"""Where the corpus lives and the fixed inputs every replay shares (no clock, no randomness).

tests/fixtures/mapping_corpus/
  events/<EventType>.json           canonical events, a list per event type
  <connector>/webhooks/<name>.json  a webhook delivery: source, (fake) secret, raw body
  <connector>/records/<kind>.json   API records, read through the connector's inbound mapper
  golden/<same path>                what the replay renders for each file (make golden)
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from concord.mappings.inputs import MappingConfig
from concord.operator.mappings import stage_mapping_config

REPO_ROOT = Path(__file__).resolve().parents[2]
CORPUS = REPO_ROOT / "tests" / "fixtures" / "mapping_corpus"
GOLDEN = CORPUS / "golden"
EVENTS = "events"
WEBHOOKS = "webhooks"
RECORDS = "records"
# The stage whose configuration (cdk.json: legal entities' rules; the system of record) the
# corpus renders with.
STAGE = "local"
# "Now" for every mapper that takes the time (a webhook's ingest time).
FROZEN_NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def corpus_files(corpus: Path = CORPUS) -> list[Path]:
    """Every corpus item, relative to the corpus, in a stable order (golden files left out)."""
    return sorted(
        path.relative_to(corpus) for path in corpus.rglob("*.json") if path.relative_to(corpus).parts[0] != GOLDEN.name
    )


def golden_path(item: Path, golden: Path = GOLDEN) -> Path:
    return golden / item


def mapping_config() -> MappingConfig:
    return stage_mapping_config(STAGE, REPO_ROOT)
