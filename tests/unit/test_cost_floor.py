"""The cost floor: each choice not taken changes exactly the line items it names."""

from __future__ import annotations

import pytest

from benchmarks.cost_floor import design_minimum, ladder, taken
from benchmarks.cost_model import PRICES, LineItem, per_million

ITEMS = [
    LineItem("API Gateway", "REST API: POST /webhooks/{source}", 1, "api_gateway_rest_request", "api"),
    LineItem("WAF", "web ACL", 1, "waf_request", "waf"),
    LineItem("Lambda", "webhook_ingest: requests", 1, "lambda_request"),
    LineItem("Lambda", "webhook_ingest: 256 MB x 40 ms", 0.01, "lambda_gb_second_arm64"),
    LineItem("DynamoDB", "webhook_ingest: delivery ledger read", 1, "dynamodb_read_unit"),
    LineItem("DynamoDB", "webhook_ingest: delivery ledger write", 1, "dynamodb_write_unit"),
    LineItem("EventBridge", "PutEvents", 1, "eventbridge_event"),
    LineItem("EventBridge", "archive storage, 90 days", 6e-6, "eventbridge_archive_gb_month", "archive_storage"),
    LineItem("SQS", "audit: SendMessage (rule target)", 1, "sqs_request", "audit_trail"),
    LineItem("DynamoDB", "audit_trail: writes", 1, "dynamodb_write_unit", "audit_trail"),
    LineItem("DynamoDB", "billing: writes", 2, "dynamodb_write_unit"),
]


def usd(price: str, quantity: float = 1) -> float:
    return PRICES[price][0] * quantity * 1e6


def test_each_choice_saves_what_it_removes_and_the_steps_add_up() -> None:
    rows = {row["choice"].split(" ")[0]: row for row in ladder(ITEMS, archive_days=90)}

    assert rows["archive"]["saves"] == pytest.approx(usd("eventbridge_archive_gb_month", 6e-6 * 60 / 90))
    assert rows["HTTP"]["saves"] == pytest.approx(
        usd("api_gateway_rest_request") - usd("api_gateway_http_request") + usd("waf_request")
    )
    assert rows["audit"]["saves"] == pytest.approx(usd("sqs_request") + usd("dynamodb_write_unit"))
    assert rows["Lambda"]["saves"] == pytest.approx(usd("api_gateway_http_request"))
    floor = rows["Lambda"]["usd_per_million"]
    assert per_million(ITEMS) - sum(row["saves"] for row in rows.values()) == pytest.approx(floor)
    assert floor == pytest.approx(
        usd("lambda_request")
        + usd("lambda_gb_second_arm64", 0.01)
        + usd("dynamodb_read_unit")
        + usd("dynamodb_write_unit")
        + usd("eventbridge_event")
        + usd("eventbridge_archive_gb_month", 2e-6)
        + usd("dynamodb_write_unit", 2)  # the flow's own registry writes stay
    )


def test_the_taken_choices_are_priced_against_what_they_replaced() -> None:
    rows = {
        row["choice"].split(" ")[0]: row["saves"] for row in taken(ITEMS, batches_of_one_usd=per_million(ITEMS) + 1)
    }

    # Powertools' PutItem + UpdateItem against the ledger's read and one write.
    assert rows["ingest"] == pytest.approx(
        usd("dynamodb_write_unit", 2) - usd("dynamodb_read_unit") - usd("dynamodb_write_unit")
    )
    assert rows["arm64"] == pytest.approx(usd("lambda_gb_second_x86_64", 0.01) - usd("lambda_gb_second_arm64", 0.01))
    assert rows["consumers"] == pytest.approx(1)
    assert rows["consumer"] == pytest.approx(usd("dynamodb_write_unit", 2))


def test_the_design_minimum_is_the_front_door_ingest_one_put_and_one_queue() -> None:
    assert design_minimum(ITEMS) == pytest.approx(
        usd("api_gateway_http_request")
        + usd("lambda_request")
        + usd("lambda_gb_second_arm64", 0.01)
        + usd("dynamodb_read_unit")
        + usd("dynamodb_write_unit")
        + usd("eventbridge_event")
        + usd("sqs_request")
    )
