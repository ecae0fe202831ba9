"""Event versions: each version's status, the upcasters between them, and the one parser.

A breaking change to an event type is a new version beside the old one (docs/governance.md,
"Versioned events and deprecation"). Each version is current (the one producers publish; one per type),
deprecated (still accepted until its sunset date; producing or receiving it raises the
DeprecatedEventVersion metric, which infra alarms on at low severity) or retired (refused: the
message is parked with that reason). An upcaster turns version n into n + 1, so a consumer
sees the version it declares it accepts; what no chain of upcasters makes acceptable is refused.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from ..errors import ValidationFailed
from .envelope import (
    EVENT_MODEL_BY_TYPE,
    EVENT_MODEL_BY_VERSION,
    Envelope,
    OpportunityClosedWonEvent,
    OpportunityClosedWonV1Event,
    validate_event,
)
from .payloads import DEFAULT_CONTRACT_TYPE

DEPRECATED_METRIC = "DeprecatedEventVersion"


class Status(StrEnum):
    CURRENT = "current"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


@dataclass(frozen=True)
class EventVersion:
    event_type: str
    version: int
    status: Status
    sunset: dt.date | None = None  # a deprecated version's announced retirement day

    def __post_init__(self) -> None:
        if (self.status is Status.DEPRECATED) != (self.sunset is not None):
            raise ValueError(f"{self.event_type} v{self.version}: a sunset date belongs to a deprecated version only")

    @property
    def label(self) -> str:
        """How the catalog shows it: `v1 deprecated (sunset 2027-06-30)`."""
        sunset = f" (sunset {self.sunset.isoformat()})" if self.sunset else ""
        return f"v{self.version} {self.status.value}{sunset}"


@dataclass(frozen=True)
class Upcaster[S: Envelope, T: Envelope]:
    """One breaking step of a type: its version `source` → the next, `target`."""

    source: type[S]
    target: type[T]
    function: Callable[[S], T]

    def apply(self, event: Envelope) -> Envelope:
        if not isinstance(event, self.source):
            raise TypeError(f"{self.function.__name__} takes {self.source.__name__}, not {type(event).__name__}")
        return self.function(event)


def opportunity_closed_won_v1_to_v2(event: OpportunityClosedWonV1Event) -> OpportunityClosedWonEvent:
    """v1 said nothing of the contract: it is DEFAULT_CONTRACT_TYPE (time and materials, how
    every deal was billed before v2), and nobody is named as its billing owner (None: the ERP's
    own default billing contact stays)."""
    envelope = event.model_dump(exclude={"version", "data"})
    data = event.data.model_dump() | {"contract_type": DEFAULT_CONTRACT_TYPE, "billing_owner": None}
    return OpportunityClosedWonEvent.model_validate(envelope | {"data": data})


UPCASTERS: tuple[Upcaster[Any, Any], ...] = (
    Upcaster(OpportunityClosedWonV1Event, OpportunityClosedWonEvent, opportunity_closed_won_v1_to_v2),
)

# Every version not named here is current. A version is deprecated with the day it will be
# retired; a retired one stays in the registry (and its schema) so that it is refused by name.
_DECLARED = (EventVersion("OpportunityClosedWon", 1, Status.DEPRECATED, sunset=dt.date(2027, 6, 30)),)

VERSIONS: dict[tuple[str, int], EventVersion] = {
    key: EventVersion(*key, Status.CURRENT) for key in EVENT_MODEL_BY_VERSION
} | {(v.event_type, v.version): v for v in _DECLARED}

_UPCASTER_FROM: dict[tuple[str, int], Upcaster[Any, Any]] = {
    (u.source.model_fields["type"].default, u.source.model_fields["version"].default): u for u in UPCASTERS
}

# What a consumer accepts, by event type; a type it does not name is accepted at its current version.
Accepts = Mapping[str, frozenset[int]]
# Every version that is not retired, as it was sent (the audit trail records what was published).
AS_SENT: Accepts = {
    event_type: frozenset(n for (t, n), v in VERSIONS.items() if t == event_type and v.status is not Status.RETIRED)
    for event_type in EVENT_MODEL_BY_TYPE
}


def versions_of(event_type: str) -> list[EventVersion]:
    return sorted((v for v in VERSIONS.values() if v.event_type == event_type), key=lambda v: v.version)


def current_version(event_type: str) -> int:
    return next(v.version for v in versions_of(event_type) if v.status is Status.CURRENT)


def _check_registry() -> None:
    """At import: one current version per type, the newest (what EVENT_MODEL_BY_TYPE builds);
    an upcaster from every older version that is still accepted to the next one."""
    for event_type, newest in EVENT_MODEL_BY_TYPE.items():
        versions = versions_of(event_type)
        current = [v.version for v in versions if v.status is Status.CURRENT]
        if current != [newest.model_fields["version"].default]:
            raise TypeError(f"{event_type}: current versions {current}, newest model {newest.__name__}")
        for older in versions[:-1]:
            step = _UPCASTER_FROM.get((event_type, older.version))
            if older.status is not Status.RETIRED and (
                step is None or step.target.model_fields["version"].default != older.version + 1
            ):
                raise TypeError(
                    f"{event_type} v{older.version} is accepted but has no upcaster to v{older.version + 1}"
                )


_check_registry()


def record_deprecated(event_type: str, version: int) -> None:
    """The DeprecatedEventVersion metric, by type and version (and the function's service,
    which Powertools adds; infra's alarm sums every series). Only in a function (every one has
    a metrics namespace): an operator command reading recorded events produces nothing, and
    its output stays its own."""
    if not os.environ.get("POWERTOOLS_METRICS_NAMESPACE"):
        return
    with single_metric(name=DEPRECATED_METRIC, unit=MetricUnit.Count, value=1) as metric:
        metric.add_dimension(name="type", value=event_type)
        metric.add_dimension(name="version", value=str(version))


def retired_reason(event: Envelope) -> str | None:
    """Why `event` is refused for its version (None: its version is accepted)."""
    if VERSIONS[(event.type, event.version)].status is not Status.RETIRED:
        return None
    return f"{event.type} v{event.version} is retired: its producer must publish v{current_version(event.type)}"


def check_version(event: Envelope) -> None:
    """Refuse a retired version (ValidationFailed); count a deprecated one. Run where events are
    produced (concord.aws.bus.bus_entry) and received (parse_event)."""
    if reason := retired_reason(event):
        raise ValidationFailed(reason)
    if VERSIONS[(event.type, event.version)].status is Status.DEPRECATED:
        record_deprecated(event.type, event.version)


def upcast(event: Envelope, accepted: frozenset[int]) -> Envelope:
    """`event` at the first version in `accepted` its upcasters reach (ValidationFailed if none)."""
    seen = event.version
    while event.version not in accepted:
        step = _UPCASTER_FROM.get((event.type, event.version))
        if step is None:
            raise ValidationFailed(
                f"{event.type} v{seen} cannot be read as a version this consumer accepts ({_listed(accepted)})"
            )
        event = step.apply(event)
    return event


def as_current(event: Envelope) -> Envelope:
    """`event` upcast to its type's current version (what the consumers' mappers see)."""
    return upcast(event, frozenset({current_version(event.type)}))


def parse_event(raw: dict[str, Any] | str | bytes, accepts: Accepts | None = None) -> Envelope:
    """A received canonical event as its consumer accepts it: validated at the version it was
    sent (pydantic.ValidationError for an unknown type or version, or an invalid event),
    refused if retired, counted if deprecated, then upcast to an accepted version."""
    event = validate_event(raw)
    check_version(event)
    accepted = (accepts or {}).get(event.type) or frozenset({current_version(event.type)})
    return upcast(event, accepted)


def _listed(versions: frozenset[int]) -> str:
    return ", ".join(f"v{n}" for n in sorted(versions))


def markdown_versions(event_type: str) -> str:
    """The versions cell of docs/architecture.md's event catalog."""
    return "; ".join(v.label for v in reversed(versions_of(event_type)))
