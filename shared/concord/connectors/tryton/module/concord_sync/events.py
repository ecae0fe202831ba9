"""Build Concord's canonical event payloads from Tryton records (run at commit by push.Outbox).

The shapes are those of concord.events.payloads (Concord's repository), which this module
cannot import (it runs inside the Tryton venv): the Concord test suite validates every
payload built here against those models. Ids are this database's record ids, as strings;
amounts are decimal strings; dates ISO 8601. A record that cannot be expressed canonically
(no project behind a timesheet line, an opportunity without priced lines...) is logged and
skipped rather than sent half-valid.
"""

import datetime as dt
import logging
from decimal import Decimal

from trytond.pool import Pool
from trytond.transaction import Transaction

logger = logging.getLogger(__name__)

# party.party fields -> the AccountChanged fields they feed.
PARTY_FIELDS = {
    "name": "name",
    "addresses": "billing_address",
    "identifiers": "tax_id",
    "customer_currency": "currency",
}
ACCOUNT_FIELDS = ["name", "billing_address", "tax_id", "currency"]
# What a person is made of: their email mechanism and a phone mechanism of the same name.
PHONE_TYPES = ("phone", "mobile")
CONTACT_FIELDS = ["email", "name", "phone", "role"]


def contact_fields_changed(mechanism_type, field_names):
    "The ContactChanged fields a write of these party.contact_mechanism fields changes."
    if mechanism_type not in PHONE_TYPES and mechanism_type != "email":
        return []
    value = "phone" if mechanism_type in PHONE_TYPES else "email"
    feeds = {"name": "name", "value": value, "type": value, "invoice": "role", "active": value, "party": value}
    return sorted({feeds[f] for f in field_names if f in feeds})


SALE_WON_STATES = {"confirmed", "processing", "done"}
# The version of each event type built here (Concord's current one); the others are version 1.
VERSIONS = {"OpportunityClosedWon": 2}
# Tryton's opportunity has no contract type: deals are billed by the hour, line by line (Concord's
# DEFAULT_CONTRACT_TYPE).
CONTRACT_TYPE = "time_and_materials"
# Events that happen once per record: their delivery id is derived from the record (id and
# creation time, so a database restored from a backup cannot reuse one), and the same fact
# announced twice (push, then a poller, or a retried transaction) is one event.
ONCE_PER_RECORD = {
    "OpportunityClosedWon": ("sale.opportunity", lambda key: key),
    "TimeApproved": ("timesheet.line", lambda key: key),
    "InvoicePosted": ("account.invoice", lambda key: key),
    "PaymentReceived": ("account.move.line", lambda key: key[1]),
}


def _once_delivery_id(item):
    model, record_of = ONCE_PER_RECORD[item.event_type]
    record_id = record_of(item.key)
    created = Pool().get(model)(record_id).create_date
    return f"{item.event_type}:{record_id}:{created.isoformat()}"


def build_all(pending, settings):
    """(delivery id or None, canonical body) of the pending events (those that could be built);
    None means a fresh id per delivery."""
    bodies = []
    for item in sorted(pending, key=lambda p: p.occurred_at):
        try:
            data = BUILDERS[item.event_type](item)
        except Exception:
            logger.exception("concord push: could not build %s for %r", item.event_type, item.key)
            continue
        if data is None:
            continue
        delivery_id = _once_delivery_id(item) if item.event_type in ONCE_PER_RECORD else None
        bodies.append(
            (
                delivery_id,
                {
                    "type": item.event_type,
                    "version": VERSIONS.get(item.event_type, 1),
                    "timestamp": _iso(item.occurred_at),
                    "data": data,
                    "legal_entity": settings.legal_entity,
                },
            )
        )
    return bodies


def account_changed(item):
    pool = Pool()
    Party = pool.get("party.party")
    party = _existing(Party, item.key)
    if party is None:  # deleted in the same transaction
        return None
    if _is_internal(party):
        return None
    address = _billing_address(party)
    tax_identifier = getattr(party, "tax_identifier", None)
    changed = [f for f in ACCOUNT_FIELDS if f in item.changed_fields]
    return {
        "account_id": str(party.id),
        "name": party.name,
        "billing_address": address,
        "tax_id": tax_identifier.code if tax_identifier else None,
        "currency": _party_currency(party),
        "changed_fields": changed,
    }


