"""The CRM port over a HubSpot portal: companies are customers, deals are opportunities (with
their associated line items), the financial status is a custom deal property.

Change capture searches companies ("customer") and deals ("opportunity") by
hs_lastmodifieddate (see polling.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from concord.domain import BatchLimits, CrmCapabilities, Customer, FinancialStatus, Opportunity
from concord.errors import ConcordError

from ..kit.polled import PolledChanges
from . import mappers
from .client import BATCH_LIMIT, SEARCH_LIMIT, HubSpotClient
from .payloads import COMPANY_PROPERTIES, DEAL_PROPERTIES, LINE_ITEM_PROPERTIES
from .polling import SearchPoller


class CrmProperties(BaseModel):
    """The portal's internal names of the properties Concord reads and writes (custom ones
    created at set-up, see docs/connectors.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tax_id: str = "concord_tax_id"
    legal_entity: str = "concord_legal_entity"
    currency: str = "concord_currency"
    financial_status: str = "concord_financial_status"
    product_code: str = "hs_sku"


CRM_OBJECT_TYPES = {"customer": "companies", "opportunity": "deals"}


class HubSpotCrm(PolledChanges):
    """CrmPort over one portal's HubSpotClient."""

    def __init__(
        self,
        client: HubSpotClient,
        properties: CrmProperties,
        default_legal_entity: str,
        default_currency: str | None = None,
    ) -> None:
        self.client = client
        self.properties = properties
        self.default_legal_entity = default_legal_entity
        self.default_currency = default_currency
        self._poller = SearchPoller(client, CRM_OBJECT_TYPES)

    @property
    def capabilities(self) -> CrmCapabilities:
        return CrmCapabilities(batch_limits=BatchLimits(status_writes=BATCH_LIMIT, record_reads=SEARCH_LIMIT))

    def get_customer(self, account_id: str) -> Customer:
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/companies/get-company
        props = self.properties
        company = self.client.get(
            "companies", account_id, (*COMPANY_PROPERTIES, props.tax_id, props.legal_entity, props.currency)
        )
        return mappers.to_canonical_customer(
            company,
            tax_id=props.tax_id,
            legal_entity=props.legal_entity,
            currency=props.currency,
            default_legal_entity=self.default_legal_entity,
        )

    def get_opportunity(self, opportunity_id: str) -> Opportunity:
        # The deal with its association ids, then its line items in batch reads (2 calls):
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/get-deal
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/line-items/batch/read-line-items
        deal = self.client.get("deals", opportunity_id, DEAL_PROPERTIES, associations=("companies", "line_items"))
        item_ids = deal.associated("line_items")
        items = (
            self.client.batch_read("line_items", item_ids, (*LINE_ITEM_PROPERTIES, self.properties.product_code))
            if item_ids
            else []
        )
        order = {item_id: index for index, item_id in enumerate(item_ids)}
        items.sort(key=lambda item: order.get(item.id, len(order)))
        return mappers.to_canonical_opportunity(
            deal, items, product_code=self.properties.product_code, default_currency=self.default_currency
        )

    def set_financial_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        # Batch update by id, 100 a call, 207 Multi-Status per-item errors:
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/batch/update-deals
        inputs = mappers.to_hubspot_status_inputs(self.properties.financial_status, statuses)
        return self.client.batch_update("deals", inputs)

    def financial_status(self, opportunity_id: str) -> FinancialStatus | None:
        # https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/deals/get-deal
        deal = self.client.get("deals", opportunity_id, (self.properties.financial_status,))
        return mappers.to_canonical_status(deal.value(self.properties.financial_status), f"deal {opportunity_id}")
