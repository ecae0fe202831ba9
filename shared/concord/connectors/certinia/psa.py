"""The PSA port over Certinia PSA (the `pse__` managed package in a Salesforce org).

Projects are pse__Proj__c, tasks pse__Project_Task__c, budgets pse__Budget__c; clients are
Accounts (the CRM's own, when Certinia runs in the CRM's org: `org = same`).

What one TimeApproved is: Certinia approves TIMECARDS, and a pse__Timecard_Header__c is one
person's week of hours on one project (pse__Monday_Hours__c .. pse__Sunday_Hours__c from
pse__Start_Date__c). Each day of an approved header with hours > 0 is one ApprovedTime:
time_entry_id "<header id>:<YYYY-MM-DD>", worked_on that day, task the header's
pse__Project_Task__c (else the project), employee pse__Resource__c, billable pse__Billable__c,
approved_at the header's LastModifiedDate. Change capture "time_entry" yields approved headers
by SystemModstamp; approved_entries(header id) expands one.

Object reference: https://help.certinia.com/TechnicalReference/2025.3/ProfessionalServicesAutomation/Schema/
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from concord.domain import (
    ApprovedTime,
    BatchLimits,
    FinancialStatus,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    PsaCapabilities,
)
from concord.errors import ConcordError, OwnershipConflict, ValidationFailed
from concord.events.types import Money
from concord.observability import logger

from ..kit.errors import NotFound
from ..kit.polled import PolledChanges
from ..salesforce.batches import by_external_id, field_by_id, update_by_id
from ..salesforce.client import COLLECTION_LIMIT, SalesforceClient, soql_quote
from ..salesforce.mappers import to_canonical_status, to_salesforce_status_updates
from ..salesforce.polling import ModstampPoller, Watched, records_by_id
from . import mappers
from .connection import CertiniaConnection, OrgMode
from .payloads import BUDGET_FIELDS, TIMECARD_FIELDS, BudgetRow, ProjectRow, TimecardRow

PROJECT, TASK, BUDGET, TIMECARD = "pse__Proj__c", "pse__Project_Task__c", "pse__Budget__c", "pse__Timecard_Header__c"
PSA_RECORD_TYPES = {"time_entry": Watched(TIMECARD, "pse__Approved__c = true")}


class CertiniaPsa(PolledChanges):
    """PsaPort over one org's SalesforceClient."""

    def __init__(self, client: SalesforceClient, settings: CertiniaConnection) -> None:
        self.client = client
        self.settings = settings
        self.fields = settings.fields
        self._poller = ModstampPoller(client, PSA_RECORD_TYPES)

    @property
    def same_org(self) -> bool:
        return self.settings.org is OrgMode.SAME

    @property
    def capabilities(self) -> PsaCapabilities:
        return PsaCapabilities(
            clients_are_crm_accounts=self.same_org,
            batch_limits=BatchLimits(status_writes=COLLECTION_LIMIT, record_reads=2000),
        )

    # -- projects ------------------------------------------------------------------------------

    def create_project(self, plan: ProjectPlan) -> ProjectRecord:
        """Idempotent by external ids: what an earlier call created is found, not made twice.
        A first call: find (1 query), client upsert (separate org, no client_id), project
        upsert, tasks in one collection upsert, budget insert; a repeat: the query alone."""
        existing = self._find_project(plan.external_ref)
        if existing is not None and len(existing.task_ids()) >= len(plan.tasks) and existing.has_budget():
            return ProjectRecord(project_id=existing.id, client_id=existing.account_id, task_ids=existing.task_ids())
        client_id = existing.account_id if existing and existing.account_id else self._client_for(plan)
        project_id = existing.id if existing else self._upsert_project(plan, client_id)
        task_ids = self._upsert_tasks(plan, project_id)
        if existing is None or not existing.has_budget():
            # pse__Budget__c has no external id Concord can rely on: the find above is the
            # check before this insert (a retry after a crash finds the budget made before).
            # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_sobject_create.htm
            self.client.create(BUDGET, mappers.to_certinia_budget(plan, project_id, self.settings.budget_type))
        return ProjectRecord(project_id=project_id, client_id=client_id, task_ids=task_ids)

    def set_project_state(self, project_id: str, state: ProjectState, reason: str) -> None:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm
        self.client.update(PROJECT, project_id, mappers.to_certinia_stage(state, self.settings.stages))
        logger.info(
            "certinia project state set", extra={"project_id": project_id, "state": state.value, "reason": reason}
        )

    def rename_client(self, client_id: str, name: str) -> None:
        if self.same_org:
            raise OwnershipConflict(
                f"certinia client {client_id} is the CRM's Account (same org): "
                "the CRM owns its name, Concord does not write it"
            )
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm
        self.client.update("Account", client_id, {"Name": name})

    # -- billing status and budget ------------------------------------------------------------

    def set_billing_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        # sObject Collections update, 200 a call:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm
        records = to_salesforce_status_updates(PROJECT, self.fields.billing_status, statuses)
        return update_by_id(self.client, PROJECT, records)

    def billing_status(self, project_id: str) -> FinancialStatus | None:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_retrieve.htm
        value = field_by_id(self.client, PROJECT, project_id, self.fields.billing_status)
        return to_canonical_status(value, f"{PROJECT} {project_id}")

    def project_budget(self, project_id: str) -> Money | None:
        # Summed here rather than with SUM(): the rows are few, and one shape serves every org.
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
        soql = (
            f"SELECT {', '.join(BUDGET_FIELDS)} FROM {BUDGET} "
            f"WHERE pse__Project__c = {soql_quote(project_id)} AND pse__Approved__c = true"
        )
        rows = [BudgetRow.model_validate(record) for record in self.client.query(soql)]
        return mappers.to_canonical_budget(rows, project_id)

    # -- approved time ---------------------------------------------------------------------------

    def approved_time(self, project_id: str) -> Sequence[ApprovedTime]:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_query.htm
        soql = (
            f"SELECT {', '.join(TIMECARD_FIELDS)} FROM {TIMECARD} WHERE pse__Project__c = {soql_quote(project_id)} "
            "AND pse__Approved__c = true ORDER BY pse__Start_Date__c, Id"
        )
        return [
            entry
            for record in self.client.query(soql)
            for entry in mappers.to_canonical_approved_time(TimecardRow.model_validate(record))
        ]

    def approved_entries(self, record_id: str) -> Sequence[ApprovedTime]:
        return self.approved_entries_of([record_id]).get(record_id, [])

    def approved_entries_of(self, record_ids: Sequence[str]) -> dict[str, list[ApprovedTime]]:
        """approved_entries() of many timecard headers, a query per 200 ids: change capture
        announces a page of approvals in a call or two. Headers not found, and ids that are no
        Salesforce ids, are left out."""
        headers = records_by_id(self.client, TIMECARD, TIMECARD_FIELDS, record_ids)
        return {
            header.id: mappers.to_canonical_approved_time(header)
            for header in (TimecardRow.model_validate(record) for record in headers)
        }

    # -- steps of create_project -----------------------------------------------------------------

    def _find_project(self, external_ref: str) -> ProjectRow | None:
        # One query: the project by its external id, with its tasks and budgets (child subqueries).
        # https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_relationships_query_using.htm
        soql = (
            f"SELECT Id, pse__Account__c, (SELECT Id, Name FROM pse__Project_Tasks__r), "
            f"(SELECT {', '.join(BUDGET_FIELDS)} FROM pse__Budgets__r) "
            f"FROM {PROJECT} WHERE {self.fields.project_ref} = {soql_quote(external_ref)}"
        )
        records = list(self.client.query(soql))
        if not records:
            return None
        complete = self.client.with_all_children(
            self.client.with_all_children(records[0], "pse__Project_Tasks__r"), "pse__Budgets__r"
        )
        return ProjectRow.model_validate(complete)

    def _client_for(self, plan: ProjectPlan) -> str:
        if self.same_org:
            if not plan.account_id:
                raise ValidationFailed(f"project {plan.external_ref}: a same-org PSA needs the CRM account id")
            return plan.account_id
        if plan.client_id:
            return plan.client_id
        # Upsert by external id: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm
        return self._upsert_id("Account", self.fields.customer_ref, plan.customer_ref, {"Name": plan.customer_name})

    def _upsert_project(self, plan: ProjectPlan, client_id: str) -> str:
        opportunity_id = plan.opportunity_id if self.same_org else None  # a separate org has no CRM deals
        fields = mappers.to_certinia_project(plan, client_id, opportunity_id, self.settings.stages)
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm
        return self._upsert_id(PROJECT, self.fields.project_ref, plan.external_ref, fields)

    def _upsert_tasks(self, plan: ProjectPlan, project_id: str) -> dict[str, str]:
        records = mappers.to_certinia_tasks(plan, project_id, self.fields)
        # All tasks in one call, all or none:
        # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm
        results = self.client.upsert_collection(TASK, self.fields.task_ref, records, all_or_none=True)
        ids = by_external_id(results, [record[self.fields.task_ref] for record in records], TASK)
        return {task.name: ids[record[self.fields.task_ref]] for task, record in zip(plan.tasks, records, strict=True)}

    def _upsert_id(self, sobject: str, ext_field: str, ext_value: str, fields: dict[str, object]) -> str:
        record_id, _ = self.client.upsert(sobject, ext_field, ext_value, fields)
        if record_id:
            return record_id
        # An update answered 204 (no body, older API versions): read the id by the external id.
        found = list(self.client.query(f"SELECT Id FROM {sobject} WHERE {ext_field} = {soql_quote(ext_value)}"))
        if not found:
            raise NotFound(f"certinia {sobject} {ext_field}={ext_value}: upserted but not found")
        return str(found[0]["Id"])