def contact_changed(item):
    "The person whose email mechanism is item.key (see party.ContactMechanism)."
    Mechanism = Pool().get("party.contact_mechanism")
    email = _existing(Mechanism, item.key)
    if email is None or email.type != "email" or not email.name or not email.active:
        return None
    if _is_internal(email.party):
        return None
    with Transaction().set_context(active_test=False):
        phones = Mechanism.search(
            [("party", "=", email.party.id), ("type", "in", PHONE_TYPES), ("name", "=", email.name)],
            order=[("id", "ASC")],
            limit=1,
        )
    return {
        "contact_id": str(email.id),
        "account_id": str(email.party.id),
        "role": "billing" if getattr(email, "invoice", False) else "project",
        "name": email.name,
        "email": email.value,
        "phone": phones[0].value if phones else None,
        "changed_fields": sorted(set(item.changed_fields)),
    }


def opportunity_closed_won(item):
    pool = Pool()
    Opportunity = pool.get("sale.opportunity")
    opportunity = _existing(Opportunity, item.key)
    if opportunity is None or opportunity.state != "won":
        return None
    currency = opportunity.currency.code
    lines = []
    for sale in opportunity.sales:
        if sale.state not in SALE_WON_STATES:
            continue
        for line in sale.lines:
            if line.type != "line" or not line.product or not line.quantity:
                continue
            if line.quantity <= 0 or line.unit_price is None:
                continue
            lines.append(
                {
                    "service_item": _product_code(line.product),
                    "description": _first_line(line.description) or line.product.name,
                    "quantity": _decimal(Decimal(str(line.quantity)), 4),
                    "unit_price": _money(line.unit_price, sale.currency.code),
                }
            )
    if not lines:
        logger.warning(
            "concord push: opportunity %s is won without a priced product line; OpportunityClosedWon not sent",
            opportunity.id,
        )
        return None
    amount = opportunity.amount
    if amount is None:
        amount = opportunity.sale_amount or Decimal(0)
    return {
        "opportunity_id": str(opportunity.id),
        "account_id": str(opportunity.party.id),
        "name": (opportunity.description or opportunity.reference or opportunity.number),
        "amount": _money(amount, currency),
        "closed_on": (opportunity.end_date or dt.date.today()).isoformat(),
        "lines": lines,
        "payment_term": (opportunity.payment_term.name if opportunity.payment_term else None),
        "contract_type": CONTRACT_TYPE,
        # The salesperson who owns the opportunity owns its billing (as the connector reads it).
        "billing_owner": (opportunity.employee.rec_name if opportunity.employee else None),
    }


def time_approved(item):
    pool = Pool()
    Line = pool.get("timesheet.line")
    line = _existing(Line, item.key)
    if line is None or line.approval_state != "approved":
        return None
    task = line.work.origin if line.work else None
    if task is None or getattr(task, "__name__", None) != "project.work":
        logger.warning("concord push: timesheet line %s is not on a project task; TimeApproved not sent", line.id)
        return None
    project = task
    while project.parent:
        project = project.parent
    hours = (Decimal(str(line.duration.total_seconds())) / 3600).quantize(Decimal("0.01"))
    if not (0 < hours <= 24):
        logger.warning("concord push: timesheet line %s has %s hours; TimeApproved not sent", line.id, hours)
        return None
    return {
        "time_entry_id": str(line.id),
        "project_id": str(project.id),
        "task_id": str(task.id),
        "employee_id": str(line.employee.id),
        "worked_on": line.date.isoformat(),
        "hours": _decimal(hours, 2),
        "billable": _billable(project),
        "approved_at": _iso(line.approved_at),
    }


def _billable(project):
    "Time is billable on projects invoiced from timesheets (as TrytonPsa.approved_time says)."
    method = getattr(project, "project_invoice_method", None)
    return method is None or method == "timesheet"


