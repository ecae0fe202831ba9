"""The local stack's SaaS vendors: one sandbox process serving every SaaS tenant (a tenant per
role: `/crm`, `/psa`, each played by its own vendor, e.g. a HubSpot portal and a Kantata
account), and a fault proxy in front of it whose targets are those tenants (`PUT /_faults/crm`
faults the CRM only).

Concord's connectors reach the sandbox through the proxy; people (the scenario drivers) go
straight to the sandbox, as users of the vendor's UI would not share Concord's network path.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from .processes import is_alive, start_detached, stop
from .roles import SANDBOX_OF_KIND
from .template import REPO_ROOT

# The OAuth client every sandbox tenant trusts by default (sandboxes/salesforce/app.py).
SANDBOX_CLIENT_ID = "concord-sandbox"
SANDBOX_CLIENT_SECRET = "concord-sandbox-secret"  # a sandbox's well-known demo credential
# Kantata's sandbox: Concord's static token and the billing status custom field (sandboxes/kantata/app.py).
KANTATA_SANDBOX_TOKEN = "concord-sandbox-token"  # a sandbox's well-known demo credential
KANTATA_BILLING_STATUS_FIELD_ID = 501
# The static token the HubSpot sandbox's app trusts (sandboxes/hubspot/app.py).
HUBSPOT_SANDBOX_TOKEN = "concord-sandbox-static-token"
# Business Central's sandbox: its Entra tenant, environment, company and Concord's app
# (sandboxes/business_central/app.py).
BC_ENTRA_TENANT = "concord-sandbox.onmicrosoft.com"
BC_ENVIRONMENT = "sandbox"
BC_COMPANY_ID = "5b3a0a1e-0d8e-ef11-8a6a-6045bdacc1a1"
BC_CLIENT_ID = "concord-bc-app"
BC_CLIENT_SECRET = "concord-bc-secret"  # a sandbox's well-known demo credential
# The NetSuite sandbox's integration record and its demo certificate (sandboxes/netsuite/app.py).
NETSUITE_CLIENT_ID = "concord-sandbox-integration"
NETSUITE_CERTIFICATE_ID = "concord-sandbox-certificate"
NETSUITE_KEY_SEED = b"concord netsuite sandbox certificate"
# The Dynamics 365 Finance sandbox's registered app (sandboxes/dynamics_finance/app.py).
FINANCE_CLIENT_ID = "concord-sandbox-app"
FINANCE_CLIENT_SECRET = "concord-sandbox-app-secret"  # a sandbox's well-known demo credential
# The QuickBooks sandbox's company (realm) and Concord's app (sandboxes/quickbooks/app.py).
QBO_REALM_ID = "9341453050298"
QBO_CLIENT_ID = "concord-qbo-app"
QBO_CLIENT_SECRET = "concord-qbo-secret"  # a sandbox's well-known demo credential
QBO_FIRST_REFRESH_TOKEN = "qbo-refresh-concord-0"  # a sandbox's well-known demo credential
# The Xero sandbox's organisation and Concord's custom connection (sandboxes/xero/app.py).
XERO_ORGANISATION_ID = "2f8f6c4e-4a5e-4d7b-9e0f-7c3b1a9d5e21"
XERO_CLIENT_ID = "concord-xero-app"
XERO_CLIENT_SECRET = "concord-xero-secret"  # a sandbox's well-known demo credential
# The Workday sandbox's tenant, invoicing company and Concord's ISU (sandboxes/workday/app.py).
WORKDAY_TENANT = "concord_sandbox"
WORKDAY_COMPANY = "US01"
WORKDAY_ISU = "ISU_Concord@concord_sandbox"
WORKDAY_ISU_PASSWORD = "concord-isu-password"  # a sandbox's well-known demo credential


@dataclass(frozen=True)
class VendorSandboxes:
    """The SaaS roles of one stack: `saas` maps role -> kind, e.g. {"crm": "salesforce"}."""

    instance: Path
    host: str
    sandbox_port: int
    faults_port: int
    saas: Mapping[str, str] = field(default_factory=dict)

    @property
    def tenant_vendors(self) -> dict[str, str]:
        """Role (the sandbox tenant) -> the sandbox vendor that plays it."""
        return {role: SANDBOX_OF_KIND[kind] for role, kind in sorted(self.saas.items())}

    @property
    def vendor(self) -> str:
        """The vendors served, for people: `hubspot+kantata`, or `salesforce`."""
        return "+".join(sorted(set(self.tenant_vendors.values())))

    @property
    def sandbox_url(self) -> str:
        """Where people reach the vendor (straight to the sandbox)."""
        return f"http://{self.host}:{self.sandbox_port}"

    @property
    def faults_url(self) -> str:
        """Where Concord's connectors reach the vendor (the fault proxy)."""
        return f"http://{self.host}:{self.faults_port}"

    def _pid_file(self, what: str) -> Path:
        return self.instance / f"{what}.pid"

    def _pid(self, what: str) -> int | None:
        try:
            return int(self._pid_file(what).read_text())
        except (FileNotFoundError, ValueError):
            return None

    def sandbox_pid(self) -> int | None:
        return self._pid("sandbox")

    def faults_pid(self) -> int | None:
        return self._pid("faults")

    def start(self, log_dir: Path) -> None:
        """Start whichever of the sandbox and its fault proxy is not running."""
        self.instance.mkdir(parents=True, exist_ok=True)
        commands = {
            "sandbox": [
                "-m",
                "concord.local.sandboxes",
                "--host",
                self.host,
                "--port",
                str(self.sandbox_port),
                *self.sandbox_tenant_args(),
            ],
            "faults": [
                "-m",
                "concord.local.faults",
                "--host",
                self.host,
                "--port",
                str(self.faults_port),
                "--upstream",
                self.sandbox_url,
            ],
        }
        for what, args in commands.items():
            if not is_alive(self._pid(what)):
                pid = start_detached(
                    [sys.executable, *args],
                    log_dir / f"vendor-{what}.log",
                    {**os.environ, "PYTHONPATH": str(REPO_ROOT / "shared")},
                    cwd=REPO_ROOT,
                )
                self._pid_file(what).write_text(str(pid))

    def sandbox_tenant_args(self) -> list[str]:
        """`--tenant crm=hubspot --tenant psa=kantata`: the sandbox's tenants and their vendors."""
        return [arg for role, vendor in self.tenant_vendors.items() for arg in ("--tenant", f"{role}={vendor}")]

    def sandbox_ready(self) -> bool:
        return _answers(f"{self.sandbox_url}/_sandbox")

    def ready(self) -> bool:
        return self.sandbox_ready() and _answers(f"{self.faults_url}/_faults")

    def connections(self) -> dict[str, str]:
        """The Secrets Manager value of each SaaS role's connection (concord.connectors.registry)."""
        return {role: json.dumps(connection_for(kind, f"{self.faults_url}/{role}")) for role, kind in self.saas.items()}

    def stop(self) -> None:
        for what in ("faults", "sandbox"):
            pid = self._pid(what)
            if pid is not None and is_alive(pid):
                stop(pid)
            self._pid_file(what).unlink(missing_ok=True)

    def status(self) -> dict[str, object]:
        return {
            "roles": dict(self.saas),
            "sandbox": {
                "url": self.sandbox_url,
                "vendor": self.vendor,
                "tenants": self.tenant_vendors,
                "alive": is_alive(self.sandbox_pid()),
            },
            "fault_proxy": {"url": self.faults_url, "alive": is_alive(self.faults_pid())},
        }


