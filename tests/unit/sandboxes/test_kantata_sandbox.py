"""The Kantata OX sandbox against Kantata's documented examples (kantata_fixtures/*.json, each
with its source): the envelope, page numbers, errors, 429 without headers, bulk custom field
values, external references and approval on timesheet submissions."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from concord.local.sandboxes.kantata import DEFAULT_USERS, KantataSandbox
from concord.local.sandboxes.kit import SandboxController, SandboxServer

FIXTURES = Path(__file__).parent / "kantata_fixtures"
ADMIN, CONSULTANT = list(DEFAULT_USERS)


def doc(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(KantataSandbox(), ["psa"]) as running:
        yield running


@pytest.fixture
def api(server: SandboxServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{server.url}/psa/api/v1", headers={"Authorization": f"Bearer {ADMIN}"}) as client:
        yield client


def workspace(api: httpx.Client, title: str = "Acme") -> dict[str, Any]:
    body = api.post("/workspaces.json", json={"workspace": {"title": title, "creator_role": "maven"}}).json()
    return body["workspaces"][body["results"][0]["id"]]


def test_a_list_answers_in_the_documented_envelope(api: httpx.Client) -> None:
    example = doc("response_format")
    for title in ("some project", "another project"):
        workspace(api, title)

    body = api.get("/workspaces.json").json()

    assert set(example["response"]) - {"users"} <= set(body)  # users: the example's side-load
    assert body["count"] == example["response"]["count"]
    assert all(set(ref) == {"key", "id"} and isinstance(ref["id"], str) for ref in body["results"])
    assert [body["workspaces"][ref["id"]]["title"] for ref in body["results"]] == ["some project", "another project"]
    assert set(body["meta"]) == set(example["meta_fields"])


def test_pages_are_numbered_and_per_page_stops_at_200(api: httpx.Client) -> None:
    for n in range(3):
        workspace(api, f"P{n}")

    second = api.get("/workspaces.json", params={"page": 2, "per_page": 2}).json()
    wide = api.get("/workspaces.json", params={"per_page": 500}).json()

    assert [second["workspaces"][ref["id"]]["title"] for ref in second["results"]] == ["P2"]
    assert second["meta"] == {"count": 3, "page_count": 2, "page_number": 2, "page_size": 2}
    assert wide["meta"]["page_size"] == 200


def test_errors_are_written_as_kantata_writes_them(server: SandboxServer, api: httpx.Client) -> None:
    example = doc("errors")

    untitled = api.post("/workspaces.json", json={"workspace": {"creator_role": "maven"}})
    roleless = api.post("/workspaces.json", json={"workspace": {"title": "Acme"}})
    anonymous = httpx.get(f"{server.url}/psa/api/v1/workspaces.json")

    first, second = example["validation"]["response"]["errors"]
    assert (untitled.status_code, untitled.json()) == (422, {"errors": [first]})
    assert (roleless.status_code, roleless.json()) == (422, {"errors": [second]})
    assert (anonymous.status_code, anonymous.json()) == (example["oauth"]["status"], example["oauth"]["response"])


def test_a_spent_allocation_is_a_429_without_rate_headers(server: SandboxServer, api: httpx.Client) -> None:
    control = SandboxController(server.url)
    control.set_budget("psa", 1)
    assert api.get("/workspaces.json").status_code == 200

    throttled = api.get("/workspaces.json")

    assert throttled.status_code == 429 and throttled.json()["errors"][0]["type"] == "system"
    assert not {name.lower() for name in throttled.headers} & {"retry-after", "x-ratelimit-remaining", "ratelimit"}
    control.close()


def test_custom_field_values_in_bulk_replace_earlier_values_all_or_none(api: httpx.Client) -> None:
    example = doc("custom_field_values_bulk")
    request = copy.deepcopy(example["request"])
    project = workspace(api)
    for value in request["custom_field_values"]:
        value["subject_id"] = int(project["id"])

    first = api.post("/custom_field_values.json", json=request).json()
    again = api.post("/custom_field_values.json", json=request).json()
    request["custom_field_values"][1]["subject_id"] = 999999
    refused = api.post("/custom_field_values.json", json=request)
    too_many = api.post(
        "/custom_field_values.json",
        json={"custom_field_values": [request["custom_field_values"][0]] * (example["limit"] + 1)},
    )

    assert first["count"] == 2 and set(first["results"][0]) == {"key", "id"}
    assert not {ref["id"] for ref in first["results"]} & {ref["id"] for ref in again["results"]}  # new ids
    assert refused.status_code == 422 and too_many.status_code == 422
    stored = api.get(
        "/custom_field_values.json", params={"subject_type": "Workspace", "with_subject_id": project["id"]}
    )
    assert stored.json()["count"] == 2
    assert api.get("/custom_field_values.json").status_code == 400  # subject_type is required


def test_an_external_reference_is_created_or_updated_never_duplicated(api: httpx.Client) -> None:
    example = doc("external_reference")
    project = workspace(api)
    request = copy.deepcopy(example["request"])
    request["external_reference"]["subject_id"] = int(project["id"])

    api.post("/external_references/create_or_update.json", json=request).raise_for_status()
    request["external_reference"]["service_model_ref"] = "project:crm:006B"
    api.post("/external_references/create_or_update.json", json=request).raise_for_status()
    missing = {key: value for key, value in request["external_reference"].items() if key != example["required"][-1]}

    found = api.get(
        "/external_references.json",
        params={"subject_type": "Workspace", "service_name": "concord", "include": "subject"},
    ).json()
    assert [found["external_references"][ref["id"]]["service_model_ref"] for ref in found["results"]] == [
        "project:crm:006B"
    ]
    assert project["id"] in found["workspaces"]
    answer = api.post("/external_references/create_or_update.json", json={"external_reference": missing})
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "service_model_ref"


def test_approval_lives_on_the_submission_and_the_approved_filter_ignores_its_value(
    server: SandboxServer, api: httpx.Client
) -> None:
    project = workspace(api)
    consultant = httpx.Client(base_url=api.base_url, headers={"Authorization": f"Bearer {CONSULTANT}"})
    entry = consultant.post(
        "/time_entries.json",
        json={
            "time_entry": {"workspace_id": int(project["id"]), "date_performed": "2026-03-03", "time_in_minutes": 90}
        },
    ).json()
    entry_id = entry["results"][0]["id"]
    submitted = consultant.post(
        "/timesheet_submissions.json",
        json={"timesheet_submission": {"workspace_id": int(project["id"]), "line_item_ids": [int(entry_id)]}},
    ).json()
    submission_id = submitted["results"][0]["id"]

    assert api.get("/time_entries.json", params={"approved": "false"}).json()["count"] == 0
    assert api.get("/timesheet_submissions.json", params={"statuses": "approved"}).json()["count"] == 0
    approved = api.put(f"/timesheet_submissions/{submission_id}/approve.json").json()
    again = api.put(f"/timesheet_submissions/{submission_id}/approve.json")

    record = approved["timesheet_submissions"][submission_id]
    assert record["status"] == "approved" and record["time_entry_ids"] == [entry_id] and record["user_id"] == "1002"
    assert again.status_code == 422
    listed = api.get(
        "/timesheet_submissions.json",
        params={"statuses": "approved", "include": "time_entries", "updated_after": "2000-01-01T00:00:00Z"},
    ).json()
    assert listed["time_entries"][entry_id]["time_in_minutes"] == 90
    assert api.get("/time_entries.json", params={"approved": "false"}).json()["count"] == 1  # value ignored
    consultant.close()
