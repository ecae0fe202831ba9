"""Certinia (PSA on Salesforce): the project, its tasks and budget from OpportunityClosedWon, the
billing status from invoices and payments (concord.connectors.certinia.psa)."""

from __future__ import annotations

from ...connectors.certinia import mappers
from ...connectors.certinia.connection import CertiniaConnection, PsaFields, Stages
from ...connectors.certinia.psa import BUDGET, PROJECT, TASK
from ...connectors.salesforce.client import DEFAULT_API_VERSION
from ...connectors.salesforce.mappers import to_salesforce_status_updates
from ...events import Envelope
from ...events.envelope import InvoicePostedEvent, OpportunityClosedWonEvent, PaymentReceivedEvent
from ..inputs import MappingConfig, plan_of, status_of
from ..requests import VendorRequest, placeholder

API = f"services/data/{DEFAULT_API_VERSION}"
BUDGET_TYPE: str = CertiniaConnection.model_fields["budget_type"].default


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    fields = PsaFields()
    if isinstance(event, OpportunityClosedWonEvent):
        rules = config.rules_for(event.legal_entity)
        if rules is None:
            return []
        plan = plan_of(event, rules)
        project_id = placeholder("certinia project id")
        project = mappers.to_certinia_project(plan, placeholder("certinia account id"), None, Stages())
        tasks = mappers.to_certinia_tasks(plan, project_id, fields)
        return [
            # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm
            VendorRequest(
                operation="upsert project",
                method="PATCH",
                path=f"{API}/sobjects/{PROJECT}/{fields.project_ref}/{plan.external_ref}",
                body=project,
            ),
            # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm
            VendorRequest(
                operation="upsert tasks",
                method="PATCH",
                path=f"{API}/composite/sobjects/{TASK}/{fields.task_ref}",
                body={"allOrNone": True, "records": tasks},
            ),
            # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm
            VendorRequest(
                operation="create budget",
                method="POST",
                path=f"{API}/sobjects/{BUDGET}",
                body=mappers.to_certinia_budget(plan, project_id, BUDGET_TYPE),
            ),
        ]
    if isinstance(event, (InvoicePostedEvent, PaymentReceivedEvent)):
        statuses = {placeholder("certinia project id"): status_of(event)}
        records = to_salesforce_status_updates(PROJECT, fields.billing_status, statuses)
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
        return [
            VendorRequest(
                operation="set billing status",
                method="PATCH",
                path=f"{API}/composite/sobjects",
                body={"allOrNone": False, "records": records},
            )
        ]
    return []
