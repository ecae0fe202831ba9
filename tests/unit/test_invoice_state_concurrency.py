"""Two workers recording payments of one invoice at once (issue #18, item 5): the registry's
conditional write on the invoice's version makes the loser re-read and re-apply its payment,
so no payment is lost. Against moto, with DynamoDB's per-item atomicity restored by a lock."""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from concord.domain import FinancialStatus, InvoiceState
from concord.errors import TransientError
from concord.events.types import Money, System
from concord.stores.registry import INVOICE_WRITE_ATTEMPTS, Registry
from concord.sync import financials
from concord.sync.ids import canonical_id
from concord.sync.systems import Systems

from .fakes import FakeBus, FakeCrm, FakeErp, FakePsa, fake_systems
from .sync_world import OPPORTUNITY, PROJECT_REF, PSA_PROJECT, TODAY, paid, posted
from .tables import create_registry_table

TABLE = "concord-test-xref"
INVOICE = "500"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb")
        create_registry_table(client, TABLE)
        yield client


@pytest.fixture
def atomic_items(monkeypatch: pytest.MonkeyPatch) -> None:
    """DynamoDB checks a condition and writes an item atomically, and a read sees an item before
    or after a write; moto does neither under threads. Give moto DynamoDB's guarantee."""
    lock = threading.Lock()

    def atomic(method: Any) -> Any:
        def locked(self: Any, *args: Any, **kwargs: Any) -> Any:
            with lock:
                return method(self, *args, **kwargs)

        return locked

    for name in ("put_item", "get_item", "query"):
        monkeypatch.setattr(DynamoDBBackend, name, atomic(getattr(DynamoDBBackend, name)))


class BothReadBeforeEitherWrites:
    """A DynamoDB client whose first write of an invoice state, in each of `parties` threads,
    waits until every thread is there: each has read the state, and none has written it yet."""

    def __init__(self, client: Any, parties: int) -> None:
        self._client = client
        self._barrier = threading.Barrier(parties, timeout=30)  # a deadlock fails instead of hanging
        self._waited = threading.local()

    def put_item(self, **kwargs: Any) -> Any:
        if kwargs["Item"]["sk"]["S"].startswith("INVOICE#") and not getattr(self._waited, "done", False):
            self._waited.done = True
            self._barrier.wait()
        return self._client.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _posted_invoice(client: Any) -> Systems:
    """An invoice Concord billed for a project linked in CRM and PSA, posted for 1125."""
    xref = Registry(client, TABLE)
    xref.link("project", PROJECT_REF, System.CRM, OPPORTUNITY, "q2c")
    xref.link("project", PROJECT_REF, System.PSA, PSA_PROJECT, "q2c")
    xref.relate("invoice", canonical_id("invoice", System.ERP, INVOICE), "project", PROJECT_REF)
    systems = fake_systems(crm=FakeCrm(), psa=FakePsa(), erp=FakeErp(), xref=xref, bus=FakeBus())
    financials.propagate(posted(invoice_id=INVOICE, total="1125"), systems, TODAY)
    return systems


def _in_parallel(*calls: Any) -> None:
    failures: list[BaseException] = []

    def run(call: Any) -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - reported below, in the test's thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.usefixtures("atomic_items")
def test_two_payments_of_one_invoice_recorded_at_once_are_both_kept(dynamodb: Any) -> None:
    racing = Registry(BothReadBeforeEitherWrites(dynamodb, parties=2), TABLE)
    systems = dataclasses.replace(_posted_invoice(dynamodb), xref=racing)

    _in_parallel(
        lambda: financials.propagate(paid("p1", "500", "625", invoice_id=INVOICE), systems, TODAY),
        lambda: financials.propagate(paid("p2", "625", "0", invoice_id=INVOICE), systems, TODAY),
    )

    (state,) = systems.xref.invoice_states(PROJECT_REF)
    assert state.payments == {"p1", "p2"}
    assert state.amount_due.amount == 0
    assert state.status(TODAY) is FinancialStatus.PAID
    recorded = {entry.action for entry in systems.xref.lineage("project", PROJECT_REF)}
    assert {"payment p1 of 500 USD", "payment p2 of 625 USD"} <= recorded


def _state(due: str, *payments: str) -> InvoiceState:
    total = Money(amount=1125, currency="USD")
    return InvoiceState(
        invoice_id=INVOICE,
        total=total,
        amount_due=Money(amount=due, currency="USD"),
        due_on=TODAY,
        payments=frozenset(payments),
    )


def test_a_state_stored_before_versions_is_updated_and_then_versioned(dynamodb: Any) -> None:
    # What the registry wrote before invoice states carried a version: no `version` attribute.
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"CANON#project#{PROJECT_REF}"},
            "sk": {"S": f"INVOICE#{INVOICE}"},
            "state": {"S": _state("1125").model_dump_json()},
        },
    )
    xref = Registry(dynamodb, TABLE)

    paid_once = xref.update_invoice_state(PROJECT_REF, INVOICE, lambda known: _state("625", "p1"))

    assert paid_once == _state("625", "p1")
    item = dynamodb.get_item(
        TableName=TABLE, Key={"pk": {"S": f"CANON#project#{PROJECT_REF}"}, "sk": {"S": f"INVOICE#{INVOICE}"}}
    )["Item"]
    assert item["version"] == {"N": "1"}
    assert xref.invoice_states(PROJECT_REF) == [_state("625", "p1")]


def test_a_change_that_keeps_losing_gives_up_with_a_transient_error(dynamodb: Any) -> None:
    xref = Registry(dynamodb, TABLE)
    xref.update_invoice_state(PROJECT_REF, INVOICE, lambda known: _state("1125"))
    other_writer = Registry(dynamodb, TABLE)
    attempts = itertools.count(1)

    def pay_while_another_writer_always_wins(known: InvoiceState | None) -> InvoiceState:
        # Another worker records a payment between this read and this write, every time.
        other_payment = f"other-{next(attempts)}"
        other_writer.update_invoice_state(PROJECT_REF, INVOICE, lambda k: _state("1000", other_payment))
        return _state("0", "mine")

    with pytest.raises(TransientError):
        xref.update_invoice_state(PROJECT_REF, INVOICE, pay_while_another_writer_always_wins)
    assert next(attempts) == INVOICE_WRITE_ATTEMPTS + 1
    assert "mine" not in xref.invoice_states(PROJECT_REF)[0].payments
