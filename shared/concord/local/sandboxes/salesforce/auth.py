"""The OAuth 2.0 token endpoint of an org: client-credentials and JWT-bearer grants.

Client credentials: https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_client_credentials_flow.htm
JWT bearer:         https://help.salesforce.com/s/articleView?id=xcloud.remoteaccess_oauth_jwt_flow.htm
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

from ..kit import OAuthClient, OAuthRefused, Request, Response, Tenant
from ..kit.oauth import CLIENT_CREDENTIALS, JWT_BEARER, check_client_credentials, check_jwt_assertion

ORG_ID = "00DSb0000000001"
USER_ID = "005Sb0000000001"


def token_answer(tenant: Tenant, client: OAuthClient, request: Request) -> Response:
    form = request.form()
    try:
        grant_type = form.get("grant_type")
        if grant_type == CLIENT_CREDENTIALS:
            grant = check_client_credentials(client, form)
        elif grant_type == JWT_BEARER:
            grant = check_jwt_assertion(client, form.get("assertion", ""))
        else:
            raise OAuthRefused("unsupported_grant_type", "grant type not supported")
    except OAuthRefused as refused:
        return Response(400, {"error": refused.error, "error_description": refused.description})
    identity = f"{request.base_url}/{tenant.name}/id/{ORG_ID}/{USER_ID}"
    issued_at = str(int(time.time() * 1000))
    return Response(
        200,
        {
            "access_token": tenant.tokens.issue(grant),
            "signature": _signature(client, identity + issued_at),
            "scope": "api",
            "instance_url": request.tenant_url,
            "id": identity,
            "token_type": "Bearer",
            "issued_at": issued_at,
        },
    )


def _signature(client: OAuthClient, message: str) -> str:
    """Base64 HMAC-SHA256 of id + issued_at keyed with the client secret, as Salesforce signs."""
    key = client.client_secret.get_secret_value() if client.client_secret else client.client_id
    digest = hmac.new(key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()
