"""What finance does in Xero, scripted: the demo's and the tests' finance user when the stack
runs `--systems erp=xero`.

Plain REST calls against the sandbox (straight to it, not through Concord's fault proxy), signed
in through finance's own custom connection: no connector code, so the scenario checks the
connector rather than sharing its mistakes. Finance approves (AUTHORISED) the draft Concord
fills, re-sending its lines as Xero requires, and applies a customer's payment to it.
API: https://developer.xero.com/documentation/api/accounting/invoices
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx

from ..vendors import XERO_ORGANISATION_ID, VendorSandboxes
from . import raise_with_body

FINANCE_CLIENT_ID = "concord-xero-finance"  # the sandbox's finance connection (sandboxes/xero/app.py)
FINANCE_CLIENT_SECRET = "concord-xero-finance-secret"  # a sandbox's well-known demo credential
BANK_ACCOUNT_CODE = "090"  # the demo organisation's bank account


def where_text(field: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{field}=="{escaped}"'


class Organisation:
    """Finance signed in to one organisation (client credentials, then bearer calls)."""

    def __init__(self, tenant_url: str, *, timeout: float = 10.0) -> None:
        # https://developer.xero.com/documentation/guides/oauth2/custom-connections/
        token = httpx.post(
            f"{tenant_url}/connect/token",
            timeout=timeout,
            trust_env=False,
            data={
                "grant_type": "client_credentials",
                "client_id": FINANCE_CLIENT_ID,
                "client_secret": FINANCE_CLIENT_SECRET,
            },
        )
        token.raise_for_status()
        self._http = httpx.Client(
            base_url=f"{tenant_url}/api.xro/2.0",
            timeout=timeout,
            trust_env=False,
            headers={
                "Authorization": f"Bearer {token.json()['access_token']}",
                "xero-tenant-id": XERO_ORGANISATION_ID,
                "Accept": "application/json",
            },
        )

    def records(self, collection: str, where: str | None = None) -> list[dict[str, Any]]:
        params = {"where": where} if where else None
        return list(self.call("GET", f"/{collection}", params=params)[collection])

    def call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._http.request(method, path, **kwargs)
        raise_with_body(response, f"{method} {path}")
        return dict(response.json()) if response.content else {}

    def close(self) -> None:
        self._http.close()


class Finance:
    """Approves the drafts Concord fills and records what customers pay (FinanceRole)."""

    vendor = "Xero"

    def __init__(self, organisation: Organisation) -> None:
        self.organisation = organisation

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> Finance:
        return cls(Organisation(f"{vendors.sandbox_url}/erp"))

    def invoices_of(self, project_ref: str) -> list[dict[str, Any]]:
        # https://developer.xero.com/documentation/api/accounting/invoices#get-invoices
        return self.organisation.records("Invoices", f'Type=="ACCREC" AND {where_text("Reference", project_ref)}')

    def draft_invoice(self, project_ref: str) -> dict[str, Any] | None:
        """The project's open draft (Concord keeps the project's ref in Reference)."""
        return next((row for row in self.invoices_of(project_ref) if row["Status"] == "DRAFT"), None)

    def post(self, invoice_id: str) -> None:
        """Approve: Status AUTHORISED, the lines re-sent with their ids (omitted ones would go)."""
        (invoice,) = self.organisation.call("GET", f"/Invoices/{invoice_id}")["Invoices"]
        lines = [
            {
                key: line[key]
                for key in ("LineItemID", "Description", "Quantity", "UnitAmount", "ItemCode", "AccountCode")
                if key in line
            }
            for line in invoice["LineItems"]
        ]
        body = {"Invoices": [{"InvoiceID": invoice_id, "Status": "AUTHORISED", "LineItems": lines}]}
        # https://developer.xero.com/documentation/api/accounting/invoices#post-invoices
        self.organisation.call("POST", f"/Invoices/{invoice_id}", json=body)

    def pay(self, invoice_id: str, amount: Decimal) -> str:
        """A payment into the bank account applied to the invoice; returns the payment's id."""
        payment = {
            "Invoice": {"InvoiceID": invoice_id},
            "Account": {"Code": BANK_ACCOUNT_CODE},
            "Date": dt.date.today().isoformat(),
            "Amount": float(amount),
        }
        # https://developer.xero.com/documentation/api/accounting/payments#put-payments
        answer = self.organisation.call("PUT", "/Payments", json={"Payments": [payment]})
        return str(answer["Payments"][0]["PaymentID"])

    def customer_name(self, customer_id: str) -> str | None:
        try:
            rows = self.organisation.call("GET", f"/Contacts/{customer_id}")["Contacts"]
        except httpx.HTTPStatusError:
            return None
        return str(rows[0]["Name"]) if rows else None
