"""Tryton names, and the mappers between Tryton records and Concord's domain records.

One place for what the three Tryton connectors (crm.py, psa.py, erp.py) share:

- the Tryton model, field and button names they use (`Model`, `Button`, `CONCORD_REF`...);
- mappers named by direction: `to_<concord thing>(tryton row...)` reads, and
  `to_tryton_<thing>_values(concord record...)` builds the values of a create or write;
- change polling (`poll_changes`): Tryton has no change feed, so every connector polls
  `last_modified_at` (= COALESCE(write_date, create_date); see `poll_changes`);
- the few look-ups every connector needs (`search_read` with a context, `product_by_code`...).

Rows are what `TrytonRpcClient.search_read` returns: dicts keyed by field name, dotted fields
as nested dicts (`{"country.": {"code": "US"}}`), Decimal/date/datetime already decoded,
datetimes naive and in UTC (the local server runs with TZ=UTC; see docs/tryton.md).

Tryton documentation: https://docs.tryton.org/server/ (server, domains, RPC) and
https://docs.tryton.org/modules-<module>/ (e.g. modules-party, modules-account-invoice).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from concord.domain import (
    ChangeCursor,
    Customer,
    ErpCustomer,
    FinancialStatus,
    InvoiceDraft,
    InvoiceLine,
    InvoiceRecord,
    Opportunity,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    RecordChange,
)
from concord.errors import PermanentError, ValidationFailed
from concord.events.payloads import (
    InvoicePosted,
    OpportunityLine,
    PaymentReceived,
    TimeApproved,
)
from concord.events.types import Address, Money

from .rpc import TrytonRpcClient

Row = dict[str, Any]
_M = TypeVar("_M", bound=BaseModel)

# --------------------------------------------------------------------------------------------
# Tryton names


class Model:
    """Tryton models (`__name__`) the connectors read and write."""

    PARTY = "party.party"
    ADDRESS = "party.address"
    IDENTIFIER = "party.identifier"
    COUNTRY = "country.country"
    SUBDIVISION = "country.subdivision"
    COMPANY = "company.company"
    CURRENCY = "currency.currency"
    PRODUCT = "product.product"
    NOTE = "ir.note"
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


def _validated(build: type[_M], what: str, **values: Any) -> _M:
    """Build a canonical model; Tryton data that does not fit it is a ValidationFailed."""
    try:
        return build(**values)
    except ValidationError as exc:
        raise ValidationFailed(f"Tryton {what} does not map to {build.__name__}: {exc}") from exc


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


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def stamp(moment: dt.datetime | None = None) -> str:
    """A short UTC time stamp for notes and comments, e.g. 2025-04-03T09:00Z."""
    return (moment or utc_now()).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ")


# --------------------------------------------------------------------------------------------
# Polling for changes


def cursor_domain(cursor: ChangeCursor, column: str = MODIFIED_AT) -> list[Any]:
    """Records modified at or after the cursor (ties are dropped by `after_cursor`)."""
    return [[column, ">=", to_tryton_datetime(cursor.written_at)]]


def cursor_order(column: str = MODIFIED_AT) -> list[tuple[str, str]]:
    return [(column, "ASC"), ("id", "ASC")]


def after_cursor(rows: Iterable[Row], cursor: ChangeCursor, limit: int | None,
                 column: str = MODIFIED_AT) -> list[Row]:
    """Rows (ordered by column, id) strictly after the cursor, at most `limit` of them.

    A row stamped exactly at cursor.written_at is after the cursor unless its id is in
    cursor.ids_at_written_at: records written in one transaction share a timestamp, and a page
    may end in the middle of them, so neither skipping nor repeating them needs the ids.
    """
    at = to_tryton_datetime(cursor.written_at)
    seen = {str(i) for i in cursor.ids_at_written_at}
    kept = [r for r in rows if not (r[column] == at and str(r["id"]) in seen)]
    return kept if limit is None else kept[:limit]


def to_record_changes(rows: Iterable[Row], record_type: str,
                      column: str = MODIFIED_AT) -> list[RecordChange]:
    """created_at: the record's create_date, which with its id names a once-per-record event
    the same way concord_sync's push does (events.py, ONCE_PER_RECORD)."""
    return [RecordChange(record_type=record_type, record_id=str(r["id"]),
                         written_at=from_tryton_datetime(r[column]),
                         created_at=from_tryton_datetime(r["create_date"]) if r.get("create_date") else None)
            for r in rows]