def connection_for(kind: str, instance_url: str) -> dict[str, object]:
    """A SaaS role's connection: the org's instance URL and the sandbox's OAuth client (for
    Kantata: the account's API base URL and the sandbox's static token; HubSpot: the portal's
    base URL and its app's static token)."""
    if kind == "kantata":
        return {
            "kind": kind,
            "base_url": f"{instance_url}/api/v1",
            "token": KANTATA_SANDBOX_TOKEN,
            "billing_status_field_id": KANTATA_BILLING_STATUS_FIELD_ID,
        }
    if kind == "netsuite":
        return netsuite_connection(instance_url)
    if kind == "dynamics_finance":
        return dynamics_finance_connection(instance_url)
    if kind == "workday":
        return {
            "kind": kind,
            "host": instance_url,
            "tenant": WORKDAY_TENANT,
            "company_id": WORKDAY_COMPANY,
            "auth": {"type": "isu", "username": WORKDAY_ISU, "password": WORKDAY_ISU_PASSWORD},
        }
    if kind == "hubspot":
        return {
            "kind": kind,
            "base_url": instance_url,
            "default_currency": "USD",
            "auth": {"type": "static_token", "token": HUBSPOT_SANDBOX_TOKEN},
        }
    if kind == "quickbooks":
        return quickbooks_connection(instance_url)
    if kind == "xero":
        return {
            "kind": kind,
            "tenant_id": XERO_ORGANISATION_ID,
            "client_id": XERO_CLIENT_ID,
            "client_secret": XERO_CLIENT_SECRET,
            "api_url": f"{instance_url}/api.xro/2.0",
            "token_url": f"{instance_url}/connect/token",
            # At Xero's own 60 calls a minute, a local function waits its turn rather than fail.
            "rate": {"max_wait_seconds": 20},
        }
    if kind == "business_central":
        return {
            "kind": kind,
            "tenant_id": BC_ENTRA_TENANT,
            "environment": BC_ENVIRONMENT,
            "company_id": BC_COMPANY_ID,
            "client_id": BC_CLIENT_ID,
            "client_secret": BC_CLIENT_SECRET,
            "local_currency": "USD",
            "api_url": instance_url,
            "login_url": instance_url,
        }
    connection: dict[str, object] = {
        "kind": kind,
        "instance_url": instance_url,
        "auth": {"type": "client_credentials", "client_id": SANDBOX_CLIENT_ID, "client_secret": SANDBOX_CLIENT_SECRET},
    }
    if kind == "certinia":
        connection["org"] = "separate"  # the PSA is its own org, not the CRM's
    return connection


