"""ErpProjectAccounting over Dynamics 365 Finance: revenue schedules through the Revenue recognition
module; contract terms and cost forecasts a declared gap, not a silent no-op.

Finance defers revenue for released products on sales orders, not on free text invoices: a sales
order line carries a revenue schedule (set up by finance: occurrences, recognition basis, automatic
hold) and the contract start and end dates; posting the order's invoice creates the schedule's
deferred lines, and revenue recognition journals release them. So Concord records a deal's deferred
lines (RATABLY, ON_MILESTONE) as one sales order per project, found again by Concord's project
reference on the header; ON_INVOICE lines (time and materials) stay with billing, whose free text
invoices recognize revenue when they post.
https://learn.microsoft.com/en-us/dynamics365/finance/accounts-receivable/revenue-recognition-setup

Project contracts with funding sources, projects and forecasts are not mapped yet: capabilities say
contract_objects=False and those calls raise ConfigurationError (docs/connectors.md).
"""

from __future__ import annotations

from concord.domain import ContractTerms, ProjectForecast, RecognitionMethod, RevenueSchedule
from concord.errors import ConfigurationError, ValidationFailed
from concord.ports import ErpProjectAccounting

from . import mappers
from .batch import BatchRequest
from .client import Row
from .entities import COMPANY, CUSTOMERS, REVENUE_SCHEDULES, SALES_ORDER_LINES, SALES_ORDERS
from .ids import key_values, odata_literal, record_id
from .session import ErpSession

GAP = (
    "dynamics_finance keeps no contract terms or cost forecasts for Concord yet "
    "(capabilities.contract_objects is False): see docs/connectors.md"
)
YES, NO = "Yes", "No"


class FinanceProjectAccounting(ErpSession, ErpProjectAccounting):
    def set_project_forecast(self, project_ref: str, customer_id: str, forecast: ProjectForecast) -> None:
        raise ConfigurationError(GAP)

    def get_contract_terms(self, project_ref: str) -> ContractTerms | None:
        raise ConfigurationError(GAP)

    def set_contract_terms(self, project_ref: str, customer_id: str, terms: ContractTerms) -> None:
        raise ConfigurationError(GAP)

    def set_revenue_schedule(self, project_ref: str, customer_id: str, schedule: RevenueSchedule) -> str:
        """The project's sales order with a line per deferred deal line, each on the revenue schedule
        its method needs; returns the order's id. A second call finds the order by the project
        reference and adds nothing (lines go in one change set, so an order has all or none)."""
        keys = key_values(CUSTOMERS, customer_id)
        if keys is None:
            raise ValidationFailed(f"dynamics_finance: {customer_id!r} is not a customer id")
        deferred = schedule.deferred_lines()
        if not deferred:
            raise ValidationFailed(f"project {project_ref}: no line of the schedule is deferred")
        currency = mappers.deferred_currency(project_ref, deferred)
        company, account = keys[COMPANY], keys["CustomerAccount"]
        schedule_ids = {
            method: self._revenue_schedule_id(company, method, schedule.term_months)
            for method in {line.method for line in deferred}
        }
        order = self._sales_order(company, account, currency, project_ref)
        if not self._order_has_lines(order):
            requests = [
                BatchRequest(
                    "POST",
                    SALES_ORDER_LINES.name,
                    mappers.to_revenue_line(order, line, schedule_ids[line.method], schedule),
                )
                for line in deferred
            ]
            self.client.change_set(f"add revenue lines to {SALES_ORDERS.name}", requests)
        return record_id(SALES_ORDERS, order)

    # ---------------------------------------------------------------- helpers

    def _revenue_schedule_id(self, company: str, method: RecognitionMethod, term_months: int) -> str:
        """Finance's revenue schedule for a method: RATABLY one of `term_months` occurrences released
        as they fall due, ON_MILESTONE one occurrence put on hold until a person releases it (as the
        setup guide recommends for milestones). Finance owns the setup; Concord only picks."""
        occurrences, hold = (term_months, NO) if method is RecognitionMethod.RATABLY else (1, YES)
        rows = self.client.query(
            REVENUE_SCHEDULES.name,
            orderby="RevenueScheduleID",
            filter=f"dataAreaId eq {odata_literal(company)} and Occurrences eq {occurrences}",
        )
        found = next((row for row in rows if row.get("AutoHold", NO) == hold), None)
        if found is None:
            raise ValidationFailed(
                f"dynamics_finance company {company} has no revenue schedule of {occurrences} occurrences with "
                f"automatic hold {hold}: finance sets one up (Revenue recognition > Setup > Revenue schedules)"
            )
        return str(found["RevenueScheduleID"])

    def _sales_order(self, company: str, account: str, currency: str, project_ref: str) -> Row:
        rows, _ = self.client.query_page(
            SALES_ORDERS.name,
            top=1,
            orderby="SalesOrderNumber",
            filter=f"{mappers.PROJECT_REF} eq {odata_literal(project_ref)} and dataAreaId eq {odata_literal(company)}",
        )
        if rows:
            order = rows[0]
            if (order.get("OrderingCustomerAccountNumber"), order.get("CurrencyCode")) != (account, currency):
                raise ValidationFailed(
                    f"sales order {order['SalesOrderNumber']} of project {project_ref!r} is for customer "
                    f"{order.get('OrderingCustomerAccountNumber')} in {order.get('CurrencyCode')}, "
                    f"not {account} in {currency}"
                )
            return order
        return self.client.create(
            SALES_ORDERS.name, mappers.to_sales_order_header(company, account, currency, project_ref)
        )

    def _order_has_lines(self, order: Row) -> bool:
        rows, _ = self.client.query_page(
            SALES_ORDER_LINES.name,
            top=1,
            filter=f"dataAreaId eq {odata_literal(order[COMPANY])} and "
            f"SalesOrderNumber eq {odata_literal(order['SalesOrderNumber'])}",
        )
        return bool(rows)
