"""QuickBooks entity changes → what they may become.

Invoices and payments are the ERP's to announce, but QuickBooks webhooks name the entity only:
InvoicePosted needs number, customer, dates and total, PaymentReceived the amount and the
invoice it pays. They are recorded as `needs_enrichment` (read the entity, then emit).
Customers are accounts, owned by the CRM (`not_system_of_record`); the rest is `not_mapped`.
"""

from __future__ import annotations

from ...delivery import Unprocessed, UnprocessedItem

ENRICHABLE = {
    ("invoice", "create"): ("InvoicePosted",),
    ("invoice", "update"): ("InvoicePosted",),
    ("invoice", "emailed"): ("InvoicePosted",),
    ("payment", "create"): ("PaymentReceived",),
    ("payment", "update"): ("PaymentReceived",),
}


def to_unprocessed(realm_id: str, entity: str, operation: str, entity_id: str) -> UnprocessedItem:
    kind = f"{entity}.{operation}"
    reference = f"realm/{realm_id}/{entity.lower()}/{entity_id}"
    targets = ENRICHABLE.get((entity.lower(), operation.lower()))
    if targets:
        return UnprocessedItem(
            kind,
            Unprocessed.NEEDS_ENRICHMENT,
            f"QuickBooks webhooks carry the {entity} id only; {targets[0]} needs the {entity}",
            reference,
            targets,
        )
    if entity.lower() == "customer":
        return UnprocessedItem(
            kind, Unprocessed.NOT_SYSTEM_OF_RECORD, "accounts are the CRM's; the ERP does not announce them", reference
        )
    return UnprocessedItem(kind, Unprocessed.NOT_MAPPED, "no canonical event for this QuickBooks change", reference)


_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}


def split_cloud_event_type(event_type: str) -> tuple[str, str]:
    """("Invoice", "Create") from "qbo.invoice.created.v1" (unknown shapes kept as they are)."""
    parts = event_type.split(".")
    if len(parts) >= 3 and parts[0] == "qbo":
        return parts[1].capitalize(), _OPERATIONS.get(parts[2], parts[2])
    return event_type, "unknown"
