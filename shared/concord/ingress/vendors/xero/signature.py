"""Xero webhook signatures.

x-xero-signature = base64(HMAC-SHA256(webhook key, raw body)); the webhook key is used as
given by Xero (its UTF-8 bytes). A correctly signed delivery is answered 200 with an empty
body and an incorrectly signed one 401: that is also Xero's "intent to receive" check.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ...delivery import Verified, WebhookRequest
from ...scheme import hmac_sha256_base64, verify_body_hmac
from ...sources import ActiveSecrets

SIGNATURE_HEADER = "x-xero-signature"


class XeroSecret(BaseModel):
    """The source's secret: the app's webhook key (two while rotating)."""

    model_config = ConfigDict(extra="forbid")

    webhook_keys: ActiveSecrets


def signature(webhook_key: str, body: bytes) -> str:
    return hmac_sha256_base64(webhook_key.encode(), body)


# https://developer.xero.com/documentation/guides/webhooks/overview/
# (x-xero-signature; intent to receive: 200 for a correct signature, 401 otherwise)
def verify(secret: XeroSecret, request: WebhookRequest) -> Verified:
    return verify_body_hmac(request, SIGNATURE_HEADER, secret.webhook_keys, "webhook key")
