"""The CRM port over a Salesforce org: Accounts are customers, Opportunities are deals.

Financial statuses go to a custom picklist on the Opportunity; change capture polls Account
("customer") and Opportunity ("opportunity") by SystemModstamp (see polling.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from concord.domain import (
    BatchLimits,
    CrmCapabilities,
    Customer,
    FinancialStatus,
    Opportunity,
)
from concord.errors import ConcordError

from ..kit.errors import NotFound
from ..kit.polled import PolledChanges
from . import mappers
from .batches import field_by_id, update_by_id
from .client import COLLECTION_LIMIT, SalesforceClient, soql_quote
from .payloads import ACCOUNT_FIELDS, LINE_ITEM_FIELDS, OPPORTUNITY_FIELDS
from .polling import ModstampPoller, Watched


class CrmFields(BaseModel):
    """The org's names of the custom fields Concord reads and writes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tax_id: str = "Tax_Id__c"
    legal_entity: str = "Legal_Entity__c"
    financial_status: str = "Concord_Financial_Status__c"


CRM_RECORD_TYPES = {"customer": Watched("Account"), "opportunity": Watched("Opportunity")}


class SalesforceCrm(PolledChanges):
    """CrmPort over one org's SalesforceClient."""

    def __init__(self, client: SalesforceClient, fields: CrmFields, default_legal_entity: str) -> None:
        self.client = client
        self.fields = fields
        self.default_legal_entity = default_legal_entity
        self._poller = ModstampPoller(client, CRM_RECORD_TYPES)

    @property
    def capabilities(self) -> CrmCapabilities:
        # record_reads: one query reads up to 2000 rows per page (the default batch size).
        return CrmCapabilities(batch_limits=BatchLimits(status_writes=COLLECTION_LIMIT, record_reads=2000))

    def get_customer(self, account_id: str) -> Customer:
        # GET /sobjects/Account/{id}?fields=...:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
        fields = (*ACCOUNT_FIELDS, self.fields.tax_id, self.fields.legal_entity)
        record = self.client.get("Account", account_id, fields)
        return mappers.to_canonical_customer(
            record,
            tax_id_field=self.fields.tax_id,
            legal_entity_field=self.fields.legal_entity,
            default_legal_entity=self.default_legal_entity,
        )

    def get_opportunity(self, opportunity_id: str) -> Opportunity:
        # One SOQL query with the line items as a child subquery (relationship queries):
        # https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships_query_using.htm
        soql = (
            f"SELECT {', '.join(OPPORTUNITY_FIELDS)}, "
            f"(SELECT {', '.join(LINE_ITEM_FIELDS)} FROM OpportunityLineItems ORDER BY Id) "
            f"FROM Opportunity WHERE Id = {soql_quote(opportunity_id)}"
        )
        records = list(self.client.query(soql))
        if not records:
            raise NotFound(f"salesforce Opportunity {opportunity_id}: not found")
        return mappers.to_canonical_opportunity(self.client.with_all_children(records[0], "OpportunityLineItems"))

    def set_financial_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        # sObject Collections update, 200 records a call:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
        records = mappers.to_salesforce_status_updates("Opportunity", self.fields.financial_status, statuses)
        return update_by_id(self.client, "Opportunity", records)

    def financial_status(self, opportunity_id: str) -> FinancialStatus | None:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
        value = field_by_id(self.client, "Opportunity", opportunity_id, self.fields.financial_status)
        return mappers.to_canonical_status(value, f"Opportunity {opportunity_id}")
