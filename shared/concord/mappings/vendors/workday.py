"""Workday (ERP, SOAP): Put_Customer from AccountChanged, Submit_Customer_Invoice (the draft,
unsubmitted) from approved work (concord.connectors.workday: customers.py, invoices.py). The
request element is rendered as indented XML, one list item per line so a diff names the element
that changed; `path` is the Revenue_Management operation. A draft is resent with the lines it has
before the new ones: a rendering knows only the event's, numbered from 1."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal

from ...connectors.workday import soap
from ...connectors.workday.connection import WorkdayConnection
from ...connectors.workday.customers import WorkdayCustomer, customer_reference_id, fill_put_customer
from ...connectors.workday.invoices import DRAFT, WorkdayInvoice, fill_submit_invoice, to_workday_line
from ...events import Envelope
from ...events.envelope import AccountChangedEvent, ExpenseApprovedEvent, TimeApprovedEvent
from ..inputs import MappingConfig, customer_of, customer_ref, line_of
from ..requests import VendorRequest, placeholder

VERSION: str = WorkdayConnection.model_fields["version"].default


def xml_lines(body: ET.Element) -> list[str]:
    """The request element as indented, canonical XML lines (C14N 2.0 with its prefixes rewritten:
    the same whichever prefixes this process registered)."""
    ET.indent(body)
    return ET.canonicalize(ET.tostring(body, encoding="unicode"), rewrite_prefixes=True).splitlines()


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    if isinstance(event, AccountChangedEvent):
        customer = customer_of(event)
        wanted = WorkdayCustomer(
            customer_id=customer_reference_id(customer_ref(customer.account_id)),
            name=customer.name,
            tax_id=customer.tax_id or "",
            currency=customer.currency or "",
            address=customer.billing_address,
        )
        body = soap.request("Put_Customer", VERSION)
        fill_put_customer(body, wanted)
        # https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Put_Customer.html
        return [VendorRequest(operation="put customer", method="SOAP", path="Put_Customer", body=xml_lines(body))]
    if isinstance(event, (TimeApprovedEvent, ExpenseApprovedEvent)):
        rules = config.rules_for(event.legal_entity)
        line = line_of(event, rules) if rules is not None else None
        if rules is None or line is None:
            return []
        draft = WorkdayInvoice(
            invoice_id=placeholder("draft invoice id"),
            number="",
            customer_id=placeholder("customer id"),
            currency=rules.billing_currency,
            memo=placeholder("project ref"),
            status=DRAFT,
            total=Decimal(0),
            amount_due=Decimal(0),
            invoiced_on=None,
            due_on=None,
            lines=[to_workday_line(1, line.concord_ref or "", line)],
        )
        body = soap.request("Submit_Customer_Invoice", VERSION)
        fill_submit_invoice(body, draft, placeholder("company id"), create=False)
        # https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Submit_Customer_Invoice.html
        return [
            VendorRequest(
                operation="add invoice lines", method="SOAP", path="Submit_Customer_Invoice", body=xml_lines(body)
            )
        ]
    return []
