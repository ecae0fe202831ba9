"""Tryton (CRM, PSA and ERP over JSON-RPC): the party Concord creates for a customer
(concord.connectors.tryton.erp.customers). A request's `path` is the RPC method; its country
and subdivision ids are looked up at run time and rendered as null."""

from __future__ import annotations

from typing import Any

from ...connectors.tryton import mapping
from ...connectors.tryton.names import Model
from ...events import Envelope
from ...events.envelope import AccountChangedEvent
from ..inputs import MappingConfig, customer_of, customer_ref
from ..requests import VendorRequest


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
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
