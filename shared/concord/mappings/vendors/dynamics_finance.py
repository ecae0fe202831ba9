"""Dynamics 365 Finance (ERP): the customer from AccountChanged, free text invoice lines from
approved work, and the deal's deferred revenue (a sales order whose lines carry revenue
schedules) from OpportunityClosedWon, as quote-to-cash's MapRevenueSchedule sends it
(concord.connectors.dynamics_finance: customers.py, billing.py, project_accounting.py,
mappers.py). Contract terms and cost forecasts are a declared gap of the connector
(capabilities.contract_objects is False): ContractChanged and StaffingChanged render nothing.

Paths are entity sets under the environment's /data/; lines go inside one `$batch` change set.
The company, keys and records a run finds (and the connection's reference data: customer group,
main accounts, item prices) are placeholders; the country/region ids are the connection's defaults."""

from __future__ import annotations

from ...connectors.dynamics_finance import mappers
from ...connectors.dynamics_finance.connection import Fields, FinanceConnection
from ...connectors.dynamics_finance.customers import deterministic_account
from ...connectors.dynamics_finance.entities import COMPANY, CUSTOMERS, INVOICE_LINES, SALES_ORDER_LINES, SALES_ORDERS
from ...events import Envelope
from ...events.envelope import (
    AccountChangedEvent,
    ExpenseApprovedEvent,
    OpportunityClosedWonEvent,
    TimeApprovedEvent,
)
from ...events.types import System
from ...sync.ids import canonical_id
from ...sync.quote_to_cash import revenue_schedule
from ...sync.rules import LegalEntityRules
from ..inputs import MappingConfig, customer_of, customer_ref, customer_update_of, line_of, opportunity_of
from ..requests import VendorRequest, placeholder

COUNTRY_REGIONS: dict[str, str] = FinanceConnection.model_fields["country_regions"].default_factory()  # type: ignore[call-arg, misc]
CUSTOMER_PREFIX: str = FinanceConnection.model_fields["customer_prefix"].default


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    company = placeholder(f"company of {event.legal_entity}")
    if isinstance(event, AccountChangedEvent):
        customer = customer_of(event)
        account = deterministic_account(CUSTOMER_PREFIX, customer_ref(customer.account_id))
        created = mappers.to_new_customer(customer, company, account, placeholder("customer group"), COUNTRY_REGIONS)
        changes = mappers.to_customer_changes(customer_update_of(event, config.ownership), COUNTRY_REGIONS)
        return [
            # https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
            VendorRequest(operation="create customer", method="POST", path=CUSTOMERS.name, body=created),
            VendorRequest(
                operation="update customer",
                method="PATCH",
                path=f"{CUSTOMERS.name}({placeholder('customer key')})",
                body=changes,
            ),
        ]
    rules = config.rules_for(event.legal_entity)
    if rules is None:
        return []
    if isinstance(event, (TimeApprovedEvent, ExpenseApprovedEvent)):
        line = line_of(event, rules)
        if line is None:
            return []
        item = line.service_item
        price = line.unit_price.amount if line.unit_price is not None else placeholder(f"unit price of {item}")
        header = {COMPANY: company, "InvoiceIdentifier": placeholder("draft invoice id")}
        ref_field = Fields().concord_ref
        ref = (ref_field, line.concord_ref or "") if ref_field else None
        number = placeholder("next line number")
        body = mappers.to_free_text_line(header, number, line, placeholder(f"main account of {item}"), price, ref)
        # Sent in a $batch change set; https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
        return [VendorRequest(operation="add invoice lines", method="POST", path=INVOICE_LINES.name, body=body)]
    if isinstance(event, OpportunityClosedWonEvent):
        return _revenue_schedule(event, rules, company)
    return []


def _revenue_schedule(event: OpportunityClosedWonEvent, rules: LegalEntityRules, company: str) -> list[VendorRequest]:
    schedule = revenue_schedule(opportunity_of(event), event.data.closed_on, rules)
    deferred = schedule.deferred_lines()
    if not deferred:
        return []  # the saga records MapRevenueSchedule as not needed
    project_ref = canonical_id("project", System.CRM, event.data.opportunity_id)
    currency = mappers.deferred_currency(project_ref, deferred)
    header = mappers.to_sales_order_header(company, placeholder("customer account"), currency, project_ref)
    order = {COMPANY: company, "SalesOrderNumber": placeholder("sales order number")}
    # https://learn.microsoft.com/en-us/dynamics365/finance/accounts-receivable/revenue-recognition-setup
    requests = [VendorRequest(operation="create sales order", method="POST", path=SALES_ORDERS.name, body=header)]
    requests += [
        VendorRequest(
            operation="add revenue lines",
            method="POST",
            path=SALES_ORDER_LINES.name,
            body=mappers.to_revenue_line(
                order, line, placeholder(f"revenue schedule for {line.method.value}"), schedule
            ),
        )
        for line in deferred
    ]
    return requests
