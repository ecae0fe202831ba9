"""The floor of a webhook path's modelled cost per 1M events, one design choice at a time.

benchmarks.cost_model prices what the prod template does. Here each choice it has not taken is
applied, one after another, to the same line items, with what the choice gives up; and the
choices it has taken are priced against what they replaced. docs/decisions.md ("Cost per
million events: the floor and the choices") argues each one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from concord.catalog import AUDIT_TRAIL

from ._cost_prices import PRICES

if TYPE_CHECKING:
    from .cost_model import LineItem

GOAL_USD_PER_MILLION = 3.0
RETENTION_FLOOR_DAYS = 30


@dataclass(frozen=True)
class Choice:
    name: str
    change: Callable[[list[LineItem]], list[LineItem]]
    gives_up: str


def _without(part: str) -> Callable[[list[LineItem]], list[LineItem]]:
    return lambda items: [item for item in items if item.part != part]


def _http_api(items: list[LineItem]) -> list[LineItem]:
    """REST → HTTP API; HTTP APIs take no WAF web ACL, so its inspection goes too."""
    return [
        replace(item, what="HTTP API: POST /webhooks/{source}", price="api_gateway_http_request")
        if item.part == "api"
        else item
        for item in items
        if item.part != "waf"
    ]


def _archive_retention(days: int) -> Callable[[list[LineItem]], list[LineItem]]:
    def change(items: list[LineItem]) -> list[LineItem]:
        # Storage is priced as size x retention / 30 (see Model.published): rescale to `days`.
        return [
            replace(item, quantity=item.quantity * RETENTION_FLOOR_DAYS / days)
            if item.part == "archive_storage"
            else item
            for item in items
        ]

    return change


def choices_not_taken(archive_days: int) -> tuple[Choice, ...]:
    """In the order docs/decisions.md weighs them: the safest saving first."""
    return (
        Choice(
            f"archive retention {archive_days} -> {RETENTION_FLOOR_DAYS} days",
            _archive_retention(archive_days),
            f"concord replay reaches back {RETENTION_FLOOR_DAYS} days instead of {archive_days}",
        ),
        Choice(
            "HTTP API instead of REST API",
            _http_api,
            "no AWS WAF (rate rule per IP, managed bad-input rules): a flood is refused by route throttling "
            "and the signature check in Lambda, each refused request still costs an invocation",
        ),
        Choice(
            "audit trail read from the bus archive, not a queue + function + table",
            _without(AUDIT_TRAIL.name),
            "no queryable per-event record (concord trace reads DynamoDB); lineage would need the archive "
            "replayed or an Athena table over an S3 copy",
        ),
        Choice(
            "Lambda function URL instead of any API Gateway",
            _without("api"),
            "no throttling but reserved concurrency, no WAF unless fronted by CloudFront (which costs more "
            "per request than an HTTP API), no custom domain or stage",
        ),
    )


def ladder(items: list[LineItem], archive_days: int) -> list[dict[str, Any]]:
    """Each choice applied on top of the ones before it: the running total and the step's saving."""
    rows, current = [], items
    total = _usd(items)
    for choice in choices_not_taken(archive_days):
        current = choice.change(current)
        after = _usd(current)
        rows.append(
            {"choice": choice.name, "saves": total - after, "usd_per_million": after, "gives_up": choice.gives_up}
        )
        total = after
    return rows


def design_minimum(items: list[LineItem]) -> float:
    """Per 1M webhook events, one event per request: what the services the design fixes cost before
    any consumer applies the event or the audit trail records it. API Gateway (an HTTP API, its
    cheapest), the ingest function with the ledger that keeps a redelivered webhook off the bus,
    PutEvents, and the one queue a rule sends the event to. No choice of template goes below it."""
    front_and_ingest = [
        item for item in _http_api(items) if item.part == "api" or item.what.startswith("webhook_ingest")
    ]
    put = next(item for item in items if item.price == "eventbridge_event")
    send = next(item for item in items if item.what.endswith("SendMessage (rule target)"))
    return _usd([*front_and_ingest, put, send])


def taken(items: list[LineItem], batches_of_one_usd: float) -> list[dict[str, Any]]:
    """The choices the template has made, each priced against what it replaced (per 1M events)."""
    arm64_saving = sum(
        item.quantity * (PRICES["lambda_gb_second_x86_64"][0] - PRICES["lambda_gb_second_arm64"][0])
        for item in items
        if item.price == "lambda_gb_second_arm64"
    )
    powertools = 2 * PRICES["dynamodb_write_unit"][0]
    ledger = sum(item.usd for item in items if item.what.startswith("webhook_ingest: delivery ledger"))
    return [
        {"choice": "arm64 for every function", "saves": arm64_saving * 1e6},
        {
            "choice": "ingest dedupe: one ledger write after PutEvents, not Powertools' PutItem + UpdateItem",
            "saves": (powertools - ledger) * 1e6,
        },
        {"choice": "consumers batch (event source mapping batch size)", "saves": batches_of_one_usd - _usd(items)},
        # Flows dedupe in the registry they write anyway (aws.flows.consume_batch): no Powertools
        # record per consumer and event, which would be PutItem + UpdateItem per record.
        {"choice": "consumer dedupe answered by the registry, no idempotency record", "saves": powertools * 1e6},
    ]


def _usd(items: Sequence[LineItem]) -> float:
    return sum(item.usd for item in items) * 1e6


def print_floor(
    flow: str, taken_rows: list[dict[str, Any]], ladder_rows: list[dict[str, Any]], now: float, minimum: float
) -> None:
    print(f"\n{flow.split(':')[0]}: the floor, choice by choice (USD per 1M events; goal {GOAL_USD_PER_MILLION:.2f})")
    for row in taken_rows:
        print(f"  taken      {row['choice'][:84]:84} saves {row['saves']:6.2f}")
    print(f"  {'now':10} {'the prod template':84}       {now:6.2f}")
    for row in ladder_rows:
        mark = "<= goal" if row["usd_per_million"] <= GOAL_USD_PER_MILLION else ""
        print(f"  + not yet  {row['choice'][:84]:84} -{row['saves']:5.2f} = {row['usd_per_million']:5.2f} {mark}")
        print(f"             gives up: {row['gives_up']}")
    mark = "<= goal" if minimum <= GOAL_USD_PER_MILLION else "> goal"
    what = "HTTP API, ingest + ledger, PutEvents, one queue; nothing applied or recorded"
    print(f"  {'minimum':10} {what:84}       {minimum:6.2f} {mark}")
