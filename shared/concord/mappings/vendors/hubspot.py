"""HubSpot (CRM): the deal's financial status from invoices and payments
(concord.connectors.hubspot.crm)."""

from __future__ import annotations

from ...connectors.hubspot.client import API_VERSION
from ...connectors.hubspot.crm import CrmProperties
from ...connectors.hubspot.mappers import to_hubspot_status_inputs
from ...events import Envelope
from ...events.envelope import InvoicePostedEvent, PaymentReceivedEvent
from ..inputs import MappingConfig, status_of
from ..requests import VendorRequest, placeholder


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    if not isinstance(event, (InvoicePostedEvent, PaymentReceivedEvent)):
        return []
    inputs = to_hubspot_status_inputs(CrmProperties().financial_status, {placeholder("deal id"): status_of(event)})
    # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/batch/update-deals
    return [
        VendorRequest(
            operation="batch_update",
            method="POST",
            path=f"crm/objects/{API_VERSION}/deals/batch/update",
            body={"inputs": inputs},
        )
    ]
