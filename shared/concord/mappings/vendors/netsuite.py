"""NetSuite (ERP): the customer from AccountChanged, sales order lines (the emulated draft) from
approved work (concord.connectors.netsuite: customers.py, billing.py, mappers.py). Paths are
under the account's REST base URL; internal ids a run looks up are placeholders, and the field
names are the connection's defaults (no custom line-reference column)."""

from __future__ import annotations

from ...connectors.netsuite import mappers
from ...connectors.netsuite.client import RECORD, eid
from ...connectors.netsuite.connection import Fields, NetSuiteConnection
from ...events import Envelope
from ...events.envelope import AccountChangedEvent, ExpenseApprovedEvent, TimeApprovedEvent
from ..inputs import MappingConfig, customer_of, customer_ref, customer_update_of, line_of
from ..requests import VendorRequest, placeholder

SUBSIDIARY: str = NetSuiteConnection.model_fields["subsidiary_id"].default


def _with_replace(path: str, body: dict[str, object]) -> str:
    replaced = mappers.replaced_sublists(dict(body))
    return f"{path}?replace={','.join(replaced)}" if replaced else path


def render(event: Envelope, config: MappingConfig) -> list[VendorRequest]:
    fields = Fields()
    if isinstance(event, AccountChangedEvent):
        customer = customer_of(event)
        currency = placeholder(f"currency id of {customer.currency}") if customer.currency else None
        created = mappers.to_netsuite_customer(customer, fields.tax_id, subsidiary_id=SUBSIDIARY, currency_id=currency)
        update = customer_update_of(event, config.ownership)
        changed = placeholder(f"currency id of {update.currency}") if update.currency else None
        changes = mappers.to_customer_changes(update, fields.tax_id, changed)
        upsert_path = f"{RECORD.strip('/')}/customer/{eid(customer_ref(customer.account_id))}"
        update_path = f"{RECORD.strip('/')}/customer/{placeholder('customer id')}"
        return [
            # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html
            VendorRequest(
                operation="upsert customer", method="PUT", path=_with_replace(upsert_path, created), body=created
            ),
            # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545295601.html
            VendorRequest(
                operation="update customer", method="PATCH", path=_with_replace(update_path, changes), body=changes
            ),
        ]
    if isinstance(event, (TimeApprovedEvent, ExpenseApprovedEvent)):
        rules = config.rules_for(event.legal_entity)
        line = line_of(event, rules) if rules is not None else None
        if line is None or line.concord_ref is None:
            return []
        item = placeholder(f"item id of {line.service_item}")
        value = mappers.to_sales_order_line(line, item, line.concord_ref, fields.concord_ref_column)
        # Lines PATCHed onto the project's open sales order are appended to its item sublist.
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html
        return [
            VendorRequest(
                operation="add sales order lines",
                method="PATCH",
                path=f"{RECORD.strip('/')}/salesOrder/{placeholder('sales order id')}",
                body={"item": {"items": [value]}},
            )
        ]
    return []
