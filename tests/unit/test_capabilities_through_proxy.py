"""Optional capabilities (concord.ports.capability) seen through the stand-in a function's
connectors are (aws.systems.RoleConnector, connected on first use): change capture's batched
approval reads, and watches a configured system cannot serve skipped, not failed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from concord.aws import systems as aws_systems
from concord.aws.systems import RoleConnector
from concord.connectors.tryton.psa import TrytonPsa
from concord.domain import ErpCapabilities
from concord.errors import ConfigurationError, TransientError
from concord.ports import ApprovedTimeInBatches, ServiceItemSource, capability
from concord.sync.change_capture import WatchConfig, capture, capture_watches, watch_for

from .fakes import FakeBus, FakeCrm, FakeErp, FakePsa, erp_capabilities
from .tables import create_checkpoints_table
from .test_change_capture import MemoryCheckpoints
from .tryton_fake import FakeTrytonPsa

T0 = dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC)
SERVICE_ITEMS = WatchConfig(system="erp", record_type="service_item", source="erp")
INVOICES = WatchConfig(system="erp", record_type="invoice", source="erp")


def behind_role_proxy(connector: object) -> Any:
    return RoleConnector(lambda: connector)


def test_a_capability_is_seen_through_the_role_proxy_and_none_where_not_implemented() -> None:
    tryton = TrytonPsa(FakeTrytonPsa())  # type: ignore[arg-type]

    assert not isinstance(behind_role_proxy(tryton), ApprovedTimeInBatches)  # why the helper exists
    assert capability(behind_role_proxy(tryton), ApprovedTimeInBatches) is tryton
    assert capability(tryton, ApprovedTimeInBatches) is tryton  # a connector given as it is
    assert capability(behind_role_proxy(FakePsa()), ApprovedTimeInBatches) is None
    assert capability(behind_role_proxy(tryton), ServiceItemSource) is None


class PagesOnlyTrytonPsa(TrytonPsa):
    """Refuses the read of one record's approvals: only page reads may be used."""

    def approved_entries(self, record_id: str) -> list:
        raise AssertionError(f"approvals read one by one ({record_id})")


def test_polling_through_the_role_proxy_reads_approvals_a_page_at_a_time() -> None:
    tryton, checkpoints, bus = FakeTrytonPsa(), MemoryCheckpoints(), FakeBus()
    psa = behind_role_proxy(PagesOnlyTrytonPsa(tryton))  # type: ignore[arg-type]

    def poll(at: dt.datetime) -> int:
        watch = watch_for("psa", "time_entry", "psa", (FakeCrm(), psa, FakeErp()), "us-01", clock=lambda: at)
        return capture(watch, checkpoints, bus, at, page_size=100).events

    poll(T0)  # sets the checkpoint
    for n in range(1, 251):
        tryton.approve(n, (T0 + dt.timedelta(milliseconds=100 * n)).replace(tzinfo=None))
    tryton.calls.clear()

    assert poll(T0 + dt.timedelta(minutes=1)) == 250
    # 3 pages, each announced from what its poll read (the lines with their tasks and projects)
    assert tryton.calls == {"timesheet.line": 3}


def run_watches(erp: object, configs: list[WatchConfig] | None = None) -> Any:
    connectors = (FakeCrm(), FakePsa(), behind_role_proxy(erp))
    return capture_watches(
        configs or [SERVICE_ITEMS, INVOICES], connectors, MemoryCheckpoints(), FakeBus(), "us-01", clock=lambda: T0
    )


def test_a_watch_the_erp_declares_nothing_for_is_skipped_and_the_run_succeeds() -> None:
    run = run_watches(FakeErp())

    assert [r.key for r in run.reports] == ["erp:invoice"] and run.failures == []
    assert [(s.key, str(s.error)) for s in run.not_served] == [
        ("erp:service_item", "no change capture for erp:service_item: the ERP declares no service items")
    ]
    run.raise_for_failures()


def test_an_erp_declaring_service_items_it_cannot_read_fails_the_run() -> None:
    declared: ErpCapabilities = erp_capabilities().model_copy(update={"service_items": True})

    run = run_watches(FakeErp(capabilities=declared), [SERVICE_ITEMS])

    assert run.not_served == [] and [type(f.error) for f in run.failures] == [ConfigurationError]
    with pytest.raises(TransientError, match="erp:service_item: ConfigurationError"):
        run.raise_for_failures()


def test_an_erp_that_cannot_be_reached_fails_its_watches_instead_of_skipping_them() -> None:
    def unreachable() -> object:
        raise TransientError("ERP secret store unreachable")

    run = capture_watches(
        [SERVICE_ITEMS],
        (FakeCrm(), FakePsa(), RoleConnector(unreachable)),  # type: ignore[arg-type]
        MemoryCheckpoints(),
        FakeBus(),
        "us-01",
        clock=lambda: T0,
    )

    assert run.not_served == [] and [f.key for f in run.failures] == ["erp:service_item"]


# --- the scheduled function ---------------------------------------------------------------------

CHECKPOINTS, BUS = "concord-test-checkpoints", "concord-test"


@pytest.fixture()
def poller(monkeypatch: pytest.MonkeyPatch, load_handler: Callable[[str], ModuleType]) -> Iterator[ModuleType]:
    """The change capture function over an ERP without service items (moto for its tables and bus)."""
    with mock_aws():
        create_checkpoints_table(boto3.client("dynamodb"), CHECKPOINTS)
        boto3.client("events").create_event_bus(Name=BUS)
        for name, value in {
            "SYSTEMS_SECRET_PREFIX": "concord/test/systems",
            "CHECKPOINTS_TABLE_NAME": CHECKPOINTS,
            "EVENT_BUS_NAME": BUS,
            "POLL_WATCHES": json.dumps([SERVICE_ITEMS.model_dump(), INVOICES.model_dump()]),
        }.items():
            monkeypatch.setenv(name, value)
        connectors = (FakeCrm(), FakePsa(), behind_role_proxy(FakeErp()))
        monkeypatch.setattr(aws_systems, "connectors_for", lambda settings: connectors)
        yield load_handler("change_capture")


def emitted(out: str, metric: str) -> list[list[float]]:
    """The values of `metric` in each EMF line Powertools printed."""
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [line[metric] for line in lines if metric in line]


def test_the_function_skips_an_unserved_watch_warning_once_and_counting_it_every_run(
    poller: ModuleType, lambda_context: Any, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    first = poller.handler({}, lambda_context)
    second = poller.handler({}, lambda_context)

    assert [w["watch"] for w in first["watches"]] == [w["watch"] for w in second["watches"]] == ["erp:invoice"]
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert [(r.getMessage(), getattr(r, "watch", None)) for r in warnings] == [
        ("watch skipped: not served by the configured system", "erp:service_item")
    ]
    assert emitted(capsys.readouterr().out, "WatchesNotServed") == [[1.0], [1.0]]  # one line per run
