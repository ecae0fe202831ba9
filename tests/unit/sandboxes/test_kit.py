"""The sandbox machinery without a vendor: budget, store, routing, ids, SOQL parsing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from concord.local.sandboxes.kit import MonotonicClock, RecordStore, RequestBudget, Router, StoreLayout
from concord.local.sandboxes.kit.http import Response
from concord.local.sandboxes.salesforce import ids
from concord.local.sandboxes.salesforce.errors import ApiError
from concord.local.sandboxes.salesforce.soql import Junction, parse


def test_budget_refuses_when_spent_and_refills_as_requests_age_out() -> None:
    now = [0.0]
    budget = RequestBudget(allocation=2, window_seconds=10, clock=lambda: now[0])
    assert budget.take().used == 1  # type: ignore[union-attr]
    now[0] = 5.0
    assert budget.take().used == 2  # type: ignore[union-attr]
    assert budget.take() is None
    now[0] = 10.0  # the first request leaves the window
    assert budget.take().used == 2  # type: ignore[union-attr]
    assert budget.take() is None


def test_clock_never_repeats_a_millisecond() -> None:
    frozen = datetime(2026, 1, 1, tzinfo=UTC)
    clock = MonotonicClock(now=lambda: frozen)
    stamps = [clock.tick() for _ in range(3)]
    assert stamps[0] == frozen and stamps[1] > stamps[0] and stamps[2] > stamps[1]


def test_store_transaction_undoes_writes_when_the_block_raises() -> None:
    store = RecordStore(StoreLayout(new_id=lambda t, n: f"{t}-{n}", format_time=str, modified_fields=("stamp",)))
    kept = store.insert("t", {"a": 1})
    with pytest.raises(RuntimeError), store.transaction():
        store.insert("t", {"a": 2})
        store.update("t", kept["Id"], {"a": 9})
        raise RuntimeError
    assert store.rows("t") == [kept]


def test_router_binds_path_parameters_and_tells_405_from_404() -> None:
    router = Router()
    router.add("GET", "/things/{name}", lambda request, name: Response(200, name))
    _handler, params = router.match("GET", "/things/x")  # type: ignore[misc]
    assert params == {"name": "x"}
    assert router.match("POST", "/things/x") is None and router.allows_path("/things/x")
    assert not router.allows_path("/other")


def test_ids_carry_the_case_suffix_of_the_documented_example() -> None:
    # 001D000000IRFma is documented with 18-character form 001D000000IRFmaIAH.
    assert ids.to_18("001D000000IRFma") == "001D000000IRFmaIAH"
    assert ids.to_18("001D000000IRFmaAAA") is None
    first, second = ids.new_id("006", 9), ids.new_id("006", 62)
    assert first.startswith("006") and len(first) == 18 and first < second


def test_soql_mixing_and_with_or_needs_parentheses() -> None:
    with pytest.raises(ApiError) as error:
        parse("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'")
    assert error.value.code == "MALFORMED_QUERY"
    where = parse("SELECT Id FROM Account WHERE Name = 'a' OR (Name = 'b' AND Id > '001')").where
    assert isinstance(where, Junction) and where.op == "OR"


def test_soql_string_escapes() -> None:
    where = parse(r"SELECT Id FROM Account WHERE Name = 'O\'Brien \\ co'").where
    assert where.value.value == "O'Brien \\ co"  # type: ignore[union-attr]
    with pytest.raises(ApiError):
        parse(r"SELECT Id FROM Account WHERE Name = 'bad \q'")
