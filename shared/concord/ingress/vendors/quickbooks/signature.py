"""QuickBooks Online webhook signatures.

intuit-signature = base64(HMAC-SHA256(verifier token, raw body)); the verifier token is the
one shown for the app's webhooks in Intuit's developer portal (its UTF-8 bytes).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ...delivery import Verified, WebhookRequest
from ...scheme import hmac_sha256_base64, verify_body_hmac
from ...sources import ActiveSecrets

SIGNATURE_HEADER = "intuit-signature"


class QuickBooksSecret(BaseModel):
    """The source's secret: the app's webhook verifier token (two while rotating)."""

    model_config = ConfigDict(extra="forbid")

    verifier_tokens: ActiveSecrets


def signature(verifier_token: str, body: bytes) -> str:
    return hmac_sha256_base64(verifier_token.encode(), body)


# https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks
# (validate the intuit-signature header: HMAC-SHA256 of the payload with the verifier token)
def verify(secret: QuickBooksSecret, request: WebhookRequest) -> Verified:
    return verify_body_hmac(request, SIGNATURE_HEADER, secret.verifier_tokens, "verifier token")
