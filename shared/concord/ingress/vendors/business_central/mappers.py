"""Business Central notifications → what they may become.

Sales invoices and customer payments are the ERP's to announce, but a notification names the
record only: `needs_enrichment` (GET the resource, then emit InvoicePosted / PaymentReceived).
Customers are accounts, owned by the CRM (`not_system_of_record`); deletions and other
entities are `not_mapped`.
"""

from __future__ import annotations

import re

from ...delivery import Unprocessed, UnprocessedItem
from .payloads import BusinessCentralNotification

ENRICHABLE = {
    "salesInvoices": ("InvoicePosted",),
    "customerPayments": ("PaymentReceived",),
    "customerPaymentJournals": ("PaymentReceived",),
}
_LAST_SEGMENT = re.compile(r"([A-Za-z][A-Za-z0-9]*)(?:\([^/]*\))?/?$")


def entity_set(resource: str) -> str:
    """ "salesInvoices" from ".../companies(…)/salesInvoices(…)" or ".../salesInvoices?$filter=…"."""
    path = resource.split("?", 1)[0]
    match = _LAST_SEGMENT.search(path)
    return match.group(1) if match else "unknown"


def to_unprocessed(notification: BusinessCentralNotification) -> UnprocessedItem:
    entities = entity_set(notification.resource)
    kind = f"{entities}.{notification.changeType}"
    reference = notification.resource
    targets = ENRICHABLE.get(entities)
    if targets and notification.changeType in ("created", "updated", "collection"):
        return UnprocessedItem(
            kind,
            Unprocessed.NEEDS_ENRICHMENT,
            f"Business Central notifications name the record only; {targets[0]} needs the record",
            reference,
            targets,
        )
    if entities == "customers":
        return UnprocessedItem(
            kind, Unprocessed.NOT_SYSTEM_OF_RECORD, "accounts are the CRM's; the ERP does not announce them", reference
        )
    return UnprocessedItem(
        kind, Unprocessed.NOT_MAPPED, "no canonical event for this Business Central change", reference
    )
