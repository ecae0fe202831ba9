"""Salesforce Change Data Capture events, as Event Relay puts them on an EventBridge partner
bus → ChangeNotified notices (ids only: enrichment reads the records).

Event Relay relays a channel of change events to the partner event source
`aws.partner/salesforce.com/<org id>/<channel id>` (EventRelayFeedback.RemoteResource:
https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_eventrelayfeedback.htm),
which is also the `source` of every event on that bus. The change event message is
{ChangeEventHeader: {entityName, changeType, recordIds, commitTimestamp, ...}, <fields>}
(https://developer.salesforce.com/docs/atlas.en-us.change_data_capture.meta/change_data_capture/cdc_message_structure.htm);
it is read from `detail.payload`, or from `detail` itself as Amazon AppFlow relays it
(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-saas-salesforce.html).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from ....errors import ValidationFailed
from ....events.payloads import ChangeNotified
from ...sources import SOURCE_NAME_PATTERN

PARTNER_BUS_PATTERN = r"^aws\.partner/salesforce\.com/[A-Za-z0-9]{15,18}/[A-Za-z0-9_.-]{1,128}$"
# The sObjects whose changes Concord announces: the role whose records they are, and the record
# type that role's ChangeSource polls. A relay announces only its own role's objects (a
# separate Certinia org's client Accounts are not the CRM's customers).
ENTITIES: dict[str, tuple[Literal["crm", "psa"], str]] = {
    "Account": ("crm", "customer"),
    "Opportunity": ("crm", "opportunity"),
    "pse__Timecard_Header__c": ("psa", "time_entry"),
}
# A deleted record has nothing left to announce (the ERP keeps what it was given). GAP_OVERFLOW
# names no records: the poll of that record type closes the gap.
IGNORED_CHANGES = frozenset({"DELETE", "GAP_DELETE", "GAP_OVERFLOW"})
MAX_IDS = 200  # per ChangeNotified


class EventRelay(BaseModel):
    """One relay of a Salesforce org's change events to EventBridge, and whose records they are."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The partner event bus (named as the partner event source it is associated with). When
    # Certinia shares the CRM's org, one bus carries both roles' objects: one relay per role.
    event_bus_name: Annotated[str, StringConstraints(pattern=PARTNER_BUS_PATTERN)]
    system: Literal["crm", "psa"]
    # The webhook source whose event ids the announced events take (as polling's watch does).
    source: Annotated[str, StringConstraints(pattern=SOURCE_NAME_PATTERN)] = "salesforce"


_RELAYS = TypeAdapter(list[EventRelay])


def parse_relays(raw: str | Sequence[Any]) -> dict[str, dict[str, EventRelay]]:
    """Relays by their partner bus name (= the `source` of the events they relay), then by role;
    a role named twice for one bus is refused (which source's event ids would it take?)."""
    by_bus: dict[str, dict[str, EventRelay]] = {}
    for relay in _RELAYS.validate_python(json.loads(raw) if isinstance(raw, str) else raw):
        roles = by_bus.setdefault(relay.event_bus_name, {})
        if relay.system in roles:
            raise ValueError(f"two relays for the {relay.system.upper()} on {relay.event_bus_name}")
        roles[relay.system] = relay
    return by_bus


class ChangeEventHeader(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    entityName: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")]
    changeType: Annotated[str, StringConstraints(pattern=r"^[A-Z_]{1,32}$")]
    recordIds: Annotated[list[Annotated[str, Field(max_length=18)]], Field(max_length=10_000)] = []
    commitTimestamp: int | None = None


def _header(detail: Mapping[str, Any]) -> Mapping[str, Any]:
    payload = detail.get("payload")
    carrier = payload if isinstance(payload, Mapping) else detail
    header = carrier.get("ChangeEventHeader")
    if not isinstance(header, Mapping):
        raise ValidationFailed("not a Salesforce change event: no ChangeEventHeader in detail.payload or detail")
    return header


def change_notices(relays: Mapping[str, EventRelay], detail: Mapping[str, Any]) -> list[ChangeNotified]:
    """The notices one change event from a bus (whose relays by role are `relays`) amounts to:
    none for a change Concord does not announce (another object, another role's, a delete),
    else one per MAX_IDS of its record ids."""
    try:
        header = ChangeEventHeader.model_validate(_header(detail))
    except ValidationError as error:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in error.errors(include_input=False)})
        raise ValidationFailed(f"Salesforce ChangeEventHeader invalid at: {', '.join(fields)}") from None
    system, record_type = ENTITIES.get(header.entityName, (None, None))
    relay = relays.get(system) if system else None
    if relay is None or record_type is None or header.changeType in IGNORED_CHANGES or not header.recordIds:
        return []
    ids = header.recordIds
    return [
        ChangeNotified(
            system=relay.system,
            record_type=record_type,
            record_ids=ids[start : start + MAX_IDS],
            vendor_source=relay.source,
        )
        for start in range(0, len(ids), MAX_IDS)
    ]
