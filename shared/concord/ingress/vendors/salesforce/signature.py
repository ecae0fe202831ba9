"""Salesforce Outbound Message authentication.

Outbound Messages are not signed. Salesforce's guidance is to accept messages only from the
organizations you expect (the OrganizationId in every message) over HTTPS. An organization id
is not a secret, though, so Concord also requires a shared token in the endpoint URL that is
configured in Salesforce (`.../webhooks/salesforce?token=...`), compared in constant time.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ...delivery import Verified, WebhookRequest
from ...errors import OrganizationNotAllowed, SignatureInvalid, SignatureMissing
from ...scheme import matches_any
from ...sources import ActiveSecrets

TOKEN_PARAMETER = "token"
OrganizationId = Annotated[str, StringConstraints(pattern=r"^00D[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$")]


class SalesforceSecret(BaseModel):
    """The source's secret: the organizations allowed to send, and the endpoint token(s)."""

    model_config = ConfigDict(extra="forbid")

    organization_ids: Annotated[list[OrganizationId], Field(min_length=1, max_length=50)]
    endpoint_tokens: ActiveSecrets


# https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html
# (notifications(): OrganizationId identifies the sending org; the endpoint answers notificationsResponse)
def verify_token(secret: SalesforceSecret, request: WebhookRequest) -> Verified:
    offered = request.query.get(TOKEN_PARAMETER, "")
    if not offered:
        raise SignatureMissing("the endpoint URL's token query parameter is required")
    if len(offered) > 2048 or not matches_any(secret.endpoint_tokens, offered):
        raise SignatureInvalid("the endpoint token does not match this source")
    return Verified()


def verify_organization(secret: SalesforceSecret, organization_id: str) -> None:
    """15- and 18-character ids name the same org: the first 15 characters are compared."""
    if not matches_any([org[:15] for org in secret.organization_ids], organization_id[:15]):
        raise OrganizationNotAllowed("the sending Salesforce organization is not allowed for this source")
