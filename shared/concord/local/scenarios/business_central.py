"""What finance does in Business Central, scripted: the demo's and the tests' finance user when
the stack runs `--systems erp=business_central`.

Plain REST calls against the sandbox (straight to it, not through Concord's fault proxy), signed
in as finance's own Entra app: no connector code, so the scenario checks the connector rather
than sharing its mistakes. Finance has the FinanceRole shape (scenarios/__init__.py).
API: https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx

from ..vendors import BC_COMPANY_ID, BC_ENTRA_TENANT, BC_ENVIRONMENT, VendorSandboxes
from . import raise_with_body

SCOPE = "https://api.businesscentral.dynamics.com/.default"
FINANCE_CLIENT_ID = "concord-bc-finance"  # the sandbox's finance app (sandboxes/business_central/app.py)
FINANCE_CLIENT_SECRET = "concord-bc-finance-secret"  # a sandbox's well-known demo credential


class CompanySession:
    """Finance signed in to one company (client credentials, then bearer calls)."""

    def __init__(self, tenant_url: str, *, company_id: str = BC_COMPANY_ID, timeout: float = 10.0) -> None:
        # https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
        token = httpx.post(
            f"{tenant_url}/{BC_ENTRA_TENANT}/oauth2/v2.0/token",
            timeout=timeout,
            trust_env=False,
            data={
                "grant_type": "client_credentials",
                "client_id": FINANCE_CLIENT_ID,
                "client_secret": FINANCE_CLIENT_SECRET,
                "scope": SCOPE,
            },
        )
        token.raise_for_status()
        root = f"{tenant_url}/v2.0/{BC_ENTRA_TENANT}/{BC_ENVIRONMENT}/api/v2.0/companies({company_id})"
        self._http = httpx.Client(
            base_url=root,
            timeout=timeout,
            trust_env=False,
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )

    def records(self, entity_set: str, filter_: str | None = None) -> list[dict[str, Any]]:
        """Every record of a list, following @odata.nextLink."""
        body = self._call("GET", f"/{entity_set}", params={"$filter": filter_} if filter_ else None)
        rows = list(body["value"])
        while body.get("@odata.nextLink"):
            body = self._call("GET", body["@odata.nextLink"])
            rows += body["value"]
        return rows

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call(method, path, json=body)

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        raise_with_body(response, f"{method} {path}")
        return dict(response.json()) if response.content else {}

    def close(self) -> None:
        self._http.close()


class Finance:
    """Posts the drafts Concord fills and records what customers pay (FinanceRole)."""

    vendor = "Business Central"

    def __init__(self, company: CompanySession) -> None:
        self.company = company

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> Finance:
        return cls(CompanySession(f"{vendors.sandbox_url}/erp"))

    def draft_invoice(self, project_ref: str) -> dict[str, Any] | None:
        """The project's open draft (Concord keeps the project's ref in externalDocumentNumber)."""
        ref = project_ref.replace("'", "''")
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_salesinvoice_get
        rows = self.company.records("salesInvoices", f"externalDocumentNumber eq '{ref}' and status eq 'Draft'")
        return rows[0] if rows else None

    def lines_of(self, invoice_id: str) -> list[dict[str, Any]]:
        return self.company.records(f"salesInvoices({invoice_id})/salesInvoiceLines")

    def post(self, invoice_id: str) -> None:
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_salesinvoice_post
        self.company.call("POST", f"/salesInvoices({invoice_id})/Microsoft.NAV.post")

    def pay(self, invoice_id: str, amount: Decimal) -> str:
        """A cash receipt journal line applied to the invoice; returns the payment's id."""
        invoice = self.company.call("GET", f"/salesInvoices({invoice_id})")
        journal = self.company.records("customerPaymentJournals")[0]
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customerpayment_create
        payment = self.company.call(
            "POST",
            f"/customerPaymentJournals({journal['id']})/customerPayments",
            {
                "customerId": invoice["customerId"],
                "amount": -float(amount),
                "appliesToInvoiceId": invoice_id,
                "postingDate": dt.date.today().isoformat(),
                "description": f"Payment of {invoice['number']}",
            },
        )
        return str(payment["id"])
