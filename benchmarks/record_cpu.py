"""Per-record CPU of the webhook ingest path, per source, against json.loads of the same body.

For one signed delivery per source (built as the vendor sends it, by the unit tests' senders
and wrapped in the REST API proxy event API Gateway builds): read the request from the event,
verify its signature, parse and validate the body, map it to canonical events, serialize them
into PutEvents entries and build the answer, as publish_once does. The
source's secret is validated once per value read, as webhook_source_secret does. AWS calls
and Powertools' own bookkeeping are not included. Warm: each path runs a few hundred times
before it is timed. Floor, timed in the same rounds: json.loads of the same body (the stdlib's
XML parser for Salesforce's SOAP body). CPU figures are of the fastest round on each side: other
processes only ever add time, and on this 2-core machine the median of five rounds read 47 and
90 µs for the same case an hour apart.

    .venv/bin/python -m benchmarks.record_cpu --iterations 1000 --rounds 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import time
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree

from concord.ingress.http import webhook_request
from concord.ingress.publishing import answer
from concord.ingress.schemes import scheme_for
from concord.ingress.service import accept_delivery
from concord.ingress.sources import parse_sources
from tests.unit.vendors import senders
from tests.unit.vendors.harness import (
    BC_STATE,
    CRM_SECRET,
    HUBSPOT_SECRET,
    QBO_TOKEN,
    SECRETS,
    SF_ORG,
    SF_TOKEN,
    SOURCES,
    XERO_KEY,
    api_event,
    url_of,
)

from ._common import figure, provenance, write_results

OPPORTUNITY = {
    "opportunity_id": "OPP-1001",
    "account_id": "ACC-2002",
    "name": "Data platform rollout",
    "amount": {"amount": "24000.00", "currency": "USD"},
    "closed_on": "2026-01-05",
    "payment_term": "NET30",
    "contract_type": "time_and_materials",
    "lines": [
        {
            "service_item": "CONSULT-HR",
            "description": "Discovery",
            "quantity": "40",
            "unit_price": {"amount": "150.00", "currency": "USD"},
        },
        {
            "service_item": "CONSULT-HR",
            "description": "Build",
            "quantity": "120",
            "unit_price": {"amount": "150.00", "currency": "USD"},
        },
    ],
}
ACCOUNT = {
    "account_id": "ACC-2002",
    "name": "Acme Consulting LLC",
    "tax_id": "12-3456789",
    "currency": "USD",
    "billing_address": {"street": "1 Main Street", "city": "Boston", "postal_code": "02110", "country": "US"},
}


def sample_deliveries() -> dict[str, tuple[str, senders.Sent]]:
    """One realistic signed delivery per case: (source name, request as sent)."""
    return {
        "crm AccountChanged (Standard Webhooks)": (
            "crm",
            senders.standard_webhooks("crm", CRM_SECRET, senders.canonical_body("AccountChanged", ACCOUNT)),
        ),
        "crm OpportunityClosedWon (Standard Webhooks)": (
            "crm",
            senders.standard_webhooks(
                "crm", CRM_SECRET, senders.canonical_body("OpportunityClosedWon", OPPORTUNITY, version=2)
            ),
        ),
        "hubspot company.propertyChange": (
            "hubspot",
            senders.hubspot("hubspot", HUBSPOT_SECRET, senders.hubspot_events(), url_of("hubspot")),
        ),
        "xero INVOICE UPDATE": ("xero", senders.xero("xero", XERO_KEY, senders.xero_payload(senders.xero_event()))),
        "quickbooks Invoice Create": (
            "quickbooks",
            senders.quickbooks("quickbooks", QBO_TOKEN, senders.quickbooks_legacy()),
        ),
        "quickbooks invoice created (CloudEvents)": (
            "quickbooks",
            senders.quickbooks(
                "quickbooks",
                QBO_TOKEN,
                senders.quickbooks_cloudevents("qbo.invoice.created.v1"),
                content_type="application/cloudevents-batch+json",
            ),
        ),
        "salesforce Account (outbound message)": (
            "salesforce",
            senders.salesforce(
                "salesforce",
                SF_TOKEN,
                senders.salesforce_message(
                    SF_ORG,
                    (
                        "Account",
                        {
                            "Name": "Acme Corporation",
                            "BillingStreet": "1 Market St",
                            "BillingCity": "San Francisco",
                            "BillingCountryCode": "US",
                            "CurrencyIsoCode": "USD",
                        },
                    ),
                ),
            ),
        ),
        "businesscentral salesInvoices created": (
            "businesscentral",
            senders.business_central("businesscentral", senders.business_central_payload(BC_STATE)),
        ),
    }


def ingest_path(source: str, sent: senders.Sent) -> tuple[Callable[[], Any], Callable[[], Any], str]:
    """(the ingest path, its floor, the floor's name) for one delivery."""
    event = api_event(source, sent)
    config = parse_sources(SOURCES)[source]
    # As webhook_source_secret hands it over: validated once per value read from Secrets Manager.
    secret = scheme_for(config.scheme).secret_model.model_validate_json(json.dumps(SECRETS[source]))
    now = dt.datetime.now(dt.UTC)  # the signing time, so the signature never goes stale while timing

    def path() -> Any:
        request = webhook_request(event, source, config.public_url, with_url=scheme_for(config.scheme).signs_url)
        accepted = accept_delivery(request, config, secret, now=now)
        # What publish_once publishes (the PutEvents entries, serialized once) and answers.
        answer(accepted)
        return accepted

    body = sent.body
    if config.scheme == "salesforce":
        return path, lambda: ElementTree.fromstring(body), "ElementTree.fromstring(body)"
    return path, lambda: json.loads(body), "json.loads(body)"


def cpu_ns_per_call(function: Callable[[], Any], iterations: int) -> tuple[float, float]:
    """(process CPU ns, wall ns) per call over `iterations` calls."""
    cpu, wall = time.process_time_ns(), time.perf_counter_ns()
    for _ in range(iterations):
        function()
    return (time.process_time_ns() - cpu) / iterations, (time.perf_counter_ns() - wall) / iterations


def measure(iterations: int, rounds: int) -> list[dict[str, Any]]:
    rows = []
    for case, (source, sent) in sample_deliveries().items():
        path, floor, floor_name = ingest_path(source, sent)
        accepted = path()  # also checks the sample is accepted before it is timed
        records = len(accepted.events) + len(accepted.unprocessed)
        for _ in range(max(iterations // 10, 50)):  # warm: caches, pydantic validators, branch history
            path(), floor()
        path_cpu, path_wall, floor_cpu = [], [], []
        for _ in range(rounds):  # interleaved, so background load hits both alike
            cpu, wall = cpu_ns_per_call(path, iterations)
            path_cpu.append(cpu / records)
            path_wall.append(wall / records)
            floor_cpu.append(cpu_ns_per_call(floor, iterations)[0] / records)
        rows.append(
            {
                "case": case,
                "source": source,
                "body_bytes": len(sent.body),
                "records": records,
                "events": len(accepted.events),
                "unprocessed": [item.reason.value for item in accepted.unprocessed],
                "cpu_us_per_record": min(path_cpu) / 1000,
                "wall_us_per_record": statistics.median(path_wall) / 1000,
                "floor_cpu_us_per_record": min(floor_cpu) / 1000,
                "floor": floor_name,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=1000, help="calls per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds; the fastest is reported")
    args = parser.parse_args()

    rows = measure(args.iterations, args.rounds)
    results = {
        **provenance(),
        "iterations": args.iterations,
        "rounds": args.rounds,
        "cases": rows,
        "figures": [
            figure(
                f"ingest CPU/record: {row['case']}",
                row["cpu_us_per_record"],
                "µs",
                row["floor_cpu_us_per_record"],
                row["floor"],
                note=f"{row['events']} event(s)" if row["events"] else f"unprocessed: {', '.join(row['unprocessed'])}",
            )
            for row in rows
        ],
    }
    path = write_results("record_cpu", results)
    print(
        f"per-record CPU of the ingest path ({results['machine']}, commit {results['commit']}, "
        f"fastest of {args.rounds} x {args.iterations})"
    )
    print(f"{'case':46} {'bytes':>6} {'CPU µs':>8} {'floor µs':>9} {'x floor':>8}  result")
    for row in rows:
        outcome = f"{row['events']} event(s)" if row["events"] else ", ".join(row["unprocessed"])
        print(
            f"{row['case']:46} {row['body_bytes']:6} {row['cpu_us_per_record']:8.1f} "
            f"{row['floor_cpu_us_per_record']:9.2f} "
            f"{row['cpu_us_per_record'] / row['floor_cpu_us_per_record']:8.0f}  {outcome}"
        )
    print(f"written to {path}")


if __name__ == "__main__":
    main()
