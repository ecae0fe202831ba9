"""The PSA port over Kantata OX: workspaces are projects, stories (story_type "task") their tasks.

What one TimeApproved is: Kantata approves TIMESHEET SUBMISSIONS (one person's week on one
workspace), not time entries; each time entry of an approved submission is one ApprovedTime
(time_entry_id the entry's id, hours time_in_minutes / 60). Change capture "time_entry" yields
approved submissions by updated_at (polling.py); approved_entries(submission id) expands one.

Idempotent creation without idempotency keys: Concord's reference is an External Reference
on the workspace (service_name "concord", service_model "project"), written after the
workspace in a second call, and the workspace title carries it too. A retry finds the
workspace by its reference, else by its title (a crash between the two calls), and only then
creates one.

Reference: https://developer.kantata.com/kantata/specification
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from concord.domain import (
    ApprovedTime,
    BatchLimits,
    FinancialStatus,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    PsaCapabilities,
)
from concord.errors import ConcordError, PermanentError, TransientError, ValidationFailed
from concord.events.types import Money
from concord.observability import logger

from ..kit.errors import Conflict, NotFound
from ..kit.one_by_one import write_each
from ..kit.polled import PolledChanges
from . import mappers
from .client import KantataClient, Record, first
from .connection import KantataConnection
from .payloads import CustomFieldValueRow, ExternalReferenceRow, StoryRow, SubmissionRow, TimeEntryRow, WorkspaceRow
from .polling import SUBMISSIONS, SubmissionPoller, only_values

STATUS_BATCH = 100  # custom field values per bulk create-or-update
SERVICE_MODEL = "project"


class KantataPsa(PolledChanges):
    """PsaPort over one Kantata OX account."""

    def __init__(self, client: KantataClient, settings: KantataConnection) -> None:
        self.client = client
        self.settings = settings
        self._poller = SubmissionPoller(client)

    @property
    def capabilities(self) -> PsaCapabilities:
        return PsaCapabilities(batch_limits=BatchLimits(status_writes=STATUS_BATCH, record_reads=200))

    # -- projects ------------------------------------------------------------------------------

    def create_project(self, plan: ProjectPlan) -> ProjectRecord:
        """A repeat costs two calls (the reference, the stories); a first call: reference,
        title search, workspace, reference write, one call per task."""
        workspace_id = self._workspace_by_reference(plan.external_ref)
        if workspace_id is None:
            workspace_id = self._workspace_by_title(plan) or self._create_workspace(plan)
            self._write_reference(workspace_id, plan.external_ref)
        return ProjectRecord(project_id=workspace_id, task_ids=self._ensure_stories(plan, workspace_id))

    def set_project_state(self, project_id: str, state: ProjectState, reason: str) -> None:
        # https://developer.kantata.com/kantata/specification/workspaces/update-workspace
        body = {"workspace": mappers.to_kantata_status(state, self.settings.status_keys)}
        self.client.put("update workspace", f"workspaces/{project_id}.json", body)
        logger.info(
            "kantata project state set", extra={"project_id": project_id, "state": state.value, "reason": reason}
        )

    def rename_client(self, client_id: str, name: str) -> None:
        raise PermanentError("kantata: Concord creates no client record in Kantata OX (projects carry no client id)")

    # -- billing status and budget ------------------------------------------------------------

    def set_billing_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        """Bulk create-or-update, STATUS_BATCH values a call; a batch Kantata refuses (one bad
        project fails it whole) is written again one value a call, to find the projects at fault."""
        failed: dict[str, ConcordError] = {}
        ids = list(statuses)
        for start in range(0, len(ids), STATUS_BATCH):
            chunk = {project_id: statuses[project_id] for project_id in ids[start : start + STATUS_BATCH]}
            try:
                self._write_statuses(chunk)
            except (ValidationFailed, Conflict):  # a record at fault: find it
                failed |= write_each(chunk, lambda project_id, status: self._write_statuses({project_id: status}))
            except ConcordError as error:  # the account (auth, throttle, outage): the rest waits too
                return failed | dict.fromkeys(ids[start:], error)
        return failed

    def billing_status(self, project_id: str) -> FinancialStatus | None:
        params = {
            "subject_type": "Workspace",
            "with_subject_id": project_id,
            "with_custom_field_id": self.settings.billing_status_field_id,
        }
        # https://developer.kantata.com/kantata/specification/custom-field-values/get-custom-field-values
        values = [
            CustomFieldValueRow.model_validate(record)
            for record in self.client.get("read billing status", "custom_field_values.json", params).matches()
        ]
        return mappers.to_canonical_status(values[-1].value if values else None, f"workspace {project_id}")

    def project_budget(self, project_id: str) -> Money | None:
        return mappers.to_canonical_budget(self._workspace(project_id))

    # -- approved time ---------------------------------------------------------------------------

    def approved_time(self, project_id: str) -> Sequence[ApprovedTime]:
        # https://developer.kantata.com/kantata/specification/timesheet-submissions/get-timesheet-submissions
        params = {"workspace_id": project_id, "statuses": "approved", "include": "time_entries"}
        return [
            entry
            for record, page in self.client.listed("approved submissions", SUBMISSIONS, params)
            for entry in self._expand(SubmissionRow.model_validate(record), page.related)
        ]

    def approved_entries(self, record_id: str) -> Sequence[ApprovedTime]:
        return self.approved_entries_of([record_id]).get(record_id, [])

    def approved_entries_of(self, record_ids: Sequence[str]) -> dict[str, list[ApprovedTime]]:
        """approved_entries() of many submissions, a call per `only_values` with their time
        entries side-loaded: change capture announces a page of approvals in one call."""
        entries: dict[str, list[ApprovedTime]] = {}
        for only in only_values(record_ids):
            params = {"only": only, "include": "time_entries"}
            # `only` answers an empty list for an id it does not find, where the show route 404s:
            # https://developer.kantata.com/kantata/specification/timesheet-submissions/get-timesheet-submissions
            for record, page in self.client.listed("read submissions", SUBMISSIONS, params):
                submission = SubmissionRow.model_validate(record)
                entries[submission.id] = self._expand(submission, page.related)
        return entries

    # -- steps -------------------------------------------------------------------------------------

    def _workspace(self, project_id: str) -> WorkspaceRow:
        # https://developer.kantata.com/kantata/specification/workspaces/get-workspaces
        matches = self.client.get("read workspace", "workspaces.json", {"only": project_id}).matches()
        if not matches:
            raise NotFound(f"kantata workspace {project_id} not found")
        return WorkspaceRow.model_validate(matches[0])

    def _workspace_by_reference(self, external_ref: str) -> str | None:
        params = {
            "subject_type": "Workspace",
            "service_name": self.settings.service_name,
            "service_model": SERVICE_MODEL,
            "service_model_ref": external_ref,
        }
        # https://developer.kantata.com/kantata/specification/external-references/get-external-references
        found = [
            ExternalReferenceRow.model_validate(record)
            for record in self.client.get("find reference", "external_references.json", params).matches()
        ]
        found = [reference for reference in found if reference.service_model_ref == external_ref]
        return found[0].subject_id if found else None

    def _workspace_by_title(self, plan: ProjectPlan) -> str | None:
        title = mappers.workspace_title(plan)
        # `search` matches titles by substring; the exact title is the natural key.
        # https://developer.kantata.com/kantata/specification/workspaces/get-workspaces
        found = [
            WorkspaceRow.model_validate(record)
            for record in self.client.all("find workspace", "workspaces.json", {"search": plan.external_ref})
        ]
        exact = sorted((row for row in found if row.title == title), key=lambda row: int(row.id))
        return exact[0].id if exact else None

    def _create_workspace(self, plan: ProjectPlan) -> str:
        # https://developer.kantata.com/kantata/specification/workspaces/create-workspace
        answer = self.client.post(
            "create workspace", "workspaces.json", {"workspace": mappers.to_kantata_workspace(plan)}
        )
        return str(first(answer, "create workspace")["id"])

    def _write_reference(self, workspace_id: str, external_ref: str) -> None:
        reference = {
            "subject_type": "Workspace",
            "subject_id": int(workspace_id),
            "service_name": self.settings.service_name,
            "service_model": SERVICE_MODEL,
            "service_model_ref": external_ref,
            "status": "successful",
        }
        # https://developer.kantata.com/kantata/specification/external-references/create-or-update-external-reference
        self.client.post(
            "write reference", "external_references/create_or_update.json", {"external_reference": reference}
        )

    def _ensure_stories(self, plan: ProjectPlan, workspace_id: str) -> dict[str, str]:
        """The plan's tasks by title: those the workspace has are found, the rest created."""
        # https://developer.kantata.com/kantata/specification/stories/get-stories
        stories = [
            StoryRow.model_validate(record)
            for record in self.client.all("list stories", "stories.json", {"workspace_id": workspace_id})
        ]
        # Oldest last, so of two stories with one title the first created is the one kept.
        task_ids = {story.title: story.id for story in sorted(stories, key=lambda story: int(story.id), reverse=True)}
        for position, task in enumerate(plan.tasks):
            if task.name not in task_ids:
                # https://developer.kantata.com/kantata/specification/stories/create-story
                story = {"story": mappers.to_kantata_story(plan, workspace_id, position)}
                task_ids[task.name] = str(
                    first(self.client.post("create story", "stories.json", story), "create story")["id"]
                )
        return {task.name: task_ids[task.name] for task in plan.tasks}

    def _write_statuses(self, statuses: Mapping[str, FinancialStatus]) -> None:
        values = mappers.to_kantata_status_values(statuses, self.settings.billing_status_field_id)
        # https://developer.kantata.com/kantata/specification/custom-field-values/create-custom-field-value
        self.client.post("write billing status", "custom_field_values.json", {"custom_field_values": values})

    @staticmethod
    def _expand(submission: SubmissionRow, related: Callable[[str, str], Record | None]) -> list[ApprovedTime]:
        """The submission's approved time, from its time entries side-loaded on the same page
        (an entry Kantata did not include is an error, not less time to bill)."""
        missing = [entry_id for entry_id in submission.time_entry_ids if related("time_entries", entry_id) is None]
        if missing:
            raise TransientError(
                f"kantata submission {submission.id}: time entries {missing[:5]} not included in the answer"
            )
        entries = [
            TimeEntryRow.model_validate(related("time_entries", entry_id)) for entry_id in submission.time_entry_ids
        ]
        return mappers.to_canonical_approved_time(submission, entries)