def poll_changes(client: TrytonRpcClient, model: str, record_type: str, cursor: ChangeCursor,
                 limit: int, domain: Sequence[Any] = (),
                 column: str = MODIFIED_AT) -> list[RecordChange]:
    """Up to `limit` records of `model` (matching `domain`) changed after `cursor`, oldest first.

    `column` is the change time (written_at): last_modified_at unless a record type has a
    better one (e.g. a timesheet line's approved_at).

    search_read with domain `last_modified_at >= cursor` ordered by (last_modified_at, id):
    https://docs.tryton.org/server/topics/domain.html and
    https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.search_read
    Inactive records are included (a deactivation is a change). It fetches `limit` more rows
    than there are ids at the cursor's timestamp so that dropping those still fills the page.
    """
    if limit <= 0:
        return []
    rows = search_read(
        client, model, [*cursor_domain(cursor, column), *domain], [column, "create_date"],
        order=cursor_order(column), limit=limit + len(cursor.ids_at_written_at),
        active_test=False)
    return to_record_changes(after_cursor(rows, cursor, limit, column), record_type, column)


# --------------------------------------------------------------------------------------------
# Look-ups shared by the connectors


def search_read(client: TrytonRpcClient, model: str, domain: Sequence[Any],
                fields: Sequence[str], *, order: Sequence[tuple[str, str]] | None = None,
                limit: int | None = None, active_test: bool = True) -> list[Row]:
    """`search_read` that can include inactive (archived) records (context active_test)."""
    # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.search_read
    context = None if active_test else {"active_test": False}
    return client.call(  # type: ignore[no-any-return]
        f"model.{model}.search_read", list(domain), 0, limit,
        [list(o) for o in order] if order else None, list(fields), context=context)


def read_one(client: TrytonRpcClient, model: str, id_: int, fields: Sequence[str],
             what: str, domain: Sequence[Any] = ()) -> Row:
    """The record `id_` of `model` (active or not) or RecordNotFound."""
    rows = search_read(client, model, [["id", "=", id_], *domain], fields, active_test=False)
    if not rows:
        raise not_found(what, id_, client.database)
    return rows[0]


def has_field(client: TrytonRpcClient, model: str, field: str) -> bool:
    """Whether `model` has `field` in this database (e.g. concord_sync's concord_ref): Tryton
    registers every field of the activated modules as an ir.model.field record."""
    return bool(search_read(client, Model.MODEL_FIELD,
                            [["model", "=", model], ["name", "=", field]], ["id"], limit=1))


def product_by_code(client: TrytonRpcClient, codes: Iterable[str]) -> dict[str, Row]:
    """The products with these codes (Concord's service items), by code; all must exist."""
    wanted = sorted(set(codes))
    rows = search_read(client, Model.PRODUCT, [["code", "in", wanted]],
                       ["code", "default_uom", "list_price_used", "type", "account_category"])
    found = {r["code"]: r for r in rows}
    if missing := [c for c in wanted if c not in found]:
        raise ValidationFailed(
            f"no product with code {', '.join(map(repr, missing))} in Tryton database "
            f"{client.database!r}: every service item must exist as a product code")
    return found


def company_currency(client: TrytonRpcClient) -> str:
    """ISO code of the company's currency (the context's company)."""
    company = client.context.get("company")
    rows = search_read(client, Model.COMPANY, [["id", "=", company]], ["currency.code"])
    if not rows:
        raise PermanentError(f"no company in Tryton database {client.database!r}")
    return str(rows[0]["currency."]["code"])


def party_addresses(client: TrytonRpcClient, party_id: int) -> list[Row]:
    """A party's addresses, invoice addresses first, then in the party's own order."""
    rows = search_read(
        client, Model.ADDRESS, [["party", "=", party_id]],
        ["street", "city", "postal_code", "country.code", "subdivision.code", "invoice"],
        order=[("sequence", "ASC"), ("id", "ASC")])
    return sorted(rows, key=lambda r: not r.get("invoice"))


