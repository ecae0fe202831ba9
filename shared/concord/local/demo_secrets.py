"""Documented demo secrets the local stack seeds (README: "Local stack", docs/ingress.md).

They are public on purpose: they protect nothing but a laptop's loopback interface. Real
deployments set their own (`concord secrets set SOURCE` for standard-webhooks sources; the
secret JSON of each vendor scheme is described in docs/ingress.md). Each source's scheme is
read from the `local` stage of cdk.json, the configuration the local stack is built from.
"""

from __future__ import annotations

import base64
import json
from functools import cache
from typing import Any

from ..ingress.schemes import scheme_for
from .template import REPO_ROOT

# The Salesforce organization the local demo allows (an 18-character org id; not a real org).
DEMO_SALESFORCE_ORG_ID = "00DLOCALDEMO000AAA"


def demo_signing_secret(source: str) -> str:
    return "whsec_" + base64.b64encode(f"concord-local-demo-{source}".ljust(24, "!").encode()).decode()


def demo_vendor_secret(source: str, kind: str) -> str:
    """A vendor-style shared secret, e.g. concord-local-demo-hubspot-client-secret."""
    return f"concord-local-demo-{source}-{kind}"


@cache
def local_scheme(source: str) -> str:
    """The scheme of a source in cdk.json's local stage (standard-webhooks when unlisted)."""
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]
    scheme: str = stages.get("local", {}).get("webhook_sources", {}).get(source, {}).get("scheme", "standard-webhooks")
    return scheme


def demo_secret(source: str, scheme: str | None = None) -> dict[str, Any]:
    """The demo secret's JSON value for a source of the given (or its configured) scheme."""
    scheme = scheme or local_scheme(source)
    value: dict[str, Any]
    if scheme == "standard-webhooks":
        value = {"signing_secrets": [demo_signing_secret(source)]}
    elif scheme == "hubspot":
        value = {"client_secrets": [demo_vendor_secret(source, "client-secret")]}
    elif scheme == "xero":
        value = {"webhook_keys": [demo_vendor_secret(source, "webhook-key")]}
    elif scheme == "quickbooks":
        value = {"verifier_tokens": [demo_vendor_secret(source, "verifier-token")]}
    elif scheme == "salesforce":
        value = {
            "organization_ids": [DEMO_SALESFORCE_ORG_ID],
            "endpoint_tokens": [demo_vendor_secret(source, "endpoint-token")],
        }
    elif scheme == "business-central":
        value = {"client_states": [demo_vendor_secret(source, "client-state")]}
    else:
        raise ValueError(f"no demo secret for scheme {scheme!r}")
    scheme_for(scheme).secret_model.model_validate(value)  # a demo secret is a valid one
    return value


def demo_secret_value(source: str) -> str:
    return json.dumps(demo_secret(source))
