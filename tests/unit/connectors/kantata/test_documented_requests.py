"""What the Kantata connector sends, checked with respx against Kantata's documented requests
(the examples in tests/unit/sandboxes/kantata_fixtures, each with its source):

- every call: `Authorization: Bearer <token>` (https://developer.kantata.com/, Authentication)
- lists: `page` and `per_page` at most 200 (https://developer.kantata.com/, Pagination)
- external references: POST /external_references/create_or_update
- custom field values: POST /custom_field_values, bulk under the plural key
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from concord.connectors import kantata
from concord.connectors.registry import ConnectorContext, Role
from concord.domain import FinancialStatus, ProjectPlan, TaskPlan
from concord.events.types import Money

API = "https://api.mavenlink.com/api/v1"
SECRET = {"kind": "kantata", "token": "kantata-token-123", "billing_status_field_id": 456}
DOCS = Path(__file__).parents[2] / "sandboxes" / "kantata_fixtures"


def doc(name: str) -> dict[str, Any]:
    return json.loads((DOCS / f"{name}.json").read_text())


def envelope(key: str, *rows: dict[str, Any]) -> dict[str, Any]:
    return {
        "count": len(rows),
        "meta": {"count": len(rows), "page_count": 1, "page_number": 1, "page_size": 200},
        "results": [{"key": key, "id": row["id"]} for row in rows],
        key: {row["id"]: row for row in rows},
    }


@pytest.fixture
def psa() -> Iterator[kantata.KantataPsa]:
    connector = kantata.connect(Role.PSA, dict(SECRET), ConnectorContext("concord-us", lambda: dict(SECRET)))
    yield connector
    connector.client.close()


def _body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def test_create_project_sends_the_documented_bodies_with_the_bearer_token(psa: kantata.KantataPsa) -> None:
    plan = ProjectPlan(
        external_ref="project:crm:006A",
        name="Acme",
        customer_ref="c",
        customer_name="Acme",
        budget=Money(amount=Decimal("1500"), currency="USD"),
        tasks=[TaskPlan(name="Design", service_item="X", planned_hours=2)],
    )
    with respx.mock(assert_all_called=True) as api:
        api.get(f"{API}/external_references.json").respond(200, json=envelope("external_references"))
        api.get(f"{API}/workspaces.json").respond(200, json=envelope("workspaces"))
        api.post(f"{API}/workspaces.json").respond(200, json=envelope("workspaces", {"id": "123", "title": "Acme"}))
        api.post(f"{API}/external_references/create_or_update.json").respond(
            200,
            json=envelope(
                "external_references",
                {"id": "9", "subject_type": "Workspace", "subject_id": "123", "service_model_ref": "project:crm:006A"},
            ),
        )
        api.get(f"{API}/stories.json").respond(200, json=envelope("stories"))
        api.post(f"{API}/stories.json").respond(
            200, json=envelope("stories", {"id": "7", "title": "Design", "workspace_id": "123"})
        )
        record = psa.create_project(plan)
        sent_requests = [call.request for call in api.calls]

    assert record.project_id == "123" and record.task_ids == {"Design": "7"} and len(sent_requests) == 6
    assert all(request.headers["Authorization"] == "Bearer kantata-token-123" for request in sent_requests)
    lists = [request.url.params for request in sent_requests if request.method == "GET"]
    assert all(params["per_page"] == "200" and params["page"] == "1" for params in lists[1:])
    documented = doc("external_reference")["request"]["external_reference"]
    sent = _body(sent_requests[3])["external_reference"]
    assert set(sent) == set(documented) and sent["subject_id"] == 123 and sent["service_model_ref"] == plan.external_ref
    workspace = _body(sent_requests[2])["workspace"]
    assert (workspace["title"], workspace["creator_role"], workspace["price"]) == (
        "Acme [project:crm:006A]",
        "maven",
        "1500.00",
    )
    story = _body(sent_requests[-1])["story"]
    assert story == {"title": "Design", "story_type": "task", "workspace_id": 123, "time_estimate_in_minutes": 120}


def test_billing_statuses_go_in_the_documented_bulk_shape(psa: kantata.KantataPsa) -> None:
    documented = doc("custom_field_values_bulk")["request"]["custom_field_values"][0]
    with respx.mock(assert_all_called=True) as api:
        route = api.post(f"{API}/custom_field_values.json").respond(200, json=envelope("custom_field_values"))
        assert psa.set_billing_statuses({"123": FinancialStatus.PAID, "124": FinancialStatus.INVOICED}) == {}
        (request,) = [call.request for call in route.calls]

    sent = _body(request)["custom_field_values"]
    assert [set(value) for value in sent] == [set(documented)] * 2
    assert sent[0] == {"subject_type": "Workspace", "subject_id": 123, "custom_field_id": 456, "value": "paid"}


def test_polling_asks_for_approved_submissions_updated_since_a_second_before_the_cursor(
    psa: kantata.KantataPsa,
) -> None:
    cursor = psa.start_cursor("time_entry", dt.datetime(2026, 3, 3, 10, 0, 0, 500000, tzinfo=dt.UTC))
    with respx.mock(assert_all_called=True) as api:
        route = api.get(f"{API}/timesheet_submissions.json").respond(200, json=envelope("timesheet_submissions"))
        assert psa.changes_since("time_entry", cursor, 10).changes == []
        (request,) = [call.request for call in route.calls]

    params = request.url.params
    assert (params["statuses"], params["updated_after"], params["per_page"]) == (
        "approved",
        "2026-03-03T09:59:59Z",
        "200",
    )
