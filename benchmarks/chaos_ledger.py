"""The chaos campaign's accounts: what it injected, and what became of each item (applied,
parked with its reason, in flight, lost, duplicated), read from the stack's audit trail, DLQs,
sagas and Tryton's records. Used by chaos_campaign.py."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from concord.aws.sagas import REDRIVE_SEPARATOR
from concord.catalog import AUDIT_TRAIL, BILLING, DLQ_SUFFIX, QUOTE_TO_CASH
from concord.local.consistency import SystemsView
from concord.local.inspect import LocalView
from concord.local.sagas import machine_arn
from concord.local.stack import STACK_NAME
from concord.operator.queues import peek_messages, queue_ref
from concord.sync.ids import canonical_id

AUDIT_DLQ = AUDIT_TRAIL.physical_name(STACK_NAME) + DLQ_SUFFIX
BILLING_DLQ = BILLING.physical_name(STACK_NAME) + DLQ_SUFFIX
DLQS = (AUDIT_DLQ, QUOTE_TO_CASH.physical_name(STACK_NAME) + DLQ_SUFFIX, BILLING_DLQ)


@dataclass
class WebhookFact:
    key: str  # account_id|name: how the fact is recognised in the audit trail
    account_id: str
    name: str
    occurred_at: dt.datetime
    delivery_id: str
    event_ids: list[str] = field(default_factory=list)  # from each 202
    statuses: list[int | str] = field(default_factory=list)
    pair: str | None = None  # "newer" / "older" for out-of-order pairs
    retried: list[str] = field(default_factory=list)  # answers the sender retried on (5xx, no answer)


@dataclass
class Deal:
    opportunity_id: str
    account_id: int


@dataclass
class Approval:
    time_entry_id: str
    project_ref: str


@dataclass
class Injected:
    """Everything a campaign put into the stack, so that each item can be accounted for."""

    facts: list[WebhookFact] = field(default_factory=list)
    poison_ids: list[str] = field(default_factory=list)
    deals: list[Deal] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)


@dataclass
class Ledger:
    applied: int = 0
    parked: int = 0  # in a DLQ / failed saga with its reason (fixable)
    parked_poison: int = 0  # poison, parked with its reason: expected
    in_flight: int = 0
    unreported: int = 0  # a failed saga without its SyncExceptionRaised
    lost: int = 0
    duplicated: int = 0
    inconsistent: int = 0  # a deal applied once whose systems disagree (status, tasks)
    details: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))

    final: bool = False  # after the redrive: whatever is not applied (or poison parked) is lost

    def note(self, category: str, **item: Any) -> None:
        if self.final and category in ("parked", "in_flight", "unreported"):
            category, item = "lost", {**item, "state": category}
        setattr(self, category, getattr(self, category) + 1)
        self.details[category].append(item)

    def counts(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("details", "final")}

    def as_json(self) -> dict[str, Any]:
        return {**self.counts(), "details": {k: v for k, v in self.details.items() if k not in ("applied",)}}


class Accountant:
    """Reads the outcome of each injected item from the stack."""

    def __init__(self, view: LocalView, sfn: Any, tryton: SystemsView) -> None:
        self.view, self.sfn, self.tryton = view, sfn, tryton
        self._described: dict[str, dict[str, Any]] = {}  # finished executions are described once

    def _billed_lines(self, approvals: list[Approval]) -> Counter[str]:
        """How many ERP invoice lines each approved time entry has (by Concord's line id)."""
        refs = [f"time:{a.time_entry_id}" for a in approvals]
        rows = self.tryton.erp.client.search_read(
            "account.invoice.line", [["concord_ref", "in", refs]], ["concord_ref"]
        )
        return Counter(row["concord_ref"].removeprefix("time:") for row in rows)

    def executions_by_opportunity(self) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for page in self.sfn.get_paginator("list_executions").paginate(stateMachineArn=machine_arn(self.sfn)):
            for execution in page["executions"]:
                arn = execution["executionArn"]
                described = self._described.get(arn)
                if described is None or described["status"] == "RUNNING":
                    described = self.sfn.describe_execution(executionArn=arn)
                    self._described[arn] = described
                found[json.loads(described["input"])["event"]["data"]["opportunity_id"]].append(described)
        return {k: sorted(v, key=lambda e: e["startDate"]) for k, v in found.items()}

    def _dlq_contents(self) -> dict[str, dict[str, Any]]:
        """event id -> {queue, message id, reasons}; every message of the stack's DLQs."""
        parked: dict[str, dict[str, Any]] = {}
        for name in DLQS:
            for message in peek_messages(self.view.sqs, queue_ref(self.view.sqs, name)):
                event_id = message.event_id
                if event_id is None:
                    continue
                failures = self.view.audit.failures_of(message.message_id)
                data = (message.event or {}).get("data")
                parked[event_id] = {
                    "queue": name,
                    "message_id": message.message_id,
                    "event_type": message.event_type,
                    "event_id": event_id,
                    "opportunity_id": str(data.get("opportunity_id")) if isinstance(data, dict) else None,
                    "time_entry_id": str(data.get("time_entry_id")) if isinstance(data, dict) else None,
                    "reasons": sorted({f"{f.error_class.value}: {f.reason[:160]}" for f in failures}),
                    "attempts": len(failures),
                }
        return parked

    def _records_of_deal(self, deal: Deal) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        parties = self.tryton.erp.client.search_read(
            "party.party",
            [
                ["concord_ref", "=", canonical_id("customer", "crm", str(deal.account_id))],
                ["active", "in", [True, False]],
            ],
            ["id", "active"],
        )
        projects = self.tryton.psa.client.search_read(
            "project.work",
            [["concord_ref", "=", canonical_id("project", "crm", deal.opportunity_id)]],
            ["id", "status.name"],
        )
        return parties, projects

    def ledger(self, injected: Injected, after_redrive: bool = False) -> Ledger:
        ledger = Ledger(final=after_redrive)
        dlq = self._dlq_contents()

        # webhook facts: one audit-trail record per fact (found by its content, not its id)
        recorded = Counter()
        recorded_ids: dict[str, set[str]] = defaultdict(set)
        for item in self.view.audit_events_of_type("AccountChanged"):
            data = item.data
            key = f"{data.get('account_id')}|{data.get('name')}"
            recorded[key] += 1
            recorded_ids[key].add(item.event_id)
        for fact in injected.facts:
            ids = set(fact.event_ids)
            base = {
                "fact": fact.key,
                "delivery_id": fact.delivery_id,
                "event_ids": sorted(ids),
                "answers": [str(s) for s in fact.statuses],
            }
            if recorded[fact.key] > 1 or len(ids) > 1:
                ledger.note("duplicated", kind="webhook", records=recorded[fact.key], **base)
            elif recorded[fact.key] == 1:
                ledger.note("applied", kind="webhook", **base)
            elif ids and next(iter(ids)) in dlq:
                ledger.note("parked", kind="webhook", **base, **dlq[next(iter(ids))])
            elif not after_redrive and ids:
                ledger.note("in_flight", kind="webhook", **base)
            else:
                ledger.note("lost", kind="webhook", **base)

        # poison: parked in the audit-trail DLQ with the reason of each failed attempt
        for event_id in injected.poison_ids:
            if self.view.audit.event(event_id) is not None:
                ledger.note("duplicated", kind="poison", event_id=event_id, why="a malformed event was recorded")
            elif event_id in dlq and dlq[event_id]["reasons"]:
                ledger.note("parked_poison", kind="poison", **dlq[event_id])
            elif not after_redrive:
                ledger.note("in_flight", kind="poison", event_id=event_id)
            else:
                ledger.note("lost", kind="poison", event_id=event_id)

        # approvals: one ERP invoice line per approved time entry; or its TimeApproved parked with a reason
        billed = self._billed_lines(injected.approvals) if injected.approvals else Counter()
        parked_time = {v["time_entry_id"]: v for v in dlq.values() if v["queue"] == BILLING_DLQ}
        # whether its TimeApproved ever reached the bus: tells a lost push from a lost billing
        time_approved = self.view.audit_events_of_type("TimeApproved")
        announced = Counter(str(item.data.get("time_entry_id")) for item in time_approved)
        for approval in injected.approvals:
            base = {
                "kind": "approval",
                "time_entry": approval.time_entry_id,
                "lines": billed[approval.time_entry_id],
                "announced": announced[approval.time_entry_id],
            }
            if billed[approval.time_entry_id] > 1:
                ledger.note("duplicated", **base)
            elif billed[approval.time_entry_id] == 1:
                ledger.note("applied", **base)
            elif approval.time_entry_id in parked_time:
                ledger.note("parked", **base, **parked_time[approval.time_entry_id])
            elif not after_redrive:
                ledger.note("in_flight", **base, why="not billed yet (push lost? the poller will find it)")
            else:
                ledger.note("lost", **base)

        # deals: one SUCCEEDED saga, one ERP customer, one PSA project; or a failed saga + its exception
        runs = self.executions_by_opportunity()
        exceptions: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for item in self.view.audit_events_of_type("SyncExceptionRaised"):
            exceptions[item.data.get("caused_by_event_id")].append(item.data)
        for deal in injected.deals:
            executions = runs.get(deal.opportunity_id, [])
            statuses = [e["status"] for e in executions]
            parties, projects = self._records_of_deal(deal)
            base = {
                "kind": "deal",
                "opportunity": deal.opportunity_id,
                "executions": statuses,
                "erp_customers": len(parties),
                "psa_projects": len(projects),
            }
            succeeded = statuses.count("SUCCEEDED")
            if succeeded > 1 or len(parties) > 1 or len(projects) > 1:
                ledger.note("duplicated", **base)
            elif succeeded == 1 and len(parties) == 1 and len(projects) == 1:
                rows = self.tryton.deal(deal.opportunity_id)
                if all(row.agree for row in rows):
                    ledger.note("applied", **base)
                else:
                    ledger.note("inconsistent", **base, rows=[asdict(r) for r in rows if not r.agree])
            elif "RUNNING" in statuses:
                ledger.note("in_flight", **base)
            elif executions:
                trigger = json.loads(executions[-1]["input"])["event"]["id"]
                raised = exceptions.get(trigger.split(REDRIVE_SEPARATOR)[0], [])
                if raised:
                    last = raised[-1]
                    ledger.note(
                        "parked",
                        **base,
                        step=last.get("step"),
                        error_class=last.get("error_class"),
                        reason=str(last.get("reason"))[:300],
                    )
                else:
                    ledger.note("unreported", **base, why="failed saga without SyncExceptionRaised (yet)")
            else:
                # a trigger parked before any saga started sits in the quote-to-cash start DLQ
                in_dlq = [
                    v
                    for v in dlq.values()
                    if v["queue"] == QUOTE_TO_CASH.physical_name(STACK_NAME) + DLQ_SUFFIX
                    and v.get("opportunity_id") == deal.opportunity_id
                ]
                if in_dlq:
                    ledger.note("parked", **base, **in_dlq[0])
                elif not after_redrive:
                    ledger.note("in_flight", **base, why="no saga yet (push lost? the poller will find it)")
                else:
                    ledger.note("lost", **base)
        return ledger


def print_ledger(results: dict[str, Any], out: Any = print) -> None:
    columns = ["applied", "parked", "parked_poison", "in_flight", "unreported", "lost", "duplicated", "inconsistent"]
    out(f"{'ledger':16}" + "".join(f"{c:>14}" for c in columns))
    for name in ("before_redrive", "after_redrive"):
        out(f"{name:16}" + "".join(f"{results[name][c]:>14}" for c in columns))
