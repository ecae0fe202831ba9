"""ErpProjectAccounting over Dynamics 365 Finance: a declared gap for now, not a silent no-op.

Finance models what Concord's ContractTerms and ProjectForecast say (project contracts with
funding sources and billing rules, projects, forecasts, and revenue recognition with revenue
schedules), but the entities and the mapping are not written yet: capabilities say
contract_objects=False and revenue_schedules=False, and these raise ConfigurationError.
docs/connectors.md names the entities the mapping would use.
"""

from __future__ import annotations

from concord.domain import ContractTerms, ProjectForecast
from concord.errors import ConfigurationError
from concord.ports import ErpProjectAccounting

GAP = ("dynamics_finance keeps no contract terms or cost forecasts for Concord yet "
       "(capabilities.contract_objects is False): see docs/connectors.md")


class FinanceProjectAccounting(ErpProjectAccounting):
    def set_project_forecast(self, project_ref: str, customer_id: str, forecast: ProjectForecast) -> None:
        raise ConfigurationError(GAP)

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None:
        raise ConfigurationError(GAP)

    def set_contract_terms(self, project_ref: str, customer_id: str, terms: ContractTerms) -> None:
        raise ConfigurationError(GAP)
