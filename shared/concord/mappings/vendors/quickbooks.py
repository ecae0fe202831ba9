"""QuickBooks Online (ERP): the customer from AccountChanged, estimate lines (the emulated draft)
from approved work (concord.connectors.quickbooks: customers.py, billing.py). Paths are under
the company's /v3/company/<realm>/; ids a run looks up are placeholders."""

from __future__ import annotations

from ...connectors.quickbooks.billing import to_estimate, to_estimate_line
from ...connectors.quickbooks.customers import customer_fields
from ...events import Envelope
from ...events.envelope import AccountChangedEvent, ExpenseApprovedEvent, TimeApprovedEvent
from ..inputs import MappingConfig, customer_of, customer_update_of, line_of
from ..requests import VendorRequest, placeholder


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    if isinstance(event, AccountChangedEvent):
        customer = customer_of(event)
        created = customer_fields(customer.name, customer.billing_address, customer.tax_id, customer.currency)
        update = customer_update_of(event, config.ownership)
        changes = customer_fields(update.name, update.billing_address, update.tax_id, update.currency)
        # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer
        return [
            VendorRequest(operation="create customer", method="POST", path="customer", body=created),
            # Sent as a sparse update of the customer's Id at the SyncToken just read.
            VendorRequest(operation="update customer", method="POST", path="customer", body=changes),
        ]
    if isinstance(event, (TimeApprovedEvent, ExpenseApprovedEvent)):
        rules = config.rules_for(event.legal_entity)
        line = line_of(event, rules) if rules is not None else None
        if rules is None or line is None:
            return []
        value = to_estimate_line(line, placeholder(f"item id of {line.service_item}"), line.concord_ref or "")
        draft = placeholder("draft id")
        body = to_estimate(placeholder("customer id"), rules.billing_currency, draft, [value])
        # The draft's first write creates its estimate with these lines (later ones append to it).
        # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate
        return [VendorRequest(operation="create estimate", method="POST", path="estimate", body=body)]
    return []
