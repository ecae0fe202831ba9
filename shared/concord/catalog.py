"""The catalog of Concord's flows and of the quote-to-cash saga: the one place a flow is named.

Infra builds each flow's rule, queue, DLQ, alarms, event source mapping or schedule, and the
saga's state machine from it; the sync code reports exceptions under these names; operator
commands read a queue's flow and severity here. Every other name derives from a flow's `name`
by one rule:

  function folder        functions/<name>/            (a saga step: functions/<saga>_<step>/)
  physical name          <prefix>-<name with hyphens>  (function, queue, schedule, state machine)
  dead-letter queue      <physical name>-dlq

`python -m concord.catalog --markdown` prints the flow table of docs/sync-flows.md.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .events.types import Severity, System
from .naming import DLQ_SUFFIX, hyphenated
from .sync.saga import RETRYABLE_ERRORS, SagaStepInProgress

INGRESS = "webhook_ingest"  # the webhook front door's function folder: the ingress, not a flow
# Messages per delivery of the flows that batch their calls to a vendor: the batch limit of one
# vendor call (100 lines or statuses for Tryton, Business Central, Dynamics and HubSpot; a
# connector with a smaller one splits), gathered for a moment (the window) rather than Lambda's
# default of 10 at once. The window is what a record may wait at a low rate; a full batch
# goes at once.
VENDOR_BATCH = 100
# Every producer of canonical events on the bus (`concord.<system>`).
CANONICAL_SOURCES = tuple(f"concord.{system.value}" for system in System)
# What polling and enrichment announce, by record type (concord.sync.change_capture.watch_for).
ANNOUNCED = {
    "opportunity": "OpportunityClosedWon",
    "customer": "AccountChanged",
    "time_entry": "TimeApproved",
    "invoice": "InvoicePosted",
    "payment": "PaymentReceived",
    "service_item": "ServiceItemChanged",
}
ALL_SYSTEMS = (System.CRM.value, System.PSA.value, System.ERP.value)


@dataclass(frozen=True)
class Access:
    """What a function does with the systems (concord.sync): whose secrets it reads, which
    canonical events it publishes. Its role may do nothing else."""

    systems: tuple[str, ...] = ()
    publishes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Events:
    """Triggered by canonical events on the bus (through a queue): `detail_types` empty = all."""

    sources: tuple[str, ...]
    detail_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Schedule:
    """Run on a schedule (the period is the stage's); `missed_means` says what a failed run costs."""

    missed_means: str


@dataclass(frozen=True)
class Flow:
    name: str  # the one name: function folder, exception `flow`, Powertools service
    description: str
    trigger: Events | Schedule
    # Business severity of a parked message or failed run: unbilled work and unrecorded payments cost cash.
    severity: Severity
    access: Access = Access()
    timeout_seconds: int = 30
    batch_size: int = 10
    batching_window_seconds: int = 0

    def __post_init__(self) -> None:
        # Lambda's SQS event source mapping takes more than 10 messages only with a window.
        if self.batch_size > 10 and not self.batching_window_seconds:
            raise ValueError(f"flow {self.name}: a batch of {self.batch_size} needs a batching window")

    @property
    def folder(self) -> str:
        return self.name

    @property
    def short_name(self) -> str:
        """The physical name without the stage prefix: `financial-status`."""
        return hyphenated(self.name)

    def physical_name(self, prefix: str) -> str:
        return f"{prefix}-{self.short_name}"

    @property
    def label(self) -> str:
        """How people say it: `financial status`."""
        return self.name.replace("_", " ")


@dataclass(frozen=True)
class Retry:
    """A Retry of every saga Task. Interval and attempts left unset are the stage's
    (saga_retry_interval_seconds, saga_retry_attempts)."""

    errors: tuple[str, ...]
    backoff_rate: float
    full_jitter: bool
    max_attempts: int | None = None
    wait_out_function_timeout: bool = False  # the interval is the step function's timeout


# Transient errors: exponential back-off with full jitter.
RETRY_TRANSIENT = Retry(errors=tuple(RETRYABLE_ERRORS), backoff_rate=2, full_jitter=True)
# A crashed or timed-out attempt leaves its idempotency record in progress until the function's
# timeout has passed: wait that out, then try again.
RETRY_IN_PROGRESS = Retry(
    errors=(SagaStepInProgress.__name__,),
    backoff_rate=1,
    full_jitter=False,
    max_attempts=2,
    wait_out_function_timeout=True,
)


@dataclass(frozen=True)
class Step:
    name: str  # its function folder is `<saga>_<name>`
    state: str  # the state machine's state (and the step's idempotency key)
    result: str  # the SagaState field its result goes in
    description: str
    access: Access = Access()
    retries: tuple[Retry, ...] = (RETRY_TRANSIENT, RETRY_IN_PROGRESS)
    timeout_seconds: int = 30


@dataclass(frozen=True)
class Saga:
    """Runs `steps` in order. Any error a step's retries do not absorb is caught: the failed
    step's state name is noted in `failed_step`, then `compensation` runs, then `raise_exception`
    reports it (SyncExceptionRaised) and the execution fails. A failed compensation still
    reports; a failed report fails the execution (its alarm is the report)."""

    flow: Flow
    steps: tuple[Step, ...]
    compensation: Step
    raise_exception: Step
    failed_step_field: str = "failed_step"
    error_field: str = "error"

    @property
    def all_steps(self) -> tuple[Step, ...]:
        return (*self.steps, self.compensation, self.raise_exception)

    def folder(self, step: Step) -> str:
        return f"{self.flow.name}_{step.name}"

    def step(self, name: str) -> Step:
        return next(step for step in self.all_steps if step.name == name)

    def physical_name(self, prefix: str) -> str:
        """The state machine's name."""
        return self.flow.physical_name(prefix)


AUDIT_TRAIL = Flow(
    "audit_trail",
    "Records every canonical event in the sync audit trail",
    Events(sources=CANONICAL_SOURCES),
    Severity.WARNING,
)
QUOTE_TO_CASH = Flow(
    "quote_to_cash",
    "Starts the quote-to-cash saga for each OpportunityClosedWon",
    Events(sources=("concord.crm",), detail_types=("OpportunityClosedWon",)),
    # A saga that fails delays a project (and so billing): warning, as its exceptions are.
    Severity.WARNING,
)
BILLING = Flow(
    "billing",
    "Approved time and expenses → lines on the project's ERP draft invoice, in batches",
    Events(sources=("concord.psa",), detail_types=("TimeApproved", "ExpenseApproved")),
    Severity.HIGH,
    Access(systems=("erp",)),
    timeout_seconds=60,
    # Lines are sent to the ERP per call in batches: gather a vendor batch. Billing waits
    # longest: nobody waits for a draft invoice line, and a fuller batch is one call less
    # (3 s fill a batch of 100 at 34 approvals a second: docs/decisions.md).
    batch_size=VENDOR_BATCH,
    batching_window_seconds=3,
)
FINANCIAL_STATUS = Flow(
    "financial_status",
    "Invoice and payment status (ERP) → deal status (CRM) and billing status (PSA)",
    Events(sources=("concord.erp",), detail_types=("InvoicePosted", "PaymentReceived")),
    Severity.HIGH,
    Access(systems=("crm", "psa")),
    # One status write per system per batch, for the projects whose status changed.
    batch_size=VENDOR_BATCH,
    batching_window_seconds=1,
)
CUSTOMER_MASTER = Flow(
    "customer_master",
    "Account changes (CRM) → ERP customer and PSA client, under the system-of-record rules",
    Events(sources=("concord.crm",), detail_types=("AccountChanged",)),
    Severity.WARNING,
    Access(systems=ALL_SYSTEMS, publishes=("SyncExceptionRaised",)),
    # Each account once per batch (its newest change).
    batch_size=VENDOR_BATCH,
    batching_window_seconds=1,
)
CONTACT_MASTER = Flow(
    "contact_master",
    "Contact changes (CRM) → the ERP customer's and PSA client's contacts, under the system-of-record rules",
    Events(sources=("concord.crm",), detail_types=("ContactChanged",)),
    Severity.WARNING,
    Access(systems=ALL_SYSTEMS, publishes=("SyncExceptionRaised",)),
    # Each contact once per batch (its newest change).
    batch_size=VENDOR_BATCH,
    batching_window_seconds=1,
)
ENRICHMENT = Flow(
    "enrichment",
    "Records a system named without their content (ChangeNotified, Salesforce change events) → business events",
    Events(sources=("concord.concord",), detail_types=("ChangeNotified",)),
    Severity.WARNING,
    # A notice may name any system's records; what it becomes is what polling announces (a notice
    # without ids is change capture's delta read, which reports a change no event can be made of).
    Access(systems=ALL_SYSTEMS, publishes=(*ANNOUNCED.values(), "SyncExceptionRaised")),
    timeout_seconds=60,
)
PROJECT_TERMS = Flow(
    "project_terms",
    "Staffing and contract changes (PSA) → ERP cost forecast and contract terms",
    Events(sources=("concord.psa",), detail_types=("StaffingChanged", "ContractChanged")),
    Severity.WARNING,
    Access(systems=("erp",), publishes=("SyncExceptionRaised",)),
    # Each project once per batch (its newest staffing and contract change).
    batch_size=VENDOR_BATCH,
    batching_window_seconds=1,
)
SERVICE_ITEMS = Flow(
    "service_items",
    "Service items (their system of record, usually the ERP) → the CRM's and PSA's catalogues",
    Events(sources=("concord.erp",), detail_types=("ServiceItemChanged",)),
    # A missing catalogue entry holds up quoting and staffing that item, not cash.
    Severity.WARNING,
    Access(systems=("crm", "psa")),
)
CHANGE_CAPTURE = Flow(
    "change_capture",
    "Polls the systems for changes push missed and announces them",
    Schedule(missed_means="webhook gaps stay open"),
    Severity.WARNING,
    # At most: infra grants only the watched systems and the events their watches announce, and
    # the exception it raises for a change no event can be made of (sync.change_capture.capture).
    Access(systems=ALL_SYSTEMS, publishes=(*ANNOUNCED.values(), "SyncExceptionRaised")),
    timeout_seconds=60,
)
RECONCILIATION = Flow(
    "reconciliation",
    "Compares CRM, PSA and ERP through the cross-reference registry; publishes DriftDetected",
    Schedule(missed_means="drift goes unseen until the next run"),
    Severity.WARNING,
    # Compares all three systems; publishes what differs (repairs write through the systems).
    Access(systems=ALL_SYSTEMS, publishes=("DriftDetected",)),
    timeout_seconds=600,
)
SUBSCRIPTION_RENEWAL = Flow(
    "subscription_renewal",
    "Keeps the ERP's Business Central webhook subscriptions alive (created if missing, renewed before 3-day expiry)",
    Schedule(missed_means="Business Central stops notifying 3 days after the last renewal: only polling finds changes"),
    Severity.WARNING,
    # The ERP connection's secret only (it holds the subscription settings); publishes nothing.
    Access(systems=("erp",)),
    timeout_seconds=60,
)

# The consumers that work with the systems per event (infra's SyncFlows), in this order.
SYNC_FLOWS = (BILLING, FINANCIAL_STATUS, CUSTOMER_MASTER, ENRICHMENT, PROJECT_TERMS, SERVICE_ITEMS, CONTACT_MASTER)
FLOWS = (AUDIT_TRAIL, QUOTE_TO_CASH, *SYNC_FLOWS, CHANGE_CAPTURE, RECONCILIATION, SUBSCRIPTION_RENEWAL)

SAGA = Saga(
    QUOTE_TO_CASH,
    steps=(
        Step(
            "validate_customer",
            "ValidateCustomer",
            "validation",
            "Quote-to-cash step ValidateCustomer",
            Access(systems=("crm", "erp")),
        ),
        Step(
            "upsert_erp_customer",
            "UpsertErpCustomer",
            "erp_customer",
            "Quote-to-cash step UpsertErpCustomer",
            Access(systems=("erp",)),
        ),
        Step(
            "create_psa_project",
            "CreatePsaProject",
            "project",
            "Quote-to-cash step CreatePsaProject",
            Access(systems=("psa",)),
        ),
        Step(
            "assign_billing_terms",
            "AssignBillingTerms",
            "billing_terms",
            "Quote-to-cash step AssignBillingTerms",
            Access(systems=("erp",)),
        ),
        Step(
            "map_revenue_schedule",
            "MapRevenueSchedule",
            "revenue_schedule",
            "Quote-to-cash step MapRevenueSchedule",
            Access(systems=("erp",)),
        ),
        Step(
            "publish_project_activated",
            "PublishProjectActivated",
            "activated",
            "Quote-to-cash step PublishProjectActivated",
            Access(publishes=("ProjectActivated",)),
        ),
    ),
    compensation=Step(
        "compensate",
        "Compensate",
        "compensation",
        "Quote-to-cash: undo or mark what the saga created",
        Access(systems=("psa", "erp")),
    ),
    raise_exception=Step(
        "raise_exception",
        "RaiseSyncException",
        "exception",
        "Quote-to-cash: publish SyncExceptionRaised",
        Access(publishes=("SyncExceptionRaised",)),
    ),
)

_BY_NAME = {flow.name: flow for flow in FLOWS}
_BY_SHORT_NAME = {flow.short_name: flow for flow in FLOWS}


def flow(name: str) -> Flow:
    """The flow of that name; KeyError for any other."""
    return _BY_NAME[name]


def flow_of_queue(queue_short_name: str) -> Flow | None:
    """The flow behind a queue or DLQ named without the stage prefix (`billing`, `billing-dlq`,
    `change-capture-dlq`: a schedule's DLQ), or None for a queue no flow owns."""
    return _BY_SHORT_NAME.get(queue_short_name.removesuffix(DLQ_SUFFIX))


def severity_of(queue_short_name: str, default: Severity = Severity.WARNING) -> Severity:
    """The business severity of a queue's DLQ alarm (`default` for a queue no flow owns)."""
    owner = flow_of_queue(queue_short_name)
    return owner.severity if owner else default


def function_folders() -> dict[str, Flow | Step | None]:
    """Every folder under functions/ and what it runs: a flow, a saga step, or the ingress (None)."""
    folders: dict[str, Flow | Step | None] = {flow.folder: flow for flow in FLOWS}
    folders.update({SAGA.folder(step): step for step in SAGA.all_steps})
    folders[INGRESS] = None
    return folders


def _trigger_cell(flow: Flow) -> str:
    trigger = flow.trigger
    if isinstance(trigger, Schedule):
        return "schedule"
    events = ", ".join(trigger.detail_types) or "every canonical event"
    systems = ", ".join(source.removeprefix("concord.").upper() for source in trigger.sources)
    return f"{events} ({systems})"


def markdown_table() -> str:
    """The flow table of docs/sync-flows.md."""
    rows = ["| flow | trigger | what it does | severity of a parked message |", "|---|---|---|---|"]
    rows += [f"| `{f.name}` | {_trigger_cell(f)} | {f.description} | {f.severity.value} |" for f in FLOWS]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    if sys.argv[1:] != ["--markdown"]:
        sys.exit("usage: python -m concord.catalog --markdown")
    sys.stdout.write(markdown_table())
