"""The project-accounting half of ErpPort for an ERP whose API has none: every call refuses with
the vendor's reason, so a gap is declared (capabilities.contract_objects and revenue_schedules
False, which flows read first) and never a silent no-op. A connector names its reasons."""

from __future__ import annotations

from typing import ClassVar

from concord.domain import ContractTerms, ProjectForecast, RevenueSchedule
from concord.errors import ConfigurationError


class NoProjectAccounting:
    no_project_accounting: ClassVar[str]  # why cost forecasts and contract terms are refused
    no_revenue_schedules: ClassVar[str]

    def set_project_forecast(self, project_ref: str, customer_id: str, forecast: ProjectForecast) -> None:
        raise ConfigurationError(self.no_project_accounting)

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None:
        raise ConfigurationError(self.no_project_accounting)

    def set_contract_terms(self, project_ref: str, customer_id: str, terms: ContractTerms) -> None:
        raise ConfigurationError(self.no_project_accounting)

    def set_revenue_schedule(self, project_ref: str, customer_id: str, schedule: RevenueSchedule) -> str:
        raise ConfigurationError(self.no_revenue_schedules)
