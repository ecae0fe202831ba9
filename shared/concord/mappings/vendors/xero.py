"""Xero (ERP): the contact from AccountChanged, lines of the project's draft sales invoice from
approved work (concord.connectors.xero: customers.py, invoices.py, mappers.py). Paths are under
api.xro/2.0/; ids a run reads are placeholders, the revenue account code the connection's default.
An update of a draft resends its lines before the new ones: a run knows them, a rendering does not."""

from __future__ import annotations

from ...connectors.xero import mappers
from ...connectors.xero.connection import XeroConnection
from ...events import Envelope
from ...events.envelope import AccountChangedEvent, ExpenseApprovedEvent, TimeApprovedEvent
from ..inputs import MappingConfig, customer_of, customer_ref, customer_update_of, line_of
from ..requests import VendorRequest, placeholder

ACCOUNT_CODE: str = XeroConnection.model_fields["account_code"].default


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    if isinstance(event, AccountChangedEvent):
        customer = customer_of(event)
        created = mappers.to_xero_contact(customer, customer_ref(customer.account_id))
        contact = placeholder("contact id")
        changes = {"ContactID": contact, **mappers.to_xero_contact_changes(customer_update_of(event, config.ownership))}
        return [
            # https://developer.xero.com/documentation/api/accounting/contacts#put-contacts
            VendorRequest(operation="create contact", method="PUT", path="Contacts", body=created),
            # https://developer.xero.com/documentation/api/accounting/contacts#post-contacts
            VendorRequest(operation="update contact", method="POST", path=f"Contacts/{contact}", body=changes),
        ]
    if isinstance(event, (TimeApprovedEvent, ExpenseApprovedEvent)):
        rules = config.rules_for(event.legal_entity)
        line = line_of(event, rules) if rules is not None else None
        if line is None:
            return []
        invoice = placeholder("draft invoice id")
        body = {"InvoiceID": invoice, "LineItems": [mappers.to_new_line(line, ACCOUNT_CODE)]}
        # https://developer.xero.com/documentation/api/accounting/invoices#post-invoices
        return [VendorRequest(operation="add invoice lines", method="POST", path=f"Invoices/{invoice}", body=body)]
    return []
