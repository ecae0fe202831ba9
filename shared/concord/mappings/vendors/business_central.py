"""Business Central: customers from AccountChanged, sales invoice lines from approved work
(concord.connectors.business_central: customers.py, invoices.py)."""

from __future__ import annotations

from ...connectors.business_central import mappers
from ...events import Envelope
from ...events.envelope import AccountChangedEvent, ExpenseApprovedEvent, TimeApprovedEvent
from ..inputs import MappingConfig, customer_of, customer_ref, customer_update_of, line_of
from ..requests import VendorRequest, placeholder


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    rules = config.rules_for(event.legal_entity)
    if rules is None:
        return []
    local_currency = rules.billing_currency
    if isinstance(event, AccountChangedEvent):
        number = mappers.customer_number(customer_ref(event.data.account_id))
        created = {"number": number, **mappers.to_bc_customer(customer_of(event), local_currency)}
        changes = mappers.to_bc_customer_changes(customer_update_of(event, config.ownership), local_currency)
        return [
            # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customer_create
            VendorRequest(operation="create customer", method="POST", path="customers", body=created),
            # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customer_update
            VendorRequest(
                operation="update customer",
                method="PATCH",
                path=f"customers({placeholder('customer id')})",
                body=changes,
            ),
        ]
    if isinstance(event, (TimeApprovedEvent, ExpenseApprovedEvent)):
        line = line_of(event, rules)
        if line is None:
            return []
        # Sent inside a $batch; https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_salesinvoiceline_create
        path = f"salesInvoices({placeholder('draft invoice id')})/salesInvoiceLines"
        body = mappers.to_bc_invoice_line(line)
        return [VendorRequest(operation="add invoice lines", method="POST", path=path, body=body)]
    return []
