"""The webhook subscription lifecycle against the sandbox: created with Concord's URL and
clientState after the handshake, renewed (handshake again, expiry 3 days on) when due, deleted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from concord.connectors.business_central.subscriptions import SubscriptionManager
from concord.errors import ValidationFailed
from concord.local.sandboxes.business_central import BusinessCentralSandbox

from .sandbox_systems import BusinessCentralSystems, business_central_systems

URL = "https://hooks.example.com/webhooks/business-central/unguessable"


class Subscriber:
    """Concord's ingress as the sandbox's handshake sees it: echoes the token unless told not to."""

    def __init__(self) -> None:
        self.tokens: list[tuple[str, str]] = []
        self.answers = True

    def __call__(self, url: str, token: str) -> bool:
        self.tokens.append((url, token))
        return self.answers


@pytest.fixture
def subscriber() -> Subscriber:
    return Subscriber()


@pytest.fixture
def bc(subscriber: Subscriber) -> Iterator[tuple[BusinessCentralSystems, SubscriptionManager, BusinessCentralSandbox]]:
    sandbox = BusinessCentralSandbox(handshake=subscriber)
    with business_central_systems(sandbox) as systems:
        yield systems, SubscriptionManager(systems.erp.client, URL, SecretStr("client-state-secret")), sandbox


def test_ensure_creates_one_subscription_per_record_type_after_the_handshake(bc, subscriber: Subscriber) -> None:  # type: ignore[no-untyped-def]
    systems, manager, _ = bc

    made = manager.ensure(["invoice", "payment"])
    again = manager.ensure(["invoice", "payment"])

    assert [s.subscriptionId for s in again] == [s.subscriptionId for s in made]
    assert [url for url, _ in subscriber.tokens] == [URL, URL]  # a handshake per create, none for a repeat
    assert [s.resource for s in made] == [
        f"/api/v2.0/{systems.erp.client.company}/salesInvoices",
        f"/api/v2.0/{systems.erp.client.company}/customerPayments",
    ]
    stored = systems.server.tenant("erp").store.rows("subscriptions")
    assert {row["clientState"] for row in stored} == {"client-state-secret"}
    assert all(s.expirationDateTime - dt.datetime.now(dt.UTC) > dt.timedelta(days=2, hours=23) for s in made)


def test_a_refused_handshake_creates_nothing(bc, subscriber: Subscriber) -> None:  # type: ignore[no-untyped-def]
    _, manager, _ = bc
    subscriber.answers = False

    with pytest.raises(ValidationFailed, match="validationToken"):
        manager.create("invoice")
    assert manager.subscriptions() == []


def test_renew_due_renews_only_what_expires_within_the_margin(bc, subscriber: Subscriber) -> None:  # type: ignore[no-untyped-def]
    _, manager, sandbox = bc
    real_now = sandbox.subscriptions.now
    sandbox.subscriptions.now = lambda: real_now() - dt.timedelta(days=2, hours=12)  # made 2.5 days ago
    old = manager.create("invoice")
    sandbox.subscriptions.now = real_now
    fresh = manager.create("payment")

    renewed = manager.renew_due(dt.datetime.now(dt.UTC))

    assert [s.subscriptionId for s in renewed] == [old.subscriptionId]
    assert renewed[0].expirationDateTime > old.expirationDateTime + dt.timedelta(days=2)
    assert len(subscriber.tokens) == 3  # two creates, one renewal
    assert {s.subscriptionId: s.expirationDateTime for s in manager.subscriptions()}[
        fresh.subscriptionId
    ] == fresh.expirationDateTime


def test_a_renewal_with_a_stale_etag_reads_the_subscription_again(bc) -> None:  # type: ignore[no-untyped-def]
    systems, manager, _ = bc
    made = manager.create("invoice")
    manager.renew(made)  # the etag `made` carries is now stale

    renewed = manager.renew(made)

    patches = [response.status_code for request, response in systems.recorder.exchanges if request.method == "PATCH"]
    assert renewed.subscriptionId == made.subscriptionId and patches == [200, 412, 200]


def test_delete_removes_it_and_deleting_again_is_no_error(bc) -> None:  # type: ignore[no-untyped-def]
    _, manager, _ = bc
    made = manager.create("customer")

    manager.delete(made)
    manager.delete(made)

    assert manager.subscriptions() == []
