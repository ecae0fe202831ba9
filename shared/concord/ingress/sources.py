"""Configured webhook sources: who may call /webhooks/{source}, and how each is verified.

The CDK stack renders this configuration into the ingest function's WEBHOOK_SOURCES
variable from `cdk.json` context, and creates one Secrets Manager secret per source.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from ..events.envelope import LegalEntity
from ..events.types import System
from .standard_webhooks import is_valid_secret

SourceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")]


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Signature scheme the sender uses.
    scheme: Literal["standard-webhooks"] = "standard-webhooks"
    # Payload shape: "canonical" means the sender already speaks Concord's event format
    # (Concord's own Tryton module does); vendor formats get their own normalizers.
    payload_format: Literal["canonical"] = "canonical"
    # The system this source speaks for; it may only emit events that system is authority for.
    system: System
    # Legal entity used when a delivery does not name one.
    legal_entity: LegalEntity


_SOURCES = TypeAdapter(dict[SourceName, SourceConfig])


def parse_sources(raw: str | dict) -> dict[str, SourceConfig]:
    return _SOURCES.validate_python(json.loads(raw) if isinstance(raw, str) else raw)


def secret_name(prefix: str, source: str) -> str:
    """Secrets Manager name of a source's signing secrets, e.g. `concord/dev/webhooks/crm`."""
    return f"{prefix.rstrip('/')}/{source}"


def _signing_secret(value: str) -> str:
    if not is_valid_secret(value):
        raise ValueError("not a signing secret: expected whsec_ and base64 of at least 16 bytes")
    return value


class WebhookSecret(BaseModel):
    """The secret's JSON value: one signing secret, or two while rotating."""

    model_config = ConfigDict(extra="forbid")

    signing_secrets: Annotated[
        list[Annotated[str, AfterValidator(_signing_secret)]], Field(min_length=1, max_length=2)
    ]
