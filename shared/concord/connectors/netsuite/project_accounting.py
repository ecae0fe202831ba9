"""ErpProjectAccounting over NetSuite: a declared gap, not a silent no-op.

NetSuite models projects (the `job` record, with billing types and schedules) but the cost
forecast and contract terms Concord keeps (planned hours and cost by person, milestones with
amounts) map onto project budgets, resource allocations and billing schedules whose REST support
varies by account and release (REST Web Services Supported Records, some beta). Until an account
is mapped, capabilities.contract_objects is False and these raise ConfigurationError.
"""

from __future__ import annotations

from concord.domain import ContractTerms, ProjectForecast, RevenueSchedule
from concord.errors import ConfigurationError
from concord.ports import ErpProjectAccounting

GAP = (
    "netsuite keeps no contract terms or cost forecasts for Concord (capabilities.contract_objects "
    "is False): map them onto the account's project records first"
)

# NetSuite's revenue recognition (templates and schedules, or Advanced Revenue Management's
# arrangements) differs by account edition and is not mapped: capabilities.revenue_schedules is False.
REVENUE_GAP = "netsuite keeps no revenue schedules for Concord (capabilities.revenue_schedules is False)"


class NetSuiteProjectAccounting(ErpProjectAccounting):
    def set_project_forecast(self, project_ref: str, customer_id: str, forecast: ProjectForecast) -> None:
        raise ConfigurationError(GAP)

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None:
        raise ConfigurationError(GAP)

    def set_contract_terms(self, project_ref: str, customer_id: str, terms: ContractTerms) -> None:
        raise ConfigurationError(GAP)

    def set_revenue_schedule(self, project_ref: str, customer_id: str, schedule: RevenueSchedule) -> str:
        raise ConfigurationError(REVENUE_GAP)
