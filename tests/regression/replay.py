"""Replay the mapping corpus through every mapper that takes each item, and compare the result
with the golden files.

    python -m tests.regression.replay            # exit 1 and print a unified diff per changed file
    python -m tests.regression.replay --update   # rewrite the golden files (make golden)

Each corpus file renders to one golden text (stable JSON): a canonical event's inbound mapping
(as Concord's own Standard Webhooks senders deliver it) and outbound requests (every
connector's, concord.mappings.render); a webhook delivery's canonical events, unprocessed items
and the requests those events render; an API record's canonical record.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from concord.events import Envelope, parse_event, producer_of
from concord.events.types import System
from concord.ingress.delivery import Verified, WebhookRequest
from concord.ingress.schemes import scheme_for
from concord.ingress.sources import SourceConfig
from concord.mappings.inputs import MappingConfig
from concord.mappings.render import render_event
from concord.mappings.requests import stable_text, unified_diff

from .corpus import CORPUS, EVENTS, FROZEN_NOW, GOLDEN, RECORDS, WEBHOOKS, corpus_files, golden_path, mapping_config
from .inbound import event_json, replay_records, replay_webhook

CANONICAL_SOURCE = "canonical"


def from_canonical_sender(event: Envelope) -> dict[str, Any] | None:
    """The event as ingress makes it from a canonical delivery by the system that produces it
    (None for Concord's own events, which no system delivers)."""
    producer = producer_of(event.type)
    if producer is System.CONCORD:
        return None
    payload = {
        "type": event.type,
        "version": event.version,
        "timestamp": event.occurred_at.isoformat(),
        "legal_entity": event.legal_entity,
        "data": event.data.model_dump(mode="json"),
    }
    body = json.dumps(payload).encode()
    source = SourceConfig(system=producer, legal_entity=event.legal_entity)
    scheme = scheme_for(source.scheme)
    request = WebhookRequest(source=CANONICAL_SOURCE, headers={}, body=body)
    verified = Verified(delivery_id=event.id)
    normalized = scheme.normalize(request, CANONICAL_SOURCE, source, [], verified, payload, FROZEN_NOW)
    return {"events": [event_json(e) for e in normalized.events]}


def replay_event(raw: Mapping[str, Any], config: MappingConfig) -> dict[str, Any]:
    event = parse_event(dict(raw))
    return {
        "event_id": event.id,
        "inbound": from_canonical_sender(event),
        "outbound": render_event(event, config),
    }


def replay_item(item: Path, config: MappingConfig, corpus: Path = CORPUS) -> str:
    """The golden text of one corpus file (path relative to the corpus)."""
    content = json.loads((corpus / item).read_text())
    if item.parts[0] == EVENTS:
        return stable_text([replay_event(raw, config) for raw in content])
    if item.parts[1] == WEBHOOKS:
        delivery = replay_webhook(content)
        delivery["outbound"] = {event["id"]: render_event(parse_event(event), config) for event in delivery["events"]}
        return stable_text(delivery)
    if item.parts[1] == RECORDS:
        return stable_text(replay_records(f"{item.parts[0]}/{item.stem}", content))
    raise ValueError(f"{item}: not under events/, <connector>/webhooks/ or <connector>/records/")


def rendered_corpus(corpus: Path = CORPUS) -> dict[Path, str]:
    config = mapping_config()
    return {item: replay_item(item, config, corpus) for item in corpus_files(corpus)}


def differences(rendered: Mapping[Path, str], golden: Path = GOLDEN) -> dict[Path, str]:
    """Per corpus item whose rendering differs from its golden file: the unified diff (a missing
    golden file diffs against nothing; a golden file without a corpus item is listed too)."""
    found: dict[Path, str] = {}
    for item, text in rendered.items():
        path = golden_path(item, golden)
        before = path.read_text() if path.exists() else ""
        diff = unified_diff(before, text, f"golden/{item}", f"rendered/{item}")
        if diff:
            found[item] = diff
    for stale in sorted(p.relative_to(golden) for p in golden.rglob("*.json")):
        if stale not in rendered:
            found[stale] = f"golden/{stale}: no corpus item renders it any more (make golden removes it)\n"
    return found


def update(rendered: Mapping[Path, str], golden: Path = GOLDEN) -> list[Path]:
    """Write every golden file, remove those without a corpus item; the paths that changed."""
    changed = list(differences(rendered, golden))
    for item, text in rendered.items():
        path = golden_path(item, golden)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for stale in [p for p in golden.rglob("*.json") if p.relative_to(golden) not in rendered]:
        stale.unlink()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update", action="store_true", help="rewrite the golden files after an intended change")
    args = parser.parse_args(argv)
    rendered = rendered_corpus()
    if args.update:
        changed = update(rendered)
        print(f"{len(rendered)} golden files written, {len(changed)} changed: review them with git diff")
        return 0
    found = differences(rendered)
    for diff in found.values():
        sys.stdout.write(diff)
    print(f"{len(rendered)} corpus items, {len(found)} differ from their golden files")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
