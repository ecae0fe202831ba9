"""The connectors' rendering of a canonical event: the requests each connector's mappers make."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any

from ..errors import PermanentError
from ..events import Envelope
from ..observability import logger
from .inputs import MappingConfig
from .requests import VendorRequest, stable_text
from .vendors import CONNECTORS

Renderer = Callable[[Envelope, MappingConfig], list[VendorRequest]]


@cache
def renderer(connector: str) -> Renderer:
    """The `render` of one of CONNECTORS, its module imported on first use."""
    if connector not in CONNECTORS:
        raise KeyError(f"no renderer for connector {connector!r}")
    return importlib.import_module(f"{__package__}.vendors.{connector}").render  # type: ignore[no-any-return]


def render_event(event: Envelope, config: MappingConfig) -> dict[str, Any]:
    """By connector of the configuration (`config.connectors`): the requests its mappers make for
    `event` ({"requests": [...]}), or why they refuse it ({"refused": reason}, as the flow would
    park it); connectors that send nothing are left out."""
    rendered: dict[str, Any] = {}
    for name in config.connectors:
        try:
            requests = renderer(name)(event, config)
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
