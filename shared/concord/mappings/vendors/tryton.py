"""Tryton (CRM, PSA and ERP over JSON-RPC): the party Concord creates for a customer
(concord.connectors.tryton.erp.customers), and a project's cost forecast and contract terms from
StaffingChanged and ContractChanged (concord.connectors.tryton.erp.project_accounting), as the
first write creates them (a later one writes the same values, replacing the lines). A request's
`path` is the RPC method; its country and subdivision ids are looked up at run time and rendered
as null, the other ids a run finds as placeholders."""

from __future__ import annotations

from typing import Any

from ...connectors.tryton import mapping
from ...connectors.tryton.mapping import terms
from ...connectors.tryton.names import Model
from ...events import Envelope
from ...events.envelope import AccountChangedEvent, ContractChangedEvent, StaffingChangedEvent
from ...sync.project_terms import contract_terms_of, forecast_of
from ..inputs import MappingConfig, customer_of, customer_ref
from ..requests import VendorRequest, placeholder


def _currency_id(code: str) -> str:
    return placeholder(f"currency id of {code}")


def _terms_request(
    operation: str, values: dict[str, Any], lines_field: str, lines: list[dict[str, Any]]
) -> VendorRequest:
    body = [terms.to_tryton_new_terms_values(placeholder("project ref"), values, lines_field, lines)]
    # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.create
    return VendorRequest(operation=operation, method="RPC", path=f"model.{Model.PROJECT_TERMS}.create", body=body)


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    party = placeholder("customer party id")
    if isinstance(event, StaffingChangedEvent):
        rules = config.rules_for(event.legal_entity)
        if rules is None:
            return []
        forecast = forecast_of(event, rules.billing_currency)
        forecast_values, lines = terms.to_tryton_forecast_values(forecast, party, _currency_id)
        return [_terms_request("set project forecast", forecast_values, terms.FORECAST_LINES, lines)]
    if isinstance(event, ContractChangedEvent):
        contract_values, milestones = terms.to_tryton_contract_values(contract_terms_of(event), party, _currency_id)
        return [_terms_request("set contract terms", contract_values, terms.MILESTONES, milestones)]
    if not isinstance(event, AccountChangedEvent):
        return []
    customer = customer_of(event)
    values: dict[str, Any] = mapping.to_tryton_party_values(customer, customer_ref(customer.account_id))
    if customer.billing_address:
        values["addresses"] = [["create", [mapping.to_tryton_address_values(customer.billing_address, None, None)]]]
    if customer.tax_id:
        country = customer.billing_address.country if customer.billing_address else None
        values["identifiers"] = [["create", [mapping.to_tryton_identifier_values(None, customer.tax_id, country)]]]
    # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.create
    return [VendorRequest(operation="create customer", method="RPC", path=f"model.{Model.PARTY}.create", body=[values])]
