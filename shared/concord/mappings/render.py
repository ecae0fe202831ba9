"""Every connector's rendering of a canonical event: the registry of renderers, one line each."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import PermanentError
from ..events import Envelope
from ..observability import logger
from .inputs import MappingConfig
from .requests import VendorRequest, stable_text
from .vendors import (
    business_central,
    certinia,
    dynamics_finance,
    hubspot,
    kantata,
    netsuite,
    quickbooks,
    salesforce,
    tryton,
    workday,
    xero,
)

Renderer = Callable[[Envelope, MappingConfig], list[VendorRequest]]

# One line per connector whose mappers build request bodies as functions of their inputs.
RENDERERS: dict[str, Renderer] = {
    "business_central": business_central.render,
    "certinia": certinia.render,
    "dynamics_finance": dynamics_finance.render,
    "hubspot": hubspot.render,
    "kantata": kantata.render,
    "netsuite": netsuite.render,
    "quickbooks": quickbooks.render,
    "salesforce": salesforce.render,
    "tryton": tryton.render,
    "workday": workday.render,
    "xero": xero.render,
}


def render_event(event: Envelope, config: MappingConfig) -> dict[str, Any]:
    """By connector: the requests its mappers make for `event` ({"requests": [...]}), or why they
    refuse it ({"refused": reason}, as the flow would park it); connectors that send nothing are
    left out."""
    rendered: dict[str, Any] = {}
    for name, render in sorted(RENDERERS.items()):
        try:
            requests = render(event, config)
        except PermanentError as refusal:
            rendered[name] = {"refused": str(refusal)}
            continue
        if requests:
            rendered[name] = {"requests": [request.model_dump(mode="json") for request in requests]}
    return rendered


def rendering(event: Envelope, config: MappingConfig) -> str:
    """`render_event` as stable text: what golden files hold and the audit trail keeps."""
    return stable_text(render_event(event, config))


# A rendering the audit trail keeps stays well inside DynamoDB's 400 KB item (the event is in it
# too); a larger one is not kept, and `concord mappings diff` says the event was not compared.
MAX_KEPT_RENDERING = 64 * 1024


def rendering_to_keep(event: Envelope, config: MappingConfig | None) -> str | None:
    """The rendering the audit trail keeps with `event`: None without a mapping configuration,
    when too large, or when a renderer fails (the event is recorded all the same)."""
    if config is None:
        return None
    try:
        text = rendering(event, config)
    except Exception:  # noqa: BLE001 - a renderer's bug must not keep the event out of the audit trail
        logger.exception("mappings could not render the event", extra={"event_type": event.type})
        return None
    return text if len(text.encode()) <= MAX_KEPT_RENDERING else None
