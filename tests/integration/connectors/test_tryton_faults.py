"""The RPC client and a connector behind the fault proxy, in front of the real Tryton server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from concord.connectors.tryton import TrytonErp, TrytonRpcClient, TrytonTransientError
from concord.errors import TransientError
from concord.local.faults import FaultController, FaultMode, FaultProxy
from concord.local.tryton import ADMIN_LOGIN, TrytonServer, admin_password

from .conftest import DEMO_CUSTOMER


@pytest.fixture
def proxy(fresh_databases: TrytonServer) -> Iterator[FaultProxy]:
    with FaultProxy(fresh_databases.url) as running:
        yield running


@pytest.fixture
def faults(proxy: FaultProxy) -> Iterator[FaultController]:
    with FaultController(proxy.url) as controller:
        yield controller
        controller.clear()


def _client(proxy: FaultProxy, home: Path, database: str) -> TrytonRpcClient:
    return TrytonRpcClient(proxy.url, database, ADMIN_LOGIN, admin_password(home), timeout=5.0)


def test_erp_outage_is_transient_and_clearing_it_restores_service(
    proxy: FaultProxy, faults: FaultController, tryton_home: Path
) -> None:
    # Given clients of erp and crm through the proxy, logged in
    erp = _client(proxy, tryton_home, "erp")
    crm = _client(proxy, tryton_home, "crm")
    erp.login()

    # When erp is in outage
    faults.set("erp", FaultMode.OUTAGE)

    # Then erp calls fail transiently, crm is unaffected
    with pytest.raises(TrytonTransientError):
        erp.search_read("party.party", [], ["name"], limit=1)
    assert crm.search_read("party.party", [["name", "=", DEMO_CUSTOMER]], ["name"])

    # And once cleared, the same client succeeds again (its session is still valid)
    faults.clear("erp")
    assert erp.search_read("company.company", [], ["rec_name"])
    assert faults.list().injected == {"erp": {FaultMode.OUTAGE: 1}}
    erp.close()
    crm.close()


def test_connector_lets_transient_errors_through(proxy: FaultProxy, faults: FaultController, tryton_home: Path) -> None:
    # Given the ERP connector behind the proxy, erp throttled for its next two calls
    connector = TrytonErp(_client(proxy, tryton_home, "erp"))
    connector.client.login()
    faults.set("erp", "throttle", retry_after=1, remaining=2)

    # When it looks a customer up: Then the throttling reaches the caller as a TransientError
    for _ in range(2):
        with pytest.raises(TransientError):
            connector.find_customer(tax_id=None, name="Nobody")

    # And the fault has cleared itself: the same call now answers
    assert connector.find_customer(tax_id=None, name="Nobody") is None
    connector.client.close()
