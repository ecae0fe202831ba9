"""Configured webhook sources: who may call /webhooks/{source}, and how each is verified.

The CDK stack renders this configuration into the ingest function's WEBHOOK_SOURCES
variable from `cdk.json` context, and creates one Secrets Manager secret per source.
A source names its signature `scheme` (Standard Webhooks, or a vendor's own) and its
`payload_format`: "canonical" for senders that already speak Concord's event format, or the
vendor's format, which the vendor's normalizer maps to canonical events.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    TypeAdapter,
    model_validator,
)

from ..events.envelope import LegalEntity
from ..events.types import System
from .standard_webhooks import is_valid_secret

SourceName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")]
SOURCE_NAME_PATTERN = r"^[a-z][a-z0-9-]{0,31}$"

SchemeName = Literal["standard-webhooks", "hubspot", "xero", "quickbooks", "salesforce", "business-central"]
PayloadFormat = Literal["canonical", "hubspot", "xero", "quickbooks", "salesforce", "business-central"]
SCHEME_NAMES: tuple[str, ...] = get_args(SchemeName)

# The system each vendor is (it may only announce what that system is authority for).
VENDOR_SYSTEMS: dict[str, System] = {
    "hubspot": System.CRM,
    "salesforce": System.CRM,
    "xero": System.ERP,
    "quickbooks": System.ERP,
    "business-central": System.ERP,
}

PublicUrl = Annotated[str, StringConstraints(pattern=r"^https?://[!-~]+$", max_length=2048)]


class SourceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Signature scheme the sender uses.
    scheme: SchemeName = "standard-webhooks"
    # Payload shape: "canonical" means the sender already speaks Concord's event format
    # (Concord's own Tryton module does); a vendor's format is normalized by its mapper.
    # Defaults to the scheme's own format.
    payload_format: PayloadFormat = "canonical"
    # The system this source speaks for; it may only emit events that system is authority for.
    system: System
    # Legal entity used when a delivery does not name one.
    legal_entity: LegalEntity
    # The URL the vendor calls, when it signs it (HubSpot v3) and a proxy or custom domain
    # hides it from the function; otherwise it is rebuilt from Host and the request path.
    public_url: PublicUrl | None = None
    # API Gateway throttle of this source's route (requests per second, burst); unset, the
    # stage's limits apply to it on its own, so one noisy vendor cannot starve the others.
    rate_limit: PositiveInt | None = None
    burst_limit: PositiveInt | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_format(cls, data: Any) -> Any:
        if isinstance(data, dict) and "payload_format" not in data:
            scheme = data.get("scheme", "standard-webhooks")
            data = {**data, "payload_format": "canonical" if scheme == "standard-webhooks" else scheme}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> SourceConfig:
        if self.scheme == "standard-webhooks":
            if self.payload_format != "canonical":
                raise ValueError("a standard-webhooks source sends the canonical payload format")
            return self
        if self.payload_format != self.scheme:
            raise ValueError(f"a {self.scheme} source sends the {self.scheme} payload format")
        if self.system != VENDOR_SYSTEMS[self.scheme]:
            raise ValueError(f"{self.scheme} is a {VENDOR_SYSTEMS[self.scheme].value}, not a {self.system.value}")
        return self


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
    """A standard-webhooks source's secret JSON value: one signing secret, or two while rotating."""

    model_config = ConfigDict(extra="forbid")

    signing_secrets: Annotated[list[Annotated[str, AfterValidator(_signing_secret)]], Field(min_length=1, max_length=2)]


# A vendor-issued shared secret (client secret, webhook key, verifier token, clientState):
# printable ASCII without spaces, long enough not to be guessed.
VendorSecret = Annotated[str, StringConstraints(pattern=r"^[!-~]{16,2048}$")]
# One active value, or two while rotating (old and new both verify until the old is dropped).
ActiveSecrets = Annotated[list[VendorSecret], Field(min_length=1, max_length=2)]
