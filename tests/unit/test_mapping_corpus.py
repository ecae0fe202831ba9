"""The mapping regression corpus: every corpus item rendered through its mappers must equal its
golden file (tests/fixtures/mapping_corpus/golden). After an intended mapping change, run
`make golden` and review the golden files' diff like code (docs/governance.md)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from concord.connectors.business_central import mappers as business_central_mappers
from concord.events import EVENT_MODEL_BY_TYPE
from concord.mappings.vendors import CONNECTORS
from tests.regression import replay
from tests.regression.corpus import CORPUS, EVENTS, GOLDEN, RECORDS, corpus_files, mapping_config
from tests.regression.inbound import RECORD_MAPPERS

ITEMS = corpus_files()


@pytest.fixture(scope="module")
def rendered() -> dict[Path, str]:
    return replay.rendered_corpus()


@pytest.mark.parametrize("item", ITEMS, ids=str)
def test_the_mappers_render_each_corpus_item_as_its_golden_file(item: Path, rendered: dict[Path, str]) -> None:
    diff = replay.differences({item: rendered[item]}, GOLDEN).get(item, "")
    assert not diff, f"the mappings' output for {item} changed; if intended, run `make golden`:\n{diff}"


def test_no_golden_file_is_left_without_its_corpus_item(rendered: dict[Path, str]) -> None:
    stale = [item for item, diff in replay.differences(rendered).items() if item not in rendered]
    assert not stale, f"golden files without a corpus item: {stale} (make golden removes them)"


def test_the_corpus_holds_every_canonical_event_type() -> None:
    present = {path.stem for path in ITEMS if path.parts[0] == EVENTS}
    missing = sorted(set(EVENT_MODEL_BY_TYPE) - present)
    assert not missing, f"add tests/fixtures/mapping_corpus/events/<type>.json for {missing}, then make golden"


def test_each_event_file_holds_events_of_its_own_type() -> None:
    for item in (path for path in ITEMS if path.parts[0] == EVENTS):
        types = {event["type"] for event in json.loads((CORPUS / item).read_text())}
        assert types == {item.stem}, item


def test_every_registered_renderer_sends_something_for_the_corpus(rendered: dict[Path, str]) -> None:
    """A connector in CONNECTORS that renders no request for any corpus event is untested here."""
    outbound = [json.loads(text) for item, text in rendered.items() if item.parts[0] == EVENTS]
    connectors = {name for events in outbound for event in events for name in event["outbound"]}
    assert connectors == set(CONNECTORS)


def test_every_record_mapper_has_corpus_records() -> None:
    keyed = {f"{path.parts[0]}/{path.stem}" for path in ITEMS if len(path.parts) == 3 and path.parts[1] == RECORDS}
    assert keyed == set(RECORD_MAPPERS)


def test_a_renamed_field_in_a_mapper_shows_as_a_diff_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    original = business_central_mappers.to_bc_customer

    def renamed(*args: object, **kwargs: object) -> dict[str, object]:
        body = original(*args, **kwargs)  # type: ignore[arg-type]
        body["name"] = body.pop("displayName")
        return body

    monkeypatch.setattr(business_central_mappers, "to_bc_customer", renamed)
    item = Path(EVENTS) / "AccountChanged.json"
    diff = replay.differences({item: replay.replay_item(item, mapping_config())}, GOLDEN)[item]
    assert diff.startswith(f"--- golden/{item}\n+++ rendered/{item}\n")
    removed = [line for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    added = [line for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert any('"displayName": "name-2e9c4b17"' in line for line in removed)
    assert any('"name": "name-2e9c4b17"' in line for line in added)


def test_update_writes_the_golden_files_and_removes_stale_ones(tmp_path: Path, rendered: dict[Path, str]) -> None:
    stale = tmp_path / "events" / "Retired.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("[]\n")
    changed = replay.update(rendered, tmp_path)
    assert set(changed) == {*rendered, Path("events/Retired.json")}
    assert not stale.exists()
    assert replay.differences(rendered, tmp_path) == {}
    assert replay.main([]) == 0  # the checked-in golden files match too


def test_a_soap_rendering_does_not_depend_on_the_xml_prefixes_the_process_registered() -> None:
    """ElementTree names namespaces by a process-wide registry (the Workday sandbox registers
    "wd"): a rendering must read the same either way, or golden files would depend on test order."""
    item = Path(EVENTS) / "TimeApproved.json"
    before = replay.replay_item(item, mapping_config())
    ET.register_namespace("wd-elsewhere", "urn:com.workday/bsvc")
    assert replay.replay_item(item, mapping_config()) == before
    assert "Submit_Customer_Invoice_Request" in before
