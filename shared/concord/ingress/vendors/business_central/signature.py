"""Business Central webhook authentication: the subscription's clientState.

Business Central does not sign notifications. A subscription is created with a clientState
(up to 2048 characters) that Business Central returns in every notification: used as a shared
secret, it is compared in constant time on every item. Creating or renewing a subscription
first sends a handshake, `?validationToken=...`, which must be echoed as text/plain with 200.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from ...delivery import Handshake, Reply, WebhookRequest
from ...errors import InvalidEvent, InvalidHandshake, SignatureInvalid, SignatureMissing
from ...scheme import matches_any
from ...sources import ActiveSecrets

VALIDATION_TOKEN = "validationToken"
MAX_TOKEN_LENGTH = 1024
_TOKEN = re.compile(rf"^[!-~]{{1,{MAX_TOKEN_LENGTH}}}$")


class BusinessCentralSecret(BaseModel):
    """The source's secret: the clientState Concord's subscriptions are created with (two while rotating)."""

    model_config = ConfigDict(extra="forbid")

    client_states: ActiveSecrets


# https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
# (handshake: return validationToken in the body with 200; clientState comes with every notification)
def handshake(request: WebhookRequest) -> Handshake | None:
    if VALIDATION_TOKEN not in request.query:
        return None
    token = request.query[VALIDATION_TOKEN]
    if not _TOKEN.match(token):
        raise InvalidHandshake(f"validationToken must be 1 to {MAX_TOKEN_LENGTH} printable ASCII characters")
    return Handshake(
        Reply(status=200, content_type="text/plain", body=token, headers={"X-Content-Type-Options": "nosniff"})
    )


def notification_items(payload: Any) -> Sequence[dict[str, Any]]:
    value = payload.get("value") if isinstance(payload, dict) else None
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise InvalidEvent('body is not a Business Central notification: expected {"value": [...]}')
    return value


# https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/dynamics-subscriptions
# (clientState: "a shared secret, enabling the subscriber to verify notifications")
def verify_client_states(secret: BusinessCentralSecret, items: Sequence[dict[str, Any]]) -> None:
    """Every item must carry one of the source's clientStates; one bad item refuses the delivery,
    and so does a delivery without items (it carries no clientState to authenticate it)."""
    if not items:
        raise SignatureMissing("a notification must carry the subscription's clientState: the value list is empty")
    for item in items:
        client_state = item.get("clientState")
        if not isinstance(client_state, str) or not client_state:
            raise SignatureMissing("every notification must carry the subscription's clientState")
        if not matches_any(secret.client_states, client_state[:4096]):
            raise SignatureInvalid("a notification's clientState does not match this source")
