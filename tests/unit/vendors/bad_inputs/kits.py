"""What the catalog is built from: each scheme's credentials and a kit per scheme that makes
a valid body and signs a request genuinely."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import senders
from ..senders import JSON, XML, Sent


@dataclass(frozen=True)
class Credentials:
    crm_secret: str
    hubspot_secret: str
    xero_key: str
    quickbooks_token: str
    salesforce_token: str
    salesforce_org: str
    business_central_state: str


@dataclass(frozen=True)
class Kit:
    scheme: str
    source: str
    format: str  # json | xml
    valid: Callable[[], bytes]
    sign: Callable[..., Sent]  # sign(body, content_type=...) → a genuinely credentialed request
    body_signed: bool  # whether the credential covers the body


def kits(c: Credentials, url_of: Callable[[str], str]) -> list[Kit]:
    return [
        Kit(
            "standard-webhooks",
            "crm",
            "json",
            lambda: senders.canonical_body(),
            lambda body, content_type=JSON: senders.standard_webhooks(
                "crm", c.crm_secret, body, content_type=content_type
            ),
            True,
        ),
        Kit(
            "hubspot",
            "hubspot",
            "json",
            lambda: senders.hubspot_events(),
            lambda body, content_type=JSON: senders.hubspot(
                "hubspot", c.hubspot_secret, body, url_of("hubspot"), content_type=content_type
            ),
            True,
        ),
        Kit(
            "xero",
            "xero",
            "json",
            lambda: senders.xero_payload(senders.xero_event()),
            lambda body, content_type=JSON: senders.xero("xero", c.xero_key, body, content_type=content_type),
            True,
        ),
        Kit(
            "quickbooks",
            "quickbooks",
            "json",
            lambda: senders.quickbooks_legacy(),
            lambda body, content_type=JSON: senders.quickbooks(
                "quickbooks", c.quickbooks_token, body, content_type=content_type
            ),
            True,
        ),
        Kit(
            "salesforce",
            "salesforce",
            "xml",
            lambda: senders.salesforce_message(c.salesforce_org),
            lambda body, content_type=XML: senders.salesforce(
                "salesforce", c.salesforce_token, body, content_type=content_type
            ),
            False,
        ),
        Kit(
            "business-central",
            "businesscentral",
            "json",
            lambda: senders.business_central_payload(c.business_central_state),
            lambda body, content_type=JSON: senders.business_central(
                "businesscentral", body, content_type=content_type
            ),
            False,
        ),
    ]
