"""Tryton ERP connector: contract terms and the cost forecast of a project (ErpProjectAccounting),
against the session's Tryton server."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from concord.connectors.tryton import TrytonErp
from concord.domain import ContractTerms, ForecastLine, ProjectForecast
from concord.events.payloads import ContractType, Milestone
from concord.events.types import Money

from .conftest import Calls
from .test_tryton_erp_flows import _customer

pytestmark = pytest.mark.usefixtures("fresh_databases")


def _terms(
    owner: str = "Dana Whitfield",
    amounts: tuple[str, ...] = ("5000.00", "7500.00"),
    kind: ContractType = ContractType.MILESTONE,
) -> ContractTerms:
    return ContractTerms(
        contract_type=kind,
        billing_owner=owner,
        milestones=[
            Milestone(
                milestone_id=f"ms-{n}",
                name=f"Milestone {n}",
                amount=Money(amount=Decimal(a), currency="USD"),
                due_on=dt.date(2027, 1, 1) + dt.timedelta(days=30 * n),
            )
            for n, a in enumerate(amounts)
        ],
    )


def test_contract_terms_are_stored_replaced_and_idempotent(erp: TrytonErp, calls: Calls) -> None:
    customer_id = _customer(erp)
    project_ref = f"prj-{uuid.uuid4()}"
    assert erp.get_contract_terms(project_ref) is None

    erp.set_contract_terms(project_ref, customer_id, _terms())
    assert erp.get_contract_terms(project_ref) == _terms()

    # equal: one read, nothing written
    _, methods = calls.during(lambda: erp.set_contract_terms(project_ref, customer_id, _terms()))
    assert methods == ["model.concord.project.terms.search_read"]

    # changed: replaced, not appended
    changed = _terms(owner="Sam Okafor", amounts=("12500.00",), kind=ContractType.FIXED_FEE)
    erp.set_contract_terms(project_ref, customer_id, changed)
    assert erp.get_contract_terms(project_ref) == changed
    milestones = erp.client.search_read(
        "concord.project.milestone", [["terms.project_ref", "=", project_ref]], ["name"]
    )
    assert [m["name"] for m in milestones] == ["Milestone 0"]
    erp.set_contract_terms(project_ref, customer_id, changed.model_copy(update={"milestones": []}))
    assert erp.get_contract_terms(project_ref).milestones == []  # type: ignore[union-attr]


def _forecast(hours: tuple[str, ...]) -> ProjectForecast:
    lines = [
        ForecastLine(
            employee_id=str(7 + n),
            role="Consultant",
            planned_hours=Decimal(h),
            cost_rate=Money(amount=Decimal("90.00"), currency="USD"),
        )
        for n, h in enumerate(hours)
    ]
    total = sum((Decimal(h) for h in hours), Decimal(0))
    return ProjectForecast(lines=lines, planned_hours=total, cost=Money(amount=total * 90, currency="USD"))


def test_project_forecast_is_replaced_and_idempotent_beside_the_terms(erp: TrytonErp, calls: Calls) -> None:
    customer_id = _customer(erp)
    project_ref = f"prj-{uuid.uuid4()}"
    erp.set_contract_terms(project_ref, customer_id, _terms())

    erp.set_project_forecast(project_ref, customer_id, _forecast(("40", "12.5")))
    _, methods = calls.during(lambda: erp.set_project_forecast(project_ref, customer_id, _forecast(("40", "12.5"))))
    erp.set_project_forecast(project_ref, customer_id, _forecast(("8",)))

    assert methods == ["model.concord.project.terms.search_read"]
    (row,) = erp.client.search_read(
        "concord.project.terms",
        [["project_ref", "=", project_ref]],
        ["customer", "forecast_hours", "forecast_cost", "forecast_currency.code", "forecast_lines"],
    )
    assert (
        row["customer"],
        row["forecast_hours"],
        row["forecast_cost"],
        row["forecast_currency."]["code"],
        len(row["forecast_lines"]),
    ) == (int(customer_id), Decimal(8), Decimal(720), "USD", 1)
    (line,) = erp.client.search_read(
        "concord.project.forecast_line",
        [["terms", "=", row["id"]]],
        ["employee_id", "role", "planned_hours", "cost_rate", "currency.code"],
    )
    assert (line["employee_id"], line["planned_hours"], line["cost_rate"]) == ("7", Decimal(8), Decimal("90.00"))
    assert erp.get_contract_terms(project_ref) == _terms()  # untouched by the forecast
    # A forecast alone (no terms yet) creates the record without contract terms
    alone = f"prj-{uuid.uuid4()}"
    erp.set_project_forecast(alone, customer_id, _forecast(("1",)))
    assert erp.get_contract_terms(alone) is None


def test_project_terms_are_an_erp_model_with_views(erp: TrytonErp) -> None:
    for view_type in ("tree", "form"):
        view = erp.client.call("model.concord.project.terms.fields_view_get", None, view_type)
        assert 'name="project_ref"' in view["arch"]
    menus = erp.client.search_read("ir.ui.menu", [["name", "=", "Concord Project Terms"]], ["id"])
    assert len(menus) == 1
