"""Customer master data (CRM, the authority) → the ERP customer and the PSA client.

On AccountChanged, Concord reads the account from the CRM (the authority, not the event's
copy) and writes what differs into the ERP customer, field by field under the system-of-record
rules: a field the ERP owns (by default the tax id) is filled when empty and otherwise kept;
the refused value is reported as a conflict for a person. An event older than the newest
applied is ignored (version = occurred_at). An account without an ERP customer is not synced:
it becomes one at its first won deal (quote-to-cash).

Calls: a queue batch syncs each account once, for its newest change. The registry keeps a
snapshot of the CRM values last synced without conflict: a change whose account reads the same
(an echo, a redelivery, a change to a field Concord does not sync) costs one CRM read and
nothing else. A value a person changed in the ERP alone is put back at the account's next
change or by reconciliation, which compares the systems themselves.

Echo suppression: Concord's writes do not come back as changes (a connector whose system can
tell Concord's writes apart suppresses them; an echo otherwise finds nothing different and
writes nothing).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Hashable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from .. import catalog
from ..domain import Customer, CustomerUpdate, ErpCustomer
from ..errors import ValidationFailed
from ..events import Envelope
from ..events.envelope import AccountChangedEvent
from ..events.types import ErrorClass, RecordRef, Severity, System
from ..ownership import decide_fields
from .ids import canonical_id
from .lineage import record_lineage
from .newest import newest_change_per_record
from .reporting import sync_exception
from .systems import Systems

FLOW = catalog.CUSTOMER_MASTER.name
FIELDS = ("name", "billing_address", "tax_id", "currency")
# The registry's snapshot of the CRM values last synced (concord.stores.registry APPLIED#).
SNAPSHOT_KEY = "crm_values"


class CustomerSynced(BaseModel):
    model_config = ConfigDict(frozen=True)

    applied: bool
    detail: str
    written: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    exception_event_id: str | None = None


def _values(record: Customer | ErpCustomer) -> dict[str, Any]:
    return {field: getattr(record, field) for field in FIELDS}


def sync_customers(
    records: Sequence[tuple[Hashable, Envelope]], systems: Systems, now: dt.datetime
) -> dict[Hashable, CustomerSynced | Exception]:
    """A queue batch: each account is synced once, for its newest change (concord.sync.newest)."""
    return newest_change_per_record(
        records,
        takes=AccountChangedEvent,
        record_of=lambda event: event.data.account_id,
        sync_one=lambda event: sync_customer(event, systems, now),
        superseded=lambda newest: CustomerSynced(applied=False, detail=f"superseded by the newer change {newest.id}"),
        flow="customer master",
    )


def sync_customer(event: Envelope, systems: Systems, now: dt.datetime) -> CustomerSynced:
    """One change: the CRM's account is read; when its values are those last synced (the
    registry's snapshot), nothing else is read or written."""
    if not isinstance(event, AccountChangedEvent):
        raise ValidationFailed(f"customer master takes AccountChanged, not {event.type}")
    account_id = event.data.account_id
    customer_ref = canonical_id("customer", System.CRM, account_id)
    records = systems.xref.records_of("customer", customer_ref)
    if System.ERP not in records:
        return CustomerSynced(applied=False, detail="not an ERP customer yet: it becomes one at its first won deal")
    applied_at = systems.xref.applied_version("customer", customer_ref)
    if applied_at is not None and event.occurred_at < applied_at:
        return CustomerSynced(applied=False, detail=f"stale: a change of {applied_at.isoformat()} is already applied")

    account = systems.crm.get_customer(account_id)
    snapshot = _snapshot(account)
    if systems.xref.applied_value("customer", customer_ref, SNAPSHOT_KEY) == snapshot:
        synced = CustomerSynced(applied=False, detail="written: nothing (unchanged since last synced)")
    else:
        synced = sync_account(account_id, records[System.ERP], event, systems, now, account=account)
        if not synced.conflicts:  # a conflict is read again and reported at each change
            systems.xref.set_applied_value("customer", customer_ref, SNAPSHOT_KEY, snapshot)
    systems.xref.advance_version("customer", customer_ref, event.occurred_at, event.id)
    return synced


def _snapshot(account: Customer) -> str:
    """The CRM's values of the synced fields, as the registry keeps them."""
    return json.dumps(
        {
            field: value.model_dump(mode="json") if isinstance(value, BaseModel) else value
            for field, value in _values(account).items()
        },
        sort_keys=True,
    )


def sync_account(
    account_id: str, erp_id: str, cause: Envelope, systems: Systems, now: dt.datetime, account: Customer | None = None
) -> CustomerSynced:
    """Bring the ERP customer and PSA client in line with the CRM account (the authority; read
    unless given), field by field under the system-of-record rules, comparing with the ERP's
    current values (read); `cause` is the event that asked."""
    customer_ref = canonical_id("customer", System.CRM, account_id)
    account = account or systems.crm.get_customer(account_id)
    current = systems.erp.get_customer(erp_id)
    decision = decide_fields(systems.ownership, "customer", System.CRM, _values(account), _values(current))
    if decision.write:
        systems.erp.update_customer(erp_id, CustomerUpdate(**decision.write))
        record_lineage(
            systems, "customer", customer_ref, cause, System.ERP, erp_id, "updated " + ", ".join(sorted(decision.write))
        )
    client_id = systems.xref.records_of("customer", customer_ref).get(System.PSA)
    # A PSA whose clients are the CRM's accounts already shows the CRM's name.
    if "name" in decision.write and client_id and not systems.psa.capabilities.clients_are_crm_accounts:
        systems.psa.rename_client(client_id, account.name)
        record_lineage(systems, "customer", customer_ref, cause, System.PSA, client_id, "client renamed")
    exception_id = None
    if decision.conflicts:
        exception = sync_exception(
            cause,
            flow=FLOW,
            step="UpdateErpCustomer",
            error_class=ErrorClass.CONFLICT,
            severity=Severity.HIGH,
            reason="; ".join(
                f"{field} is owned by the {systems.ownership.owner('customer', field).value.upper()}: "
                f"it holds {held!r}, the CRM's {refused!r} was not applied"
                for field, (held, refused) in sorted(decision.conflicts.items())
            ),
            records=[
                RecordRef(system=System.CRM, record_type="customer", record_id=account_id),
                RecordRef(system=System.ERP, record_type="customer", record_id=erp_id),
            ],
            now=now,
        )
        systems.bus.publish([exception])
        exception_id = exception.id
    return CustomerSynced(
        applied=bool(decision.write),
        detail="written: " + (", ".join(sorted(decision.write)) or "nothing (already in sync)"),
        written=tuple(sorted(decision.write)),
        conflicts=tuple(sorted(decision.conflicts)),
        exception_event_id=exception_id,
    )
