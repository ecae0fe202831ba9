"""The local PSA: Tryton's `psa` database (project, timesheet) behind Concord's PsaPort.

Projects and tasks are project.work records (type "project" / "task"); time is
timesheet.line on each work's timesheet.work. Module docs:
https://docs.tryton.org/modules-project/, https://docs.tryton.org/modules-timesheet/,
https://docs.tryton.org/modules-project-invoice/, https://docs.tryton.org/modules-project-revenue/
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from concord.domain import (
    ApprovedTime,
    FinancialStatus,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    PsaCapabilities,
)
from concord.errors import ConcordError, ValidationFailed
from concord.events.types import Money
from concord.ports import PsaPort

from . import lookups, mapping, names, status_notes
from .catalogue import TrytonCatalogue
from .contacts import TrytonContacts
from .names import CONCORD_REF, MODIFIED_AT, Model
from .polling import RecordTypes, TrytonPolled
from .rpc import TrytonPermanentError, TrytonRpcClient

logger = logging.getLogger(__name__)

# changes_since: Projects or tasks modified after `cursor`, or time entries approved after it,
# oldest first, each with its created_at (create_date).
#
# time_entry: approved timesheet lines with written_at = approved_at (set once by the
# approve button), so an approval is what makes a line visible, once, and the cursor
# runs on the same instant the pushed TimeApproved carries; later edits of an approved
# line (its description) are not changes of the approved time. Announce each with
# approved_entries(); its delivery id, TimeApproved:<id>:<created_at>, is the push's.
# https://docs.tryton.org/modules-timesheet/design.html#timesheet-line
# A line's approved time, with its task and the task's parent read through the timesheet work's
# origin (dotted field names: https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.read):
# a task right under its project needs no second read to find the project.
LINE_FIELDS = (
    "work.origin",
    "work.origin.parent",
    "work.origin.project_invoice_method",
    "work.origin.parent.parent",
    "work.origin.parent.project_invoice_method",
    "employee",
    "date",
    "duration",
    names.APPROVED_AT,
)
RECORD_TYPES = RecordTypes(
    "PSA",
    {
        "project": (Model.WORK, [["type", "=", "project"]], MODIFIED_AT),
        "task": (Model.WORK, [["type", "=", "task"]], MODIFIED_AT),
        # Approved time, by approval time: each line comes once, when it is approved.
        "time_entry": (Model.TIMESHEET_LINE, [[names.APPROVAL_STATE, "=", names.APPROVED]], names.APPROVED_AT),
    },
    # A page of approvals is read with what announcing them needs: one call a page.
    read_ahead={"time_entry": LINE_FIELDS},
)
# A Tryton party is the PSA's own client record (not the CRM's account). Service items are
# products: a task's product prices its revenue (project_revenue; catalogue.py). A client's
# people: contacts.py.
CAPABILITIES = PsaCapabilities(clients_are_crm_accounts=False, service_items=True, contacts=True)
BILLING_STATUS = status_notes.NotedStatus(
    Model.WORK, "project", names.BILLING_STATUS_NOTE, mapping.billing_status_note, [["type", "=", "project"]]
)
# How time is billed on projects Concord creates: from timesheet lines (time and materials).
INVOICE_METHOD = "timesheet"


class TrytonPsa(TrytonPolled, TrytonCatalogue, TrytonContacts, PsaPort):
    """PsaPort over one TrytonRpcClient of the `psa` database (not thread-safe, as the client)."""

    record_types = RECORD_TYPES

    def __init__(self, client: TrytonRpcClient) -> None:
        self.client = client
        self._invoice_method: str | None = None

    @property
    def capabilities(self) -> PsaCapabilities:
        return CAPABILITIES

    # -- PsaPort ---------------------------------------------------------------------------

    def create_project(self, plan: ProjectPlan) -> ProjectRecord:
        """Create the project of `plan`, or return the one an earlier call created: Tryton
        stores Concord's id (concord_ref = plan.external_ref, unique), so a retry finds it.

        The client party is plan.client_id when given, else found by concord_ref =
        plan.customer_ref, else created with it. The project and its tasks are created in one
        call (one transaction): a retry after a failure either finds all of it or none. An
        existing project is returned as it is, not reconciled with a different plan.
        """
        if existing := self._project_by_ref(plan.external_ref):
            return existing
        if plan.client_id is not None:
            party_id = names.record_id(plan.client_id, "client")
        else:
            party_id = self._client_party(plan.customer_ref, plan.customer_name)
        products = lookups.product_by_code(self.client, (t.service_item for t in plan.tasks))
        if self._invoice_method is None:  # project_invoice active in this database?
            self._invoice_method = (
                INVOICE_METHOD if lookups.has_field(self.client, Model.WORK, "project_invoice_method") else ""
            )
        invoice_method = self._invoice_method or None
        values = mapping.to_tryton_project_values(plan, party_id, products, invoice_method=invoice_method)
        # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.create
        # (children: [["create", [...]]] creates the tasks in the same transaction)
        try:
            (project_id,) = self.client.create(Model.WORK, [values])
        except TrytonPermanentError:
            # concord_ref is unique: a concurrent create of the same plan won the race.
            if existing := self._project_by_ref(plan.external_ref):
                return existing
            raise
        logger.info(
            "tryton psa created project id=%s concord_ref=%s tasks=%d", project_id, plan.external_ref, len(plan.tasks)
        )
        return mapping.to_project_record({"id": project_id, "party": party_id}, self._tasks(project_id))

    def set_project_state(self, project_id: str, state: ProjectState, reason: str) -> None:
        """Move the project to the project.work.status standing for `state` and append
        "<time> Concord: project <state>: <reason>" to its comment.

        ACTIVE = "Open", CLOSED = "Done", ON_HOLD = "On Hold" (created once if missing:
        Tryton ships only Open and Done). Closing completes the project: Tryton requires
        progress 100% for "Done", on the project and on every work below it, so those get
        progress 1.0 and "Done" too. Reactivating sets "Open" on the project only.
        Idempotent: nothing is written when the project already has that status and the last
        Concord line of its comment records the same state and reason.
        """
        id_ = names.record_id(project_id, "project")
        project = lookups.read_one(
            self.client, Model.WORK, id_, ["status", "comment"], "project", [["type", "=", "project"]]
        )
        status_id = self._status(state)
        if project["status"] == status_id and mapping.last_state_comment(
            project["comment"]
        ) == mapping.state_comment_key(state, reason):
            return
        values: dict[str, Any] = {
            "status": status_id,
            "comment": mapping.append_line(project["comment"], mapping.state_comment(state, reason)),
        }
        if state is ProjectState.CLOSED:
            below = [
                r["id"]
                for r in lookups.search_read(
                    self.client, Model.WORK, [["parent", "child_of", [id_]], ["id", "!=", id_]], ["id"]
                )
            ]
            values["progress"] = 1.0
            # One write with (ids, values) pairs: Tryton validates progress after all of them.
            # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.write
            if below:
                self.client.call(
                    f"model.{Model.WORK}.write", below, {"progress": 1.0, "status": status_id}, [id_], values
                )
                return
        self.client.write(Model.WORK, [id_], values)

    def approved_time(self, project_id: str) -> list[ApprovedTime]:
        """Every approved timesheet line on the project or any work below it, by approval
        time (then id).

        Approval comes from Concord's `concord_sync` module (timesheet.line approval_state /
        approved_at; Tryton has none). billable: Tryton has no per-line flag; lines are
        billable when the project is invoiced on timesheets (project_invoice_method
        "timesheet").
        """
        id_ = names.record_id(project_id, "project")
        project = lookups.read_one(
            self.client, Model.WORK, id_, ["project_invoice_method"], "project", [["type", "=", "project"]]
        )
        works = lookups.search_read(
            self.client, Model.WORK, [["parent", "child_of", [id_]]], ["timesheet_works"], active_test=False
        )
        task_of = {tw: w["id"] for w in works for tw in w["timesheet_works"]}
        if not task_of:
            return []
        # https://docs.tryton.org/modules-timesheet/design.html#timesheet-line
        rows = lookups.search_read(
            self.client,
            Model.TIMESHEET_LINE,
            [["work", "in", sorted(task_of)], [names.APPROVAL_STATE, "=", names.APPROVED]],
            ["work", "employee", "date", "duration", names.APPROVED_AT],
            order=[(names.APPROVED_AT, "ASC"), ("id", "ASC")],
        )
        billable = project.get("project_invoice_method") == INVOICE_METHOD
        return [mapping.to_approved_time(r, id_, task_of[r["work"]], billable) for r in rows if r["duration"]]

    def approved_entries(self, record_id: str) -> list[ApprovedTime]:
        """The approved time of one timesheet line (a time_entry change): the line as the
        TimeApproved concord_sync's push announces for it (same fields and values), or
        nothing: not approved (yet), not on a project task, no such line, or not 0-24 hours
        (the push announces none of those). billable: the project is invoiced on timesheets."""
        id_ = names.record_id(record_id, "time entry")
        return self.approved_entries_of([str(id_)]).get(str(id_), [])

    def approved_entries_of(self, record_ids: Sequence[str]) -> dict[str, list[ApprovedTime]]:
        """approved_entries() of many lines: none read when the last poll read them all (change
        capture announcing its page), else one call for the lines; one more for the ancestors
        of tasks more than one level below their project. Lines holding no approved time, and
        ids that are no Tryton ids, are left out."""
        ids = sorted({int(record_id) for record_id in record_ids if record_id.isdigit()})
        if not ids:
            return {}
        rows = self.polled_rows(ids)
        if rows is None:
            rows = lookups.search_read(
                self.client,
                Model.TIMESHEET_LINE,
                [["id", "in", ids], [names.APPROVAL_STATE, "=", names.APPROVED]],
                LINE_FIELDS,
            )
        task_of = {line["id"]: task for line in rows if (task := _project_task(line)) is not None}
        project_of = {line["id"]: project for line in rows if (project := _project_read_with(line)) is not None}
        deeper = sorted({task for line_id, task in task_of.items() if line_id not in project_of})
        if deeper:
            # parent_of: each task and all its ancestors, in one search
            works = lookups.search_read(
                self.client,
                Model.WORK,
                [["parent", "parent_of", deeper]],
                ["parent", "project_invoice_method"],
                active_test=False,
            )
            parents = {work["id"]: work for work in works}
            for line_id, task in task_of.items():
                if line_id not in project_of and (root := _root(parents, task)) is not None:
                    project_of[line_id] = root
        entries: dict[str, list[ApprovedTime]] = {}
        for line in rows:
            if line["id"] not in task_of or (root := project_of.get(line["id"])) is None:
                continue
            billable = root.get("project_invoice_method", INVOICE_METHOD) == INVOICE_METHOD
            entries[str(line["id"])] = [mapping.to_approved_time(line, root["id"], task_of[line["id"]], billable)]
        return entries

    def rename_client(self, client_id: str, name: str) -> None:
        """Rename the client party (archived ones too); nothing is written when the name is
        already that. RecordNotFound when there is no such party."""
        party_id = names.record_id(client_id, "client")
        party = lookups.read_one(self.client, Model.PARTY, party_id, ["name"], "client")
        if party["name"] != name:
            self.client.write(Model.PARTY, [party_id], {"name": name})

    def set_billing_statuses(self, statuses: Mapping[str, FinancialStatus]) -> dict[str, ConcordError]:
        """Record each project's billing status as an ir.note on it ("Concord billing status:
        invoiced (set by Concord <time>)"), one call per batch (status_notes):
        project.work has no billing-status field (project_invoice only computes
        invoiced/to-invoice amounts from its own invoicing, which Concord does in the ERP).
        Idempotent like TrytonCrm.set_financial_statuses."""
        return status_notes.write_statuses(self.client, BILLING_STATUS, statuses)

    def billing_status(self, project_id: str) -> FinancialStatus | None:
        """The status of the newest "Concord billing status" note on the project (None: none)."""
        target = lookups.resource(Model.WORK, names.record_id(project_id, "project"))
        latest = lookups.latest_note(self.client, target, names.BILLING_STATUS_NOTE)
        return mapping.status_of_note(latest, names.BILLING_STATUS_NOTE)

    def project_budget(self, project_id: str) -> Money | None:
        """The project's planned revenue: project_revenue's `revenue` (effort x list price,
        summed over the project and its tasks) in the company's currency; Tryton has no
        budget field, and this is the amount the project was planned at."""
        id_ = names.record_id(project_id, "project")
        project = lookups.read_one(self.client, Model.WORK, id_, ["revenue"], "project", [["type", "=", "project"]])
        if project.get("revenue") is None:
            return None
        return Money(amount=Decimal(str(project["revenue"])), currency=lookups.company_currency(self.client))

    # -- helpers ---------------------------------------------------------------------------

    def _project_by_ref(self, external_ref: str) -> ProjectRecord | None:
        """The project whose concord_ref is `external_ref`, with its direct tasks by name."""
        # https://docs.tryton.org/modules-project/design.html#work
        rows = lookups.search_read(
            self.client,
            Model.WORK,
            [[CONCORD_REF, "=", external_ref], ["type", "=", "project"]],
            ["party"],
            order=[("id", "ASC")],
            active_test=False,
        )
        if not rows:
            return None
        if len(rows) > 1:
            raise names.AmbiguousMatch(
                f"{len(rows)} PSA projects have concord_ref {external_ref!r}: {[r['id'] for r in rows]}"
            )
        return mapping.to_project_record(rows[0], self._tasks(rows[0]["id"]))

    def _tasks(self, project_id: int) -> list[dict[str, Any]]:
        return lookups.search_read(
            self.client,
            Model.WORK,
            [["parent", "=", project_id]],
            ["name"],
            order=[("sequence", "ASC"), ("id", "ASC")],
            active_test=False,
        )

    def _client_party(self, customer_ref: str, customer_name: str) -> int:
        rows = lookups.search_read(
            self.client,
            Model.PARTY,
            [[CONCORD_REF, "=", customer_ref]],
            ["id"],
            order=[("id", "ASC")],
            limit=1,
            active_test=False,
        )
        if rows:
            return int(rows[0]["id"])
        try:
            (party_id,) = self.client.create(Model.PARTY, [{"name": customer_name, CONCORD_REF: customer_ref}])
        except TrytonPermanentError:
            # concord_ref is unique: a concurrent create of the same client won the race.
            rows = lookups.search_read(
                self.client, Model.PARTY, [[CONCORD_REF, "=", customer_ref]], ["id"], limit=1, active_test=False
            )
            if rows:
                return int(rows[0]["id"])
            raise
        return int(party_id)

    def _status(self, state: ProjectState) -> int:
        name = names.PROJECT_STATUS_NAMES[state]
        rows = lookups.search_read(
            self.client, Model.WORK_STATUS, [["name", "=", name]], ["id"], order=[("id", "ASC")], limit=1
        )
        if rows:
            return int(rows[0]["id"])
        if state is not ProjectState.ON_HOLD:
            raise ValidationFailed(f"PSA has no project status {name!r} (shipped by Tryton)")
        (status_id,) = self.client.create(Model.WORK_STATUS, [{"name": name, "types": ["project", "task"]}])
        logger.info("tryton psa created project status name=%r id=%s", name, status_id)
        return int(status_id)


def _project_task(line: Mapping[str, Any]) -> int | None:
    """The project task a timesheet line's time is on, when the push would announce the line:
    none for time on another kind of timesheet work, or not 0-24 hours."""
    origin = (line.get("work.") or {}).get("origin") or ""
    model, _, task = origin.partition(",")
    if model != Model.WORK or not task.isdigit():
        return None
    hours = mapping.timesheet_hours(line)
    return int(task) if 0 < hours <= mapping.MAX_ENTRY_HOURS else None


def _project_read_with(line: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The top of the work tree above a line's task when LINE_FIELDS reached it: the task itself
    (time on a project) or its parent; None for a task deeper down (or no task)."""
    task = (line.get("work.") or {}).get("origin.") or {}
    if not task.get("id"):
        return None
    if not task.get("parent"):
        return task
    parent = task.get("parent.") or {}
    return parent if parent.get("id") and not parent.get("parent") else None


def _root(works: Mapping[int, Mapping[str, Any]], work_id: int) -> Mapping[str, Any] | None:
    """The top of the work tree above `work_id` (its project), from works read with their parent."""
    work = works.get(work_id)
    while work is not None and work.get("parent"):
        work = works.get(work["parent"])
    return work
