"""What flows through ingress: the request, what verification and normalization made of it,
and the answer the sender gets. Transport-neutral: the Lambda handler maps these to HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from ..aws.bus import BusEntry, bus_entry
from ..events import Envelope


@dataclass(frozen=True)
class WebhookRequest:
    source: str
    headers: Mapping[str, str]  # names lower-cased
    body: bytes
    method: str = "POST"
    # The URL as the sender called it (HubSpot v3 signs it); see ingress.http.public_url.
    url: str = ""
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verified:
    """What a verifier vouches for: the delivery id if the scheme sends one, its signed time."""

    delivery_id: str | None = None
    timestamp: dt.datetime | None = None


class Unprocessed(StrEnum):
    """Why an authentic vendor notification produced no canonical event (it is recorded)."""

    # A canonical event is due, but the webhook carries ids only: the record must be read
    # from the vendor's API first (content enricher), which ingress does not do.
    NEEDS_ENRICHMENT = "needs_enrichment"
    # The object belongs to another system of record (e.g. an ERP contact: accounts are the CRM's).
    NOT_SYSTEM_OF_RECORD = "not_system_of_record"
    # No canonical event corresponds to this vendor event type (or the type is unknown).
    NOT_MAPPED = "not_mapped"
    # The vendor record's fields do not satisfy the canonical model (named, never echoed);
    # one bad record does not block the others of its batch.
    INVALID_FIELDS = "invalid_fields"


@dataclass(frozen=True)
class UnprocessedItem:
    vendor_event_type: str
    reason: Unprocessed
    detail: str
    # Where the vendor object can be read, e.g. "realm/123/invoice/45" or a resource URL.
    reference: str
    # What it may become once enriched (empty unless reason is needs_enrichment).
    canonical_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Normalized:
    """A verified delivery as canonical events plus what could not (yet) become one."""

    delivery_id: str
    # Hash the delivery id is remembered with: the same id with other content is a conflict.
    content_sha256: str
    events: tuple[Envelope, ...] = ()
    unprocessed: tuple[UnprocessedItem, ...] = ()


@dataclass(frozen=True)
class Reply:
    """The answer a sender gets (success, handshake, or acknowledgement)."""

    status: int
    content_type: str
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Handshake:
    """A subscription handshake answered before any delivery logic (nothing is recorded)."""

    reply: Reply


@dataclass(frozen=True)
class AcceptedDelivery:
    source: str
    delivery_id: str
    body_sha256: str
    events: tuple[Envelope, ...]
    unprocessed: tuple[UnprocessedItem, ...] = ()
    scheme: str = "standard-webhooks"

    @property
    def event(self) -> Envelope:
        """The one event of a single-event delivery (the canonical format has exactly one)."""
        return self.events[0]

    @cached_property
    def bus_entries(self) -> tuple[BusEntry, ...]:
        """The events as PutEvents entries, serialized once (size check, idempotency record, PutEvents)."""
        return tuple([bus_entry(event) for event in self.events])

    @property
    def has_effect(self) -> bool:
        """False for deliveries that carry nothing (e.g. Xero's intent-to-receive check)."""
        return bool(self.events or self.unprocessed)
