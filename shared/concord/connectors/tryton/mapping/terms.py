"""A project's cost forecast and contract terms as values of concord.project.terms (Concord's
module adds the model, concord_sync/project_terms.py): one record per project ref, its lines
(forecast_lines, milestones) as one2many create actions.
https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.write
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from concord.domain import ContractTerms, ProjectForecast

FORECAST_LINES, MILESTONES = "forecast_lines", "milestones"
# The currency's Tryton id for an ISO code (a look-up in the connector; a placeholder in a rendering).
CurrencyId = Callable[[str], Any]


def to_tryton_forecast_values(
    forecast: ProjectForecast, party_id: Any, currency_id: CurrencyId
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The terms' forecast fields and its forecast_lines, one per person."""
    values: dict[str, Any] = {
        "customer": party_id,
        "forecast_hours": forecast.planned_hours,
        "forecast_cost": forecast.cost.amount,
        "forecast_currency": currency_id(forecast.cost.currency),
    }
    lines = [
        {
            "employee_id": line.employee_id,
            "role": line.role,
            "planned_hours": line.planned_hours,
            "cost_rate": line.cost_rate.amount,
            "currency": currency_id(line.cost_rate.currency),
        }
        for line in forecast.lines
    ]
    return values, lines


def to_tryton_contract_values(
    terms: ContractTerms, party_id: Any, currency_id: CurrencyId
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The terms' contract fields and its milestones."""
    values = {"customer": party_id, "contract_type": terms.contract_type.value, "billing_owner": terms.billing_owner}
    milestones = [
        {
            "milestone_id": m.milestone_id,
            "name": m.name,
            "amount": m.amount.amount,
            "currency": currency_id(m.amount.currency),
            "due_on": m.due_on,
        }
        for m in terms.milestones
    ]
    return values, milestones


def to_tryton_new_terms_values(
    project_ref: str, values: dict[str, Any], lines_field: str, lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """The values that create a project's terms with their lines."""
    create = {"project_ref": project_ref, **values}
    if lines:
        create[lines_field] = [["create", lines]]
    return create


def to_tryton_terms_write(
    values: dict[str, Any], lines_field: str, old_line_ids: list[int], lines: list[dict[str, Any]]
) -> dict[str, Any]:
    """The values that write over a project's terms, replacing every line of `lines_field`."""
    actions: list[Any] = ([["delete", old_line_ids]] if old_line_ids else []) + ([["create", lines]] if lines else [])
    return {**values, lines_field: actions} if actions else values