def invoice_posted(item):
    pool = Pool()
    Invoice = pool.get("account.invoice")
    invoice = _existing(Invoice, item.key)
    if invoice is None or invoice.type != "out" or invoice.state not in {"posted", "paid"}:
        return None
    maturities = [line.maturity_date for line in invoice.lines_to_pay if line.maturity_date]
    return {
        "invoice_id": str(invoice.id),
        "number": invoice.number,
        "customer_id": str(invoice.party.id),
        "project_id": None,
        "invoiced_on": invoice.invoice_date.isoformat(),
        # The date by which the whole invoice is due (the last instalment).
        "due_on": (max(maturities) if maturities else invoice.invoice_date).isoformat(),
        "total": _money(invoice.total_amount, invoice.currency.code),
    }


def payment_received(item):
    pool = Pool()
    Invoice = pool.get("account.invoice")
    MoveLine = pool.get("account.move.line")
    invoice_id, line_id = item.key
    invoice = _existing(Invoice, invoice_id)
    line = _existing(MoveLine, line_id)
    if invoice is None or line is None or invoice.type != "out":
        return None
    if invoice.state not in {"posted", "paid"}:
        return None
    sources = item.extra.get("sources", set())
    if "payment_lines" not in sources and line in invoice.payment_lines:
        # Seen by reconciliation only, but already a payment line of the invoice:
        # announced when it was added (earlier transaction).
        return None
    currency = invoice.currency
    if line.second_currency and line.second_currency == currency:
        amount = -line.amount_second_currency
    elif currency == invoice.company.currency:
        amount = line.credit - line.debit
    else:
        logger.warning(
            "concord push: payment line %s is not in the currency of invoice %s; PaymentReceived not sent",
            line.id,
            invoice.id,
        )
        return None
    if amount <= 0:
        return None
    return {
        "payment_id": str(line.id),
        "invoice_id": str(invoice.id),
        "amount": _money(amount, currency.code),
        "received_on": line.date.isoformat(),
        "invoice_amount_due": _money(invoice.amount_to_pay or 0, currency.code),
    }


BUILDERS = {
    "AccountChanged": account_changed,
    "ContactChanged": contact_changed,
    "OpportunityClosedWon": opportunity_closed_won,
    "TimeApproved": time_approved,
    "InvoicePosted": invoice_posted,
    "PaymentReceived": payment_received,
}


def _existing(Model, record_id):
    with Transaction().set_context(active_test=False):
        records = Model.search([("id", "=", record_id)], limit=1)
    return records[0] if records else None


def _is_internal(party):
    "The company's own party or an employee's: not a CRM account."
    pool = Pool()
    for name in ("company.company", "company.employee"):
        try:
            Model = pool.get(name)
        except KeyError:
            continue
        with Transaction().set_context(active_test=False):
            if Model.search([("party", "=", party.id)], limit=1):
                return True
    return False


def _billing_address(party):
    pool = Pool()
    Address = pool.get("party.address")
    # account_invoice flags invoice addresses; otherwise the first address.
    address = party.address_get(type="invoice" if "invoice" in Address._fields else None)
    if not address:
        return None
    street = (address.street_single_line or "").strip()
    city = (address.city or "").strip()
    country = address.country.code if address.country else None
    if not (street and city and country):
        return None  # Concord's Address needs street, city and country
    region = ""
    if address.subdivision:
        code = address.subdivision.code or ""
        region = code.split("-", 1)[-1] if code else address.subdivision.name
    return {
        "street": street[:255],
        "city": city[:255],
        "postal_code": (address.postal_code or "").strip()[:32],
        "region": region[:64],
        "country": country.upper(),
    }


def _party_currency(party):
    currency = getattr(party, "customer_currency", None)
    if currency:
        return currency.code
    company = _company()
    return company.currency.code if company else None


def _company():
    try:
        Company = Pool().get("company.company")
    except KeyError:
        return None
    company_id = Transaction().context.get("company")
    if company_id:
        return Company(company_id)
    companies = Company.search([], limit=2)
    return companies[0] if len(companies) == 1 else None


def _product_code(product):
    # Systems map services by product code; a product without one is named by its id.
    return product.code or str(product.id)


def _first_line(text):
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()[:255]
    return ""


def _money(amount, currency_code):
    return {"amount": _decimal(Decimal(amount)), "currency": currency_code}


def _decimal(value, places=None):
    if places is not None:
        value = value.quantize(Decimal(1).scaleb(-places))
    return format(value, "f")


def _iso(value):
    "ISO 8601 with a timezone; Tryton's naive datetimes are UTC."
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()
