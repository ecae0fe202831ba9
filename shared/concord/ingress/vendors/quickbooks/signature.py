"""QuickBooks Online webhook signatures.

intuit-signature = base64(HMAC-SHA256(verifier token, raw body)); the verifier token is the
one shown for the app's webhooks in Intuit's developer portal (its UTF-8 bytes).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ...delivery import Verified, WebhookRequest
from ...errors import SignatureInvalid, SignatureMissing
from ...scheme import header_value, hmac_sha256_base64, matches_any
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
    offered = header_value(request.headers, SIGNATURE_HEADER)
    if not offered:
        raise SignatureMissing(f"{SIGNATURE_HEADER} is required")
    if not matches_any([signature(token, request.body) for token in secret.verifier_tokens], offered):
        raise SignatureInvalid("intuit-signature does not match any verifier token of this source")
    return Verified()