def quickbooks_connection(instance_url: str) -> dict[str, object]:
    """The sandbox company and Concord's app with its install's first refresh token
    (sandboxes/quickbooks/app.py); Concord writes each rotated one back to the secret."""
    return {
        "kind": "quickbooks",
        "realm_id": QBO_REALM_ID,
        "client_id": QBO_CLIENT_ID,
        "client_secret": QBO_CLIENT_SECRET,
        "refresh_token": QBO_FIRST_REFRESH_TOKEN,
        "home_currency": "USD",
        "api_url": instance_url,
        "token_url": f"{instance_url}/oauth2/v1/tokens/bearer",
    }


def netsuite_demo_private_key() -> str:
    """The PEM private key of the NetSuite sandbox's demo certificate, derived from its
    well-known seed (a demo credential: no key file to keep)."""
    key = ec.derive_private_key(int.from_bytes(hashlib.sha256(NETSUITE_KEY_SEED).digest(), "big"), ec.SECP256R1())
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def netsuite_connection(account_url: str) -> dict[str, object]:
    """The sandbox account's integration record and demo certificate, with the custom
    transaction column the sandbox account has."""
    pem = netsuite_demo_private_key()
    return {
        "kind": "netsuite",
        "account_id": "SANDBOX",
        "base_url": f"{account_url}/services/rest",
        "auth": {
            "client_id": NETSUITE_CLIENT_ID,
            "certificate_id": NETSUITE_CERTIFICATE_ID,
            "private_key": pem,
            "algorithm": "ES256",
        },
        "fields": {"concord_ref_column": "custcol_concord_ref"},
    }


def dynamics_finance_connection(environment_url: str) -> dict[str, object]:
    """The sandbox environment's app, its token endpoint, its companies and reference data, and the
    line extension field the sandbox environment has."""
    return {
        "kind": "dynamics_finance",
        "environment_url": environment_url,
        "tenant_id": "common",
        "token_url": f"{environment_url}/common/oauth2/v2.0/token",
        "auth": {"client_id": FINANCE_CLIENT_ID, "client_secret": FINANCE_CLIENT_SECRET},
        "default_company": "usmf",
        "companies": {"us-01": "usmf", "uk-01": "gbsi"},
        "customer_group": "30",
        "service_items": {
            "CONSULT-HR": {"main_account": "401100", "unit_price": 150},
            "EXP-REBILL": {"main_account": "401200", "unit_price": 0},
        },
        "fields": {"concord_ref": "ConcordLineRef"},
    }


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False