def party_identifiers(client: TrytonRpcClient, party_ids: Sequence[int]) -> dict[int, str]:
    """Each party's tax identifier code: its first tax-type identifier (Tryton's own
    `tax_identifier`), else its first identifier without a type (see to_tryton_identifier_values)."""
    rows = search_read(client, Model.PARTY, [["id", "in", list(party_ids)]],
                       ["tax_identifier.code"], active_test=False)
    codes = {r["id"]: r["tax_identifier."]["code"] for r in rows if r.get("tax_identifier.")}
    if missing := [p for p in party_ids if p not in codes]:
        for row in search_read(client, Model.IDENTIFIER,
                               [["party", "in", missing], ["type", "=", None]],
                               ["party", "code"], order=[("sequence", "ASC"), ("id", "ASC")]):
            codes.setdefault(row["party"], row["code"])
    return codes


def parties_by_tax_id(client: TrytonRpcClient, tax_id: str, *,
                      extra: Sequence[Any] = ()) -> list[Row]:
    """Active parties with an identifier equal to tax_id (see identifier_domain)."""
    identifiers = search_read(client, Model.IDENTIFIER, identifier_domain(tax_id), ["party"])
    if not identifiers:
        return []
    return search_read(
        client, Model.PARTY, [["id", "in", sorted({i["party"] for i in identifiers})], *extra],
        ["name", CONCORD_REF], order=[("id", "ASC")])


def latest_note(client: TrytonRpcClient, resource: str, prefix: str) -> str | None:
    """The message of the newest ir.note on `resource` starting with `prefix`."""
    # ir.note: notes attached to any record ("model,id"), shown in the client's Notes sidebar.
    rows = search_read(client, Model.NOTE,
                       [["resource", "=", resource], ["message", "like", f"{prefix}%"]],
                       ["message"], order=[("id", "DESC")], limit=1)
    return str(rows[0]["message"]) if rows else None


def add_note(client: TrytonRpcClient, resource: str, message: str) -> None:
    client.create(Model.NOTE, [{"resource": resource, "message": message}])


def resource(model: str, id_: int) -> str:
    """A Tryton Reference value: "model,id"."""
    return f"{model},{id_}"


# --------------------------------------------------------------------------------------------
# Parties: Customer (CRM), ErpCustomer (ERP)

