"""Salesforce (CRM): the opportunity's financial status from invoices and payments
(concord.connectors.salesforce.crm)."""

from __future__ import annotations

from ...connectors.salesforce.client import DEFAULT_API_VERSION
from ...connectors.salesforce.crm import CrmFields
from ...connectors.salesforce.mappers import to_salesforce_status_updates
from ...events import Envelope
from ...events.envelope import InvoicePostedEvent, PaymentReceivedEvent
from ..inputs import MappingConfig, status_of
from ..requests import VendorRequest, placeholder


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    if not isinstance(event, (InvoicePostedEvent, PaymentReceivedEvent)):
        return []
    statuses = {placeholder("opportunity id"): status_of(event)}
    records = to_salesforce_status_updates("Opportunity", CrmFields().financial_status, statuses)
    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
    return [
        VendorRequest(
            operation="update_collection",
            method="PATCH",
            path=f"services/data/{DEFAULT_API_VERSION}/composite/sobjects",
            body={"allOrNone": False, "records": records},
        )
    ]
