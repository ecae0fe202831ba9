"""Documented demo signing secrets the local stack seeds (README: "Local stack").

They are public on purpose: they protect nothing but a laptop's loopback interface. Real
deployments set their own with `concord secrets set SOURCE`.
"""

from __future__ import annotations

import base64
import json


def demo_signing_secret(source: str) -> str:
    return "whsec_" + base64.b64encode(f"concord-local-demo-{source}".ljust(24, "!").encode()).decode()


def demo_secret_value(source: str) -> str:
    return json.dumps({"signing_secrets": [demo_signing_secret(source)]})
