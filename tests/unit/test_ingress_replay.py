"""Replayed deliveries (the bad-input suite's "replayed" category): a captured request sent
again has no second effect: the first answer again, or 401/409 where the replay is stale or
altered; never a second event on the bus, remembered delivery or audit record."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .vendors import senders
from .vendors.bad_inputs import replay_cases
from .vendors.harness import (
    BC_STATE,
    CRM_SECRET,
    HUBSPOT_SECRET,
    QBO_TOKEN,
    SF_ORG,
    SF_TOKEN,
    XERO_KEY,
    Ingest,
    ingest,  # noqa: F401  (fixture)
    url_of,
)

# --------------------------------------------------------------------------- replayed


def _replay(name: str, ingest: Ingest) -> tuple[list[dict[str, Any]], list[int]]:
    """Send the original, then the replay; returns both answers and what the replay changed."""
    now = int(time.time())
    if name.startswith("standard-webhooks/"):
        body = senders.canonical_body()
        first = senders.standard_webhooks("crm", CRM_SECRET, body, delivery_id="msg_replay")
        replay = {
            "identical": first,
            "same-id-other-body": senders.standard_webhooks(
                "crm", CRM_SECRET, senders.canonical_body(), delivery_id="msg_replay"
            ),
            "after-tolerance": senders.standard_webhooks(
                "crm", CRM_SECRET, body, delivery_id="msg_replay", timestamp=now - 3600
            ),
        }[name.split("/")[1]]
    elif name.startswith("hubspot/"):
        event = senders.hubspot_event()
        first = senders.hubspot("hubspot", HUBSPOT_SECRET, senders.hubspot_events(event), url_of("hubspot"))
        replay = {
            "identical": first,
            "retry-attempt-number": senders.hubspot(
                "hubspot", HUBSPOT_SECRET, senders.hubspot_events({**event, "attemptNumber": 1}), url_of("hubspot")
            ),
            "after-tolerance": senders.hubspot(
                "hubspot",
                HUBSPOT_SECRET,
                senders.hubspot_events(event),
                url_of("hubspot"),
                timestamp_ms=(now - 3600) * 1000,
            ),
        }[name.split("/")[1]]
    elif name.startswith(("xero/", "quickbooks/")):
        make, key, body = (
            (senders.xero, XERO_KEY, senders.xero_payload(senders.xero_event()))
            if name.startswith("xero")
            else (senders.quickbooks, QBO_TOKEN, senders.quickbooks_legacy())
        )
        source = name.split("/")[0]
        first = make(source, key, body)
        replay = first if name.endswith("identical") else first.with_body(body + b" ")
    elif name.startswith("salesforce/"):
        body = senders.salesforce_message(SF_ORG)
        first = senders.salesforce("salesforce", SF_TOKEN, body)
        replay = (
            first
            if name.endswith("identical")
            else first.with_body(
                body.replace(b'<SessionId xsi:nil="true"/>', b"<SessionId>00D!AQ4AQFreshSession</SessionId>")
            )
        )
    else:
        first = senders.business_central("businesscentral", senders.business_central_payload(BC_STATE))
        replay = first
    answers = [ingest.post(first)]
    after_first = ingest.effects()
    answers.append(ingest.post(replay))
    return answers, [b - a for a, b in zip(after_first, ingest.effects(), strict=True)]


REPLAY_EXPECTED = {
    "standard-webhooks/identical": 202,
    "standard-webhooks/same-id-other-body": 409,
    "standard-webhooks/after-tolerance": 401,
    "hubspot/identical": 202,
    "hubspot/retry-attempt-number": 202,
    "hubspot/after-tolerance": 401,
    "xero/identical": 200,
    "xero/modified-body-old-signature": 401,
    "quickbooks/identical": 200,
    "quickbooks/modified-body-old-signature": 401,
    "salesforce/identical": 200,
    "salesforce/new-session-id": 200,
    "business-central/identical": 200,
}


@pytest.mark.parametrize("name", replay_cases())
def test_replayed(name: str, ingest: Ingest) -> None:
    (first, replay), changed = _replay(name, ingest)

    assert first["statusCode"] in (200, 202), first
    assert replay["statusCode"] == REPLAY_EXPECTED[name], replay
    assert changed == [0, 0, 0], "a replay must have no second effect"
    if replay["statusCode"] < 300:
        assert replay["body"] == first["body"]  # the first answer, again
    else:
        assert "Traceback" not in replay["body"]
