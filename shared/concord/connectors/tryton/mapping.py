"""Mappers between Tryton records and Concord's domain records, named by direction:
`to_<concord thing>(tryton row...)` reads, and `to_tryton_<thing>_values(concord record...)`
builds the values of a create or write. Rows are as lookups.py describes them.

Tryton documentation: https://docs.tryton.org/server/ (server, domains, RPC) and
https://docs.tryton.org/modules-<module>/ (e.g. modules-party, modules-account-invoice).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ValidationError

from concord.domain import (
    ApprovedTime,
    Customer,
    ErpCustomer,
    FinancialStatus,
    InvoiceLine,
    InvoiceRecord,
    Opportunity,
    PostedInvoice,
    ProjectPlan,
    ProjectRecord,
    ProjectState,
    ReceivedPayment,
)
from concord.errors import ValidationFailed
from concord.events.payloads import OpportunityLine
from concord.events.types import Address, Money, joined_lines

from .names import (
    APPROVED_AT,
    BILLING_STATUS_NOTE,
    CONCORD_REF,
    FINANCIAL_STATUS_NOTE,
    STATE_COMMENT,
    from_tryton_datetime,
    stamp,
)

Row = dict[str, Any]


def _validated[M: BaseModel](build: type[M], what: str, **values: Any) -> M:
    """Build a canonical model; Tryton data that does not fit it is a ValidationFailed."""
    try:
        return build(**values)
    except ValidationError as exc:
        raise ValidationFailed(f"Tryton {what} does not map to {build.__name__}: {exc}") from exc



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
    street = joined_lines(row.get("street") or "")
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


def to_tryton_party_values(customer: Customer, external_ref: str | None) -> dict[str, Any]:
    """party.party values of a customer Concord created or linked (addresses and identifiers
    are separate records, see to_tryton_address_values / to_tryton_identifier_values);
    external_ref None leaves the party's concord_ref alone."""
    values: dict[str, Any] = {"name": customer.name, "active": True}
    if external_ref is not None:
        values[CONCORD_REF] = external_ref
    return values


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
    """A project.work (with its `party`, the client) and its direct tasks by name."""
    return ProjectRecord(project_id=str(project["id"]),
                         client_id=str(project["party"]) if project.get("party") else None,
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


def to_approved_time(line: Mapping[str, Any], project_id: int, task_id: int,
                     billable: bool) -> ApprovedTime:
    """An approved timesheet.line as ApprovedTime (hours rounded to the cent of an hour)."""
    hours = timesheet_hours(line)
    return _validated(
        ApprovedTime, f"timesheet line {line['id']}", time_entry_id=str(line["id"]),
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
    category: int | None = product.get("account_category")
    if category is None or category not in revenue_accounts:
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


def to_posted_invoice(row: Mapping[str, Any]) -> PostedInvoice | None:
    """A posted (or paid) customer invoice as PostedInvoice, with the values concord_sync's
    push puts in its InvoicePosted (events.py, invoice_posted); None for a draft, cancelled or
    supplier invoice.

    due_on: the last maturity date of its lines to pay (the date the whole invoice is due),
    else the invoice date.
    """
    if row.get("type") != "out" or row.get("state") not in ("posted", "paid"):
        return None
    maturities = [line["maturity_date"] for line in row.get("lines_to_pay.") or []
                  if line.get("maturity_date")]
    currency = row["currency."]["code"]
    return _validated(
        PostedInvoice, f"invoice {row['id']}", invoice_id=str(row["id"]), number=row["number"],
        customer_id=str(row["party"]), invoiced_on=row["invoice_date"],
        due_on=max(maturities) if maturities else row["invoice_date"],
        total=Money(amount=row["total_amount"], currency=currency))


PAYMENT_LINE_FIELDS = ("create_date", "date", "debit", "credit", "second_currency",
                       "amount_second_currency", "invoice_payment")


def to_received_payment(line: Mapping[str, Any], invoice: Mapping[str, Any],
                        company_currency: int) -> ReceivedPayment | None:
    """A move line paying a customer invoice as ReceivedPayment, with the values concord_sync's
    push puts in its PaymentReceived (events.py, payment_received): None unless the invoice is
    posted or paid, the amount is in the invoice's currency and positive.
    invoice_amount_due: what is left to pay on the invoice now."""
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
        ReceivedPayment, f"payment line {line['id']}", payment_id=str(line["id"]),
        invoice_id=str(invoice["id"]), amount=Money(amount=amount, currency=code),
        received_on=line["date"],
        invoice_amount_due=Money(amount=invoice.get("amount_to_pay") or Decimal(0), currency=code))
