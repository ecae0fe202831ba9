"""Record canonical events from a stage's audit trail into the corpus, anonymised.

    python -m tests.regression.record --local                     # the local stack, e.g. after `make demo`
    python -m tests.regression.record --stage dev --since 1d --per-type 2
    python -m tests.regression.record --local --add                # beside the events already there

For each event type, the newest events published in the window (--per-type of them) replace
tests/fixtures/mapping_corpus/events/<Type>.json (with --add: join its events, replacing one of
the same id, so hand-written edge cases stay); a type with none keeps its file. Each event's
`data` is anonymised (tests/regression/anonymise.py); ids, amounts and dates are kept. Then run
`make golden` and review the diff. Reads are Queries on the audit trail's by_kind index.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from concord.clock import utc_now
from concord.events import parse_event
from concord.operator.stores import StageStores
from concord.stores.audit_items import RecordedEvent

from .anonymise import anonymise
from .corpus import CORPUS, EVENTS


def anonymised_event(recorded: RecordedEvent) -> dict[str, Any]:
    """The recorded event with its data anonymised, validated as a canonical event still."""
    detail = {**recorded.detail, "data": anonymise(recorded.detail.get("data", {}))}
    return parse_event(detail).model_dump(mode="json")


def write_events(path: Path, events: list[dict[str, Any]], *, add: bool) -> None:
    """The events as the file's content, or with `add` after the file's events of other ids."""
    kept = json.loads(path.read_text()) if add and path.exists() else []
    ids = {event["id"] for event in events}
    content = [event for event in kept if event["id"] not in ids] + events
    path.write_text(json.dumps(content, indent=2) + "\n")  # in the model's field order, as hand-written ones


def record(
    stores: StageStores,
    start: dt.datetime,
    end: dt.datetime,
    per_type: int,
    corpus: Path = CORPUS,
    *,
    add: bool = False,
) -> dict[str, int]:
    """Write the newest `per_type` events of each type published in [start, end]; counts by type."""
    with stores.audit_call("dynamodb:Query"):
        events = stores.audit.events_published(start, end)
    by_type: dict[str, list[RecordedEvent]] = defaultdict(list)
    for event in events:  # in publication order: the newest last
        by_type[event.event_type].append(event)
    directory = corpus / EVENTS
    directory.mkdir(parents=True, exist_ok=True)
    for event_type, recorded in sorted(by_type.items()):
        kept = [anonymised_event(event) for event in recorded[-per_type:]]
        write_events(directory / f"{event_type}.json", kept, add=add)
    return {event_type: min(len(recorded), per_type) for event_type, recorded in sorted(by_type.items())}


def main(argv: list[str] | None = None) -> int:
    from concord.cli.ops.context import parse_moment, target

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", action="store_true", help="the local stack (concord local up)")
    parser.add_argument("--stage", help="a deployed stage (default dev)")
    parser.add_argument("--profile")
    parser.add_argument("--region")
    parser.add_argument("--since", default="1d", help="a duration back (30m, 2h, 7d) or an ISO time")
    parser.add_argument("--per-type", type=int, default=2)
    parser.add_argument("--add", action="store_true", help="join each type's file instead of replacing it")
    args = parser.parse_args(argv)
    now = utc_now()
    where = target(args.local, None, args.stage, args.profile, args.region)
    counts = record(where.stores(), parse_moment(args.since, now, "--since"), now, args.per_type, add=args.add)
    for event_type, count in counts.items():
        print(f"{event_type}: {count} event(s) recorded")
    print(f"{sum(counts.values())} events from {where.label}; now `make golden` and review the diff")
    return 0


if __name__ == "__main__":
    sys.exit(main())
