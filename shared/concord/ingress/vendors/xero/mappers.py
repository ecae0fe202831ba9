"""Xero events → what they may become.

Invoices are the ERP's to announce (InvoicePosted, and PaymentReceived when a payment
changes an invoice), but a Xero event holds the invoice's id only: recorded as
`needs_enrichment` (GET the resourceUrl, then emit). Contacts are accounts, which the CRM
owns: `not_system_of_record`. Credit notes and app subscriptions have no canonical event.
"""

from __future__ import annotations

from ...delivery import Unprocessed, UnprocessedItem
from .payloads import XeroEvent


def to_unprocessed(event: XeroEvent) -> UnprocessedItem:
    kind = f"{event.eventCategory}.{event.eventType}"
    reference = f"tenant/{event.tenantId}/{event.eventCategory.lower()}/{event.resourceId}"
    if event.eventCategory == "INVOICE":
        return UnprocessedItem(
            kind,
            Unprocessed.NEEDS_ENRICHMENT,
            "Xero invoice events carry the invoice id only; InvoicePosted/PaymentReceived need the invoice",
            reference,
            ("InvoicePosted", "PaymentReceived"),
        )
    if event.eventCategory == "CONTACT":
        return UnprocessedItem(
            kind, Unprocessed.NOT_SYSTEM_OF_RECORD, "accounts are the CRM's; the ERP does not announce them", reference
        )
    return UnprocessedItem(kind, Unprocessed.NOT_MAPPED, "no canonical event for this Xero event", reference)
