"""Tryton names Concord uses (models, fields, buttons, notes), Tryton ids and times, and the
connector's own errors: what crm.py, psa.py, the erp package, lookups.py and mapping.py share.

Tryton documentation: https://docs.tryton.org/server/ (server, domains, RPC) and
https://docs.tryton.org/modules-<module>/ (e.g. modules-party, modules-account-invoice).
"""

from __future__ import annotations

import datetime as dt

from concord.domain import ProjectState
from concord.errors import PermanentError

from ...clock import utc_now

# --------------------------------------------------------------------------------------------
# Tryton names


class Model:
    """Tryton models (`__name__`) the connectors read and write."""

    PARTY = "party.party"
    ADDRESS = "party.address"
    IDENTIFIER = "party.identifier"
    CONTACT_MECHANISM = "party.contact_mechanism"
    COUNTRY = "country.country"
    SUBDIVISION = "country.subdivision"
    COMPANY = "company.company"
    CURRENCY = "currency.currency"
    PRODUCT = "product.product"
    TEMPLATE = "product.template"
    UOM = "product.uom"
    NOTE = "ir.note"
    STATUS_NOTES = "concord.status_notes"  # concord_sync: status notes for many records in one call
    MODEL_FIELD = "ir.model.field"
    # crm
    OPPORTUNITY = "sale.opportunity"
    OPPORTUNITY_LINE = "sale.opportunity.line"
    SALE_LINE = "sale.line"
    # psa
    WORK = "project.work"
    WORK_STATUS = "project.work.status"
    TIMESHEET_LINE = "timesheet.line"
    # erp
    INVOICE = "account.invoice"
    INVOICE_LINE = "account.invoice.line"
    PAYMENT_TERM = "account.invoice.payment_term"
    JOURNAL = "account.journal"
    ACCOUNT_CONFIGURATION = "account.configuration"
    MOVE_LINE = "account.move.line"
    TAX = "account.tax"
    # erp, added by concord_sync: what the ERP keeps of a project (see project_terms.py there)
    PROJECT_TERMS = "concord.project.terms"
    PROJECT_MILESTONE = "concord.project.milestone"
    PROJECT_FORECAST_LINE = "concord.project.forecast_line"


class Button:
    """Workflow buttons, called as `model.<model>.<button>` with the record ids."""

    INVOICE_POST = "post"  # account.invoice: draft/validated -> posted (numbers it, books the move)


# Added by Concord's own Tryton module `concord_sync` to party.party, project.work,
# account.invoice, account.invoice.line and sale.opportunity: Concord's canonical id of the
# record (unique where set).
CONCORD_REF = "concord_ref"
# Added by `concord_sync` to account.invoice.line: the ERP's id of the line's cost centre.
COST_CENTRE = "concord_cost_centre"
# Added by `concord_sync` to timesheet.line: Tryton itself has no timesheet approval.
APPROVAL_STATE = "approval_state"
APPROVED = "approved"
APPROVED_AT = "approved_at"

# Polling column: ModelSQL.last_modified_at is COALESCE(write_date, create_date), searchable
# and sortable. write_date alone is NULL until a record's first write for most models
# (measured: sale.opportunity, project.work), so polling write_date would miss new records.
MODIFIED_AT = "last_modified_at"

# project.work.status records standing for Concord's project states. "Open" (the default) and
# "Done" ship with the project module; Tryton has no on-hold status, so the connector creates
# "On Hold" the first time it is needed (see TrytonPsa.set_project_state).
PROJECT_STATUS_NAMES: dict[ProjectState, str] = {
    ProjectState.ACTIVE: "Open",
    ProjectState.ON_HOLD: "On Hold",
    ProjectState.CLOSED: "Done",
}

# Prefixes of the ir.note messages Concord attaches to records for facts Tryton has no field for.
FINANCIAL_STATUS_NOTE = "Concord financial status: "
BILLING_STATUS_NOTE = "Concord billing status: "
DEACTIVATION_NOTE = "Concord deactivated this customer: "
STATE_COMMENT = "Concord: project "


# --------------------------------------------------------------------------------------------
# Errors


class RecordNotFound(PermanentError):
    """The Tryton record named by an id (or a reference) does not exist."""


class AmbiguousMatch(PermanentError):
    """More than one Tryton record matches where Concord needs exactly one."""


def not_found(what: str, record_id: object, database: str) -> RecordNotFound:
    return RecordNotFound(f"no {what} {record_id!r} in Tryton database {database!r}")


def record_id(value: str, what: str) -> int:
    """A Concord RecordId of a Tryton record as Tryton's integer id."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise RecordNotFound(f"{what} id {value!r} is not a Tryton id") from None
    if number <= 0:
        raise RecordNotFound(f"{what} id {value!r} is not a Tryton id")
    return number


# --------------------------------------------------------------------------------------------
# Time


def to_tryton_datetime(value: dt.datetime) -> dt.datetime:
    """Naive UTC, as Tryton stores and compares timestamps (a naive value is taken as UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def from_tryton_datetime(value: dt.datetime) -> dt.datetime:
    """Tryton's naive UTC timestamp as an aware UTC datetime."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def stamp(moment: dt.datetime | None = None) -> str:
    """A short UTC time stamp for notes and comments, e.g. 2025-04-03T09:00Z."""
    return (moment or utc_now()).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