_TAX_ID_NOISE = re.compile(r"[\s.\-/]")
# Two-letter VAT prefixes of the EU (Greece uses EL), handled by Tryton's `eu_vat` type.
_EU_VAT_PREFIXES = frozenset(
    "AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split())
_TAX_TYPE_BY_COUNTRY = {"US": "us_ein", "CA": "ca_bn", "GB": "gb_vat"}


def compact_tax_id(tax_id: str) -> str:
    """Upper case, without spaces, dots, dashes or slashes: "de 123.456-789" -> "DE123456789"."""
    return _TAX_ID_NOISE.sub("", tax_id).upper()


def identifier_domain(tax_id: str) -> list[Any]:
    """party.identifier records holding this tax id, however Tryton stored it.

    Tryton keeps the code as typed (formatted by python-stdnum for typed identifiers) and a
    `code_compact`; stdnum's compact form keeps the country prefix for EU VAT numbers
    ("DE123456789") but drops it for national VAT types ("GB980780684" -> "980780684" as
    gb_vat), so the prefix-less form only matches an identifier of that country's VAT type.
    """
    compact = compact_tax_id(tax_id)
    clauses: list[Any] = ["OR", ["code", "=", tax_id.strip()], ["code_compact", "=", compact]]
    if len(compact) > 2 and compact[:2].isalpha():
        clauses.append([["code_compact", "=", compact[2:]],
                        ["type", "=", f"{compact[:2].lower()}_vat"]])
    return [clauses]


def tax_identifier_type(tax_id: str, country: str | None) -> str | None:
    """The party.identifier type Tryton validates this tax id as, if Concord can tell."""
    prefix = compact_tax_id(tax_id)[:2]
    if prefix in _EU_VAT_PREFIXES:
        return "eu_vat"
    if prefix == "GB":
        return "gb_vat"
    return _TAX_TYPE_BY_COUNTRY.get(country or "")


def to_address(row: Mapping[str, Any] | None) -> Address | None:
    """A party.address as a canonical Address; None when it lacks street, city or country
    (the canonical address needs all three, Tryton requires none of them)."""
    if not row:
        return None
    street = ", ".join(line.strip() for line in (row.get("street") or "").splitlines()
                       if line.strip())
    country = (row.get("country.") or {}).get("code")
    if not (street and row.get("city") and country):
        return None
    subdivision = (row.get("subdivision.") or {}).get("code") or ""
    region = subdivision.split("-", 1)[1] if subdivision.startswith(f"{country}-") else subdivision
    return _validated(Address, "address", street=street, city=row["city"],
                      postal_code=row.get("postal_code") or "", region=region, country=country)


def to_customer(party: Mapping[str, Any], address: Mapping[str, Any] | None,
                tax_id: str | None, currency: str | None, legal_entity: str) -> Customer:
    """A CRM party as the canonical Customer (account_id = Tryton party id)."""
    return _validated(
        Customer, f"party {party['id']}", account_id=str(party["id"]), name=party["name"],
        billing_address=to_address(address), tax_id=tax_id, currency=currency,
        legal_entity=legal_entity)


def to_erp_customer(party: Mapping[str, Any], tax_id: str | None,
                    address: Mapping[str, Any] | None = None,
                    currency: str | None = None) -> ErpCustomer:
    return _validated(
        ErpCustomer, f"party {party['id']}", customer_id=str(party["id"]), name=party["name"],
        tax_id=tax_id, external_ref=party.get(CONCORD_REF) or None,
        billing_address=to_address(address), currency=currency)


def to_tryton_party_values(customer: Customer, external_ref: str) -> dict[str, Any]:
    """party.party values of a customer Concord created or linked (addresses and identifiers
    are separate records, see to_tryton_address_values / to_tryton_identifier_values)."""
    return {"name": customer.name, CONCORD_REF: external_ref, "active": True}


def to_tryton_address_values(address: Address, country_id: int | None,
                             subdivision_id: int | None) -> dict[str, Any]:
    """party.address values; `street` is a function field whose setter fills
    street_unstructured. The region is kept only if it names a seeded subdivision."""
    return {"street": address.street, "city": address.city, "postal_code": address.postal_code,
            "country": country_id, "subdivision": subdivision_id, "invoice": True}


def address_differs(row: Mapping[str, Any], address: Address) -> bool:
    current = to_address(row)
    return current is None or (current.street, current.city, current.postal_code,
                               current.country) != (address.street, address.city,
                                                    address.postal_code, address.country)


def to_tryton_identifier_values(party_id: int | None, tax_id: str, country: str | None,
                                *, typed: bool = True) -> dict[str, Any]:
    """party.identifier values (party_id None: created inside its party). Typed identifiers
    are checked by Tryton (python-stdnum) and make the party's `tax_identifier`; an id Tryton
    cannot validate is stored untyped."""
    values: dict[str, Any] = {"code": tax_id.strip(),
                              "type": tax_identifier_type(tax_id, country) if typed else None}
    if party_id is not None:
        values["party"] = party_id
    return values


# --------------------------------------------------------------------------------------------
# Opportunities (CRM)


def to_opportunity_line(row: Mapping[str, Any], unit_price: Decimal, currency: str,
                        what: str) -> OpportunityLine:
    product = row.get("product.") or {}
    if not product.get("code"):
        raise ValidationFailed(f"{what}: line {row['id']} has no product with a code "
                               "(Concord's service item)")
    description = (row.get("description") or "").strip() or product.get("rec_name") or product["code"]
    return _validated(
        OpportunityLine, what, service_item=product["code"], description=description[:255],
        quantity=Decimal(str(row["quantity"])), unit_price=Money(amount=unit_price,
                                                                  currency=currency))


def to_opportunity(row: Mapping[str, Any], lines: Sequence[OpportunityLine]) -> Opportunity:
    """A sale.opportunity as the canonical Opportunity.

    name: its description, else its number; amount: its estimated `amount`, else the sum of
    the lines; won: state == "won" (reached when the converted sale is confirmed);
    closed_on: its end date (set by Tryton when won, lost or cancelled).
    """
    currency = row["currency."]["code"]
    amount = row.get("amount")
    if amount is None:
        amount = sum((line.quantity * line.unit_price.amount for line in lines), Decimal(0))
    return _validated(
        Opportunity, f"opportunity {row['id']}", opportunity_id=str(row["id"]),
        account_id=str(row["party"]) if row.get("party") else "",
        name=(row.get("description") or "").strip() or row["number"],
        amount=Money(amount=Decimal(amount), currency=currency),
        closed_on=row.get("end_date"), won=row["state"] == "won", lines=list(lines))


def financial_status_note(status: FinancialStatus, moment: dt.datetime | None = None) -> str:
    return f"{FINANCIAL_STATUS_NOTE}{status.value} (set by Concord {stamp(moment)})"


def billing_status_note(status: FinancialStatus, moment: dt.datetime | None = None) -> str:
    return f"{BILLING_STATUS_NOTE}{status.value} (set by Concord {stamp(moment)})"


def status_of_note(message: str | None, prefix: str) -> FinancialStatus | None:
    """The status a Concord status note records (None if it is not one)."""
    if not message or not message.startswith(prefix):
        return None
    value = message[len(prefix):].split(" ", 1)[0]
    try:
        return FinancialStatus(value)
    except ValueError:
        return None


# --------------------------------------------------------------------------------------------
# Projects and time (PSA)


def to_tryton_project_values(plan: ProjectPlan, party_id: int, products: Mapping[str, Row],
                             *, invoice_method: str | None) -> dict[str, Any]:
    """project.work values of a project and its tasks (created in one call, so atomically).

    The project's product (hence its revenue per hour) is the first task's service item, at
    that product's list price. Tryton has no project budget: it goes into the comment.
    """
    first = products[plan.tasks[0].service_item]
    values: dict[str, Any] = {
        "name": plan.name, "type": "project", "party": party_id, CONCORD_REF: plan.external_ref,
        "product": first["id"], "list_price": first["list_price_used"],
        "timesheet_available": True,
        "comment": (f"Created by Concord for {plan.customer_name}; budget "
                    f"{plan.budget.amount} {plan.budget.currency}."),
        "children": [["create", [_task_values(task.name, products[task.service_item],
                                              task.planned_hours) for task in plan.tasks]]],
    }
    if invoice_method:
        values["project_invoice_method"] = invoice_method
    return values


def _task_values(name: str, product: Row, planned_hours: float | None) -> dict[str, Any]:
    values: dict[str, Any] = {"name": name, "type": "task", "product": product["id"],
                              "list_price": product["list_price_used"],
                              "timesheet_available": True}
    if planned_hours is not None:
        values["effort_duration"] = dt.timedelta(hours=planned_hours)
    return values


def to_project_record(project: Mapping[str, Any], tasks: Iterable[Mapping[str, Any]]) -> ProjectRecord:
    return ProjectRecord(project_id=str(project["id"]), external_ref=project[CONCORD_REF],
                         task_ids={t["name"]: str(t["id"]) for t in tasks})


def state_comment_key(state: ProjectState, reason: str) -> str:
    return f"{state.value}: {' '.join(reason.split())}"


def state_comment(state: ProjectState, reason: str, moment: dt.datetime | None = None) -> str:
    """The line appended to a project's comment when Concord changes its state."""
    return f"{stamp(moment)} {STATE_COMMENT}{state_comment_key(state, reason)}"


def last_state_comment(comment: str | None) -> str | None:
    """The last line Concord appended to a project's comment for a state change, minus its
    time stamp (what idempotency compares)."""
    for line in reversed((comment or "").splitlines()):
        _, sep, rest = line.partition(f" {STATE_COMMENT}")
        if sep:
            return rest
    return None


def append_line(text: str | None, line: str) -> str:
    return f"{text.rstrip()}\n{line}" if text and text.strip() else line


def timesheet_hours(line: Mapping[str, Any]) -> Decimal:
    """A timesheet.line's duration in hours, rounded to the cent of an hour."""
    duration: dt.timedelta = line["duration"] or dt.timedelta(0)
    return (Decimal(duration.total_seconds()) / Decimal(3600)).quantize(Decimal("0.01"))


# What concord_sync's push announces (events.py, time_approved): more is not one day's time.
MAX_ENTRY_HOURS = Decimal(24)


def to_time_approved(line: Mapping[str, Any], project_id: int, task_id: int,
                     billable: bool) -> TimeApproved:
    """An approved timesheet.line as TimeApproved (hours rounded to the cent of an hour)."""
    hours = timesheet_hours(line)
    return _validated(
        TimeApproved, f"timesheet line {line['id']}", time_entry_id=str(line["id"]),
        project_id=str(project_id), task_id=str(task_id), employee_id=str(line["employee"]),
        worked_on=line["date"], hours=hours, billable=billable,
        approved_at=from_tryton_datetime(line[APPROVED_AT]))


# --------------------------------------------------------------------------------------------
# Invoices and payments (ERP)


def to_tryton_invoice_line_values(
    line: InvoiceLine, *, currency: str, currency_id: int, list_price_currency: str,
    products: Mapping[str, Row], revenue_accounts: Mapping[int, int],
    customer_taxes: Mapping[int, list[int]], invoice_id: int | None = None,
) -> dict[str, Any]:
    """account.invoice.line values of one line of a customer invoice in `currency`.

    Raw RPC runs none of the client's on_change methods, so this sets what they would: the
    product's unit, its category's revenue account and customer taxes, the invoice's currency
    (docs/tryton.md, "Raw JSON-RPC runs no on-change"). Unit price: the line's, else the
    product's list price (kept by Tryton in the company currency, `list_price_currency`).
    invoice_id: for a line created on its own (None: created inside its invoice).
    """
    if line.unit_price is not None:
        if line.unit_price.currency != currency:
            raise ValidationFailed(
                f"invoice line {line.description!r} is priced in {line.unit_price.currency}, "
                f"the invoice in {currency}")
        unit_price = line.unit_price.amount
    else:
        if currency != list_price_currency:
            raise ValidationFailed(
                f"invoice line {line.description!r} has no price, and the list price of "
                f"{line.service_item!r} is in {list_price_currency}, the invoice in {currency}")
        unit_price = Decimal(products[line.service_item].get("list_price_used") or 0)
    product = products[line.service_item]
    category = product.get("account_category")
    if category not in revenue_accounts:
        raise ValidationFailed(
            f"product {line.service_item!r} has no category with a revenue account")
    values: dict[str, Any] = {
        "type": "line", "product": product["id"], "unit": product["default_uom"],
        "description": line.description, "quantity": float(line.quantity),
        "unit_price": unit_price, "account": revenue_accounts[category], "currency": currency_id,
    }
    if taxes := customer_taxes.get(category):
        values["taxes"] = [["add", taxes]]
    if line.source_records:
        values["note"] = "Concord source records: " + ", ".join(line.source_records)
    if line.concord_ref:
        values[CONCORD_REF] = line.concord_ref
    if invoice_id is not None:
        values["invoice"] = invoice_id
    return values


def to_tryton_invoice_values(
    draft: InvoiceDraft, *, party_id: int, invoice_address: int, currency_id: int,
    journal_id: int, receivable_account: int, payment_term: int | None,
    products: Mapping[str, Row], revenue_accounts: Mapping[int, int],
    customer_taxes: Mapping[int, list[int]], concord_ref: str | None,
    list_price_currency: str | None = None,
) -> dict[str, Any]:
    """account.invoice values of a customer invoice ("out") with its lines (see
    to_tryton_invoice_line_values); without lines when the draft has none.

    Raw RPC runs none of the client's on_change methods, so this sets what they would:
    journal, receivable account, payment term.
    """
    lines = [to_tryton_invoice_line_values(
        line, currency=draft.currency, currency_id=currency_id,
        list_price_currency=list_price_currency or draft.currency, products=products,
        revenue_accounts=revenue_accounts, customer_taxes=customer_taxes)
        for line in draft.lines]
    invoice: dict[str, Any] = {
        "type": "out", "party": party_id, "invoice_address": invoice_address,
        "currency": currency_id, "journal": journal_id, "account": receivable_account,
    }
    if lines:
        invoice["lines"] = [["create", lines]]
    if payment_term:
        invoice["payment_term"] = payment_term
    if draft.project_id:
        invoice["reference"] = draft.project_id
    if concord_ref:
        invoice[CONCORD_REF] = concord_ref
    return invoice


INVOICE_FIELDS = ("number", "state", "total_amount", "amount_to_pay", "currency.code",
                  "lines_to_pay")


def to_invoice_record(row: Mapping[str, Any], due_on: dt.date | None) -> InvoiceRecord:
    """An account.invoice as InvoiceRecord.

    amount_due: Tryton's amount_to_pay once posted (0 when paid); before posting nothing is
    booked yet, so the whole total is due; a cancelled invoice owes nothing.
    """
    currency = row["currency."]["code"]
    state = row["state"]
    total = row["total_amount"] or Decimal(0)
    if state in ("posted", "paid"):
        due = row["amount_to_pay"] or Decimal(0)
    elif state == "cancelled":
        due = Decimal(0)
    else:
        due = total
    return _validated(
        InvoiceRecord, f"invoice {row['id']}", invoice_id=str(row["id"]),
        number=row.get("number") or None, posted=state in ("posted", "paid"),
        total=Money(amount=total, currency=currency), amount_due=Money(amount=due, currency=currency),
        due_on=due_on)


INVOICE_POSTED_FIELDS = ("type", "state", "number", "party", "invoice_date", "total_amount",
                         "currency.code", "lines_to_pay.maturity_date")


def to_invoice_posted(row: Mapping[str, Any]) -> InvoicePosted | None:
    """A posted (or paid) customer invoice as InvoicePosted, exactly as concord_sync's push
    builds it (events.py, invoice_posted); None for a draft, cancelled or supplier invoice.

    due_on: the last maturity date of its lines to pay (the date the whole invoice is due),
    else the invoice date; project_id: None, as the push sends it.
    """
    if row.get("type") != "out" or row.get("state") not in ("posted", "paid"):
        return None
    maturities = [line["maturity_date"] for line in row.get("lines_to_pay.") or []
                  if line.get("maturity_date")]
    currency = row["currency."]["code"]
    return _validated(
        InvoicePosted, f"invoice {row['id']}", invoice_id=str(row["id"]), number=row["number"],
        customer_id=str(row["party"]), project_id=None, invoiced_on=row["invoice_date"],
        due_on=max(maturities) if maturities else row["invoice_date"],
        total=Money(amount=row["total_amount"], currency=currency))


PAYMENT_LINE_FIELDS = ("create_date", "date", "debit", "credit", "second_currency",
                       "amount_second_currency", "invoice_payment")


def to_payment_received_as_pushed(line: Mapping[str, Any], invoice: Mapping[str, Any],
                                  company_currency: int) -> PaymentReceived | None:
    """A move line paying a customer invoice as PaymentReceived, exactly as concord_sync's
    push builds it (events.py, payment_received): None unless the invoice is posted or paid,
    the amount is in the invoice's currency and positive. invoice_amount_due: what is left to
    pay on the invoice now."""
    if invoice.get("type") != "out" or invoice.get("state") not in ("posted", "paid"):
        return None
    currency = invoice["currency"]
    if line.get("second_currency") and line["second_currency"] == currency:
        amount = -Decimal(line["amount_second_currency"])
    elif currency == company_currency:
        amount = Decimal(line["credit"]) - Decimal(line["debit"])
    else:
        return None
    if amount <= 0:
        return None
    code = invoice["currency."]["code"]
    return _validated(
        PaymentReceived, f"payment line {line['id']}", payment_id=str(line["id"]),
        invoice_id=str(invoice["id"]), amount=Money(amount=amount, currency=code),
        received_on=line["date"],
        invoice_amount_due=Money(amount=invoice.get("amount_to_pay") or Decimal(0), currency=code))


def to_payment_received(line: Mapping[str, Any], invoice: Mapping[str, Any]) -> PaymentReceived:
    """A payment move line of a customer invoice as PaymentReceived.

    The amount is what the line takes off the receivable (credit - debit), in the invoice's
    currency; invoice_amount_due is the invoice's amount_to_pay NOW, not as of that payment.
    """
    currency = invoice["currency."]["code"]
    if line.get("second_currency") and line.get("amount_second_currency") is not None \
            and line["second_currency"] == invoice["currency"]:
        amount = -Decimal(line["amount_second_currency"])
    else:
        amount = Decimal(line["credit"]) - Decimal(line["debit"])
    due = invoice["amount_to_pay"] if invoice["state"] == "posted" else Decimal(0)
    return _validated(
        PaymentReceived, f"payment line {line['id']}", payment_id=str(line["id"]),
        invoice_id=str(invoice["id"]), amount=Money(amount=amount, currency=currency),
        received_on=line["date"], invoice_amount_due=Money(amount=due or Decimal(0),
                                                           currency=currency))
