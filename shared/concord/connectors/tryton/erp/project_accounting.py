"""ErpProjectAccounting over Tryton: a project's contract terms and cost forecast, kept in
concord.project.terms (added by Concord's module, concord_sync/project_terms.py: Tryton has
no such model), one record per project ref.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from concord.domain import ContractTerms, ForecastLine, ProjectForecast, RevenueSchedule
from concord.errors import ConfigurationError
from concord.events.payloads import ContractType, Milestone
from concord.events.types import Money
from concord.ports import ErpProjectAccounting

from .. import lookups, names
from ..mapping import terms as terms_mapping
from ..names import Model
from ..rpc import TrytonPermanentError
from .session import ErpSession


class TrytonErpProjectAccounting(ErpSession, ErpProjectAccounting):
    """Contract terms and cost forecasts in the `erp` database."""

    def set_project_forecast(self, project_ref: str, customer_id: str, forecast: ProjectForecast) -> None:
        """Replace the project's cost forecast (planned hours and cost, one line per person)
        in concord.project.terms; nothing is written when it already says the same."""
        party_id = names.record_id(customer_id, "customer")
        terms = self._terms(project_ref)
        current = self._forecast_of(terms) if terms else None
        if terms and current == forecast and terms["customer"] == party_id:
            return
        values, lines = terms_mapping.to_tryton_forecast_values(forecast, party_id, self.currency_id)
        self._write_terms(project_ref, terms, values, terms_mapping.FORECAST_LINES, lines)

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None:
        """The project's contract terms, None until set_contract_terms stored some."""
        terms = self._terms(project_ref)
        return self._contract_of(terms) if terms else None

    def set_contract_terms(self, project_ref: str, customer_id: str, terms: ContractTerms) -> None:
        """Replace the project's contract type, billing owner and milestones; nothing is
        written when they are already those."""
        party_id = names.record_id(customer_id, "customer")
        row = self._terms(project_ref)
        if row and self._contract_of(row) == terms and row["customer"] == party_id:
            return
        values, milestones = terms_mapping.to_tryton_contract_values(terms, party_id, self.currency_id)
        self._write_terms(project_ref, row, values, terms_mapping.MILESTONES, milestones)

    _TERMS_FIELDS = (
        "project_ref",
        "customer",
        "contract_type",
        "billing_owner",
        "forecast_hours",
        "forecast_cost",
        "forecast_currency.code",
        "milestones.milestone_id",
        "milestones.name",
        "milestones.amount",
        "milestones.currency.code",
        "milestones.due_on",
        "forecast_lines.employee_id",
        "forecast_lines.role",
        "forecast_lines.planned_hours",
        "forecast_lines.cost_rate",
        "forecast_lines.currency.code",
    )

    def set_revenue_schedule(self, project_ref: str, customer_id: str, schedule: RevenueSchedule) -> str:
        # Tryton recognizes revenue as invoices post (no deferral model): capabilities.revenue_schedules is False.
        raise ConfigurationError("tryton keeps no revenue schedules (capabilities.revenue_schedules is False)")

    def _terms(self, project_ref: str) -> dict[str, Any] | None:
        rows = lookups.search_read(
            self.client, Model.PROJECT_TERMS, [["project_ref", "=", project_ref]], self._TERMS_FIELDS, limit=1
        )
        return rows[0] if rows else None

    @staticmethod
    def _contract_of(row: dict[str, Any]) -> ContractTerms | None:
        if not row.get("contract_type"):
            return None
        milestones = [
            Milestone(
                milestone_id=m["milestone_id"],
                name=m["name"],
                amount=Money(amount=m["amount"], currency=m["currency."]["code"]),
                due_on=m["due_on"],
            )
            for m in sorted(row.get("milestones.") or [], key=lambda m: m["id"])
        ]
        return ContractTerms(
            contract_type=ContractType(row["contract_type"]),
            billing_owner=row.get("billing_owner") or "",
            milestones=milestones,
        )

    @staticmethod
    def _forecast_of(row: dict[str, Any]) -> ProjectForecast | None:
        if row.get("forecast_cost") is None or not row.get("forecast_currency."):
            return None
        lines = [
            ForecastLine(
                employee_id=f["employee_id"],
                role=f["role"],
                planned_hours=f["planned_hours"],
                cost_rate=Money(amount=f["cost_rate"], currency=f["currency."]["code"]),
            )
            for f in sorted(row.get("forecast_lines.") or [], key=lambda f: f["id"])
        ]
        return ProjectForecast(
            lines=lines,
            planned_hours=row["forecast_hours"] or Decimal(0),
            cost=Money(amount=row["forecast_cost"], currency=row["forecast_currency."]["code"]),
        )

    def _write_terms(
        self,
        project_ref: str,
        row: dict[str, Any] | None,
        values: dict[str, Any],
        lines_field: str,
        lines: list[dict[str, Any]],
    ) -> None:
        """Create the project's terms, or write them replacing every line of `lines_field`
        (one call either way, so one transaction)."""
        if row is not None:
            old = [r["id"] for r in row.get(f"{lines_field}.") or []]
            write = terms_mapping.to_tryton_terms_write(values, lines_field, old, lines)
            self.client.write(Model.PROJECT_TERMS, [row["id"]], write)
            return
        create = terms_mapping.to_tryton_new_terms_values(project_ref, values, lines_field, lines)
        try:
            self.client.create(Model.PROJECT_TERMS, [create])
        except TrytonPermanentError as exc:
            # project_ref is unique: a concurrent call created the terms first; write over them.
            if exc.kind != "UserError" or (again := self._terms(project_ref)) is None:
                raise
            self._write_terms(project_ref, again, values, lines_field, lines)
