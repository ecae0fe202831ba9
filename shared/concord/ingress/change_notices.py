"""The enrichment flow's messages: ChangeNotified from Concord's bus, or a Salesforce change
event an Event Relay put on a partner bus (configured in SALESFORCE_EVENT_RELAYS)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import Field

from ..aws.consumer import BusEvent
from ..aws.flows import FlowSettings
from ..errors import ValidationFailed
from ..events.envelope import ChangeNotifiedEvent
from ..events.payloads import ChangeNotified
from ..events.versions import parse_event
from .vendors.salesforce.change_events import EventRelay, change_notices, parse_relays


class EnrichmentSettings(FlowSettings):
    # JSON list of change_events.EventRelay; empty when no org relays its changes.
    salesforce_event_relays: str = Field(default="[]", alias="SALESFORCE_EVENT_RELAYS")
    # Change capture's checkpoints: a notice without ids is read from there (a delta read).
    checkpoints_table_name: str | None = Field(default=None, alias="CHECKPOINTS_TABLE_NAME")


def notice_parser(relays: Mapping[str, Mapping[str, EventRelay]]) -> Callable[[SQSRecord], list[ChangeNotified]]:
    """Reads one queued message into its notices (pydantic's ValidationError or ValidationFailed
    for a malformed one, which the consumer records and parks)."""

    def parse(record: SQSRecord) -> list[ChangeNotified]:
        bus_event = BusEvent.model_validate_json(record.body)
        relayed = relays.get(bus_event.source)
        if relayed is not None:
            return change_notices(relayed, bus_event.detail)
        event = parse_event(bus_event.detail)
        if not isinstance(event, ChangeNotifiedEvent):
            raise ValidationFailed(f"{event.type} from {bus_event.source[:80]} is not a change notice")
        return [event.data]

    return parse


def relays_of(settings: EnrichmentSettings) -> dict[str, dict[str, EventRelay]]:
    return parse_relays(settings.salesforce_event_relays)
