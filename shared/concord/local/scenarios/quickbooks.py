"""What finance does in QuickBooks Online, scripted: the demo's and the tests' finance user when
the stack runs `--systems erp=quickbooks` (the ErpFinanceUser shape, scenarios/__init__.py).

Plain REST calls against the sandbox (straight to it, not through Concord's fault proxy), signed
in as finance's own app with its own rotating refresh token: no connector code, so the scenario
checks the connector rather than sharing its mistakes. Concord holds a project's unposted work
on an Estimate whose PrivateNote is "concord-draft <project ref>#<n>" (docs/connectors.md);
finance posts it as QuickBooks users do, by creating the invoice from the estimate.
API: https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/estimate
"""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from ..vendors import QBO_REALM_ID, VendorSandboxes
from . import DraftInvoice, raise_with_body

FINANCE_CLIENT_ID = "concord-qbo-finance"  # the sandbox's finance app (sandboxes/quickbooks/app.py)
FINANCE_CLIENT_SECRET = "concord-qbo-finance-secret"  # a sandbox's well-known demo credential
FINANCE_REFRESH_TOKEN = "qbo-refresh-finance-0"  # a sandbox's well-known demo credential
DRAFT_NOTE = "concord-draft "
MINOR_VERSION = "75"


class Finance:
    """Converts the estimates Concord fills into invoices and records what customers pay."""

    vendor: ClassVar[str] = "QuickBooks Online"

    def __init__(self, tenant_url: str, *, timeout: float = 10.0) -> None:
        # https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/oauth-2.0
        basic = base64.b64encode(f"{FINANCE_CLIENT_ID}:{FINANCE_CLIENT_SECRET}".encode()).decode()
        token = httpx.post(
            f"{tenant_url}/oauth2/v1/tokens/bearer",
            timeout=timeout,
            trust_env=False,
            data={"grant_type": "refresh_token", "refresh_token": FINANCE_REFRESH_TOKEN},
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
        token.raise_for_status()
        self._http = httpx.Client(
            base_url=f"{tenant_url}/v3/company/{QBO_REALM_ID}",
            timeout=timeout,
            trust_env=False,
            params={"minorversion": MINOR_VERSION},
            headers={"Authorization": f"Bearer {token.json()['access_token']}", "Accept": "application/json"},
        )

    @classmethod
    def at(cls, tenant_url: str) -> Finance:
        return cls(tenant_url)

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> Finance:
        return cls(f"{vendors.sandbox_url}/erp")

    # ---------------------------------------------------------------- ErpFinanceUser

    def draft(self, project_ref: str) -> DraftInvoice | None:
        estimate = self._open_estimate(project_ref)
        if estimate is None:
            return None
        return DraftInvoice(str(estimate["Id"]), Decimal(str(estimate["TotalAmt"])), _hours(estimate))

    def post_invoice(self, project_ref: str) -> str:
        """Create the invoice from the project's open estimate (its lines, linked to it)."""
        estimate = self._open_estimate(project_ref)
        if estimate is None:
            raise LookupError(f"project {project_ref} has no open estimate in QuickBooks")
        lines = [
            {key: value for key, value in line.items() if key not in ("Id", "LineNum")}
            for line in estimate["Line"]
            if line.get("DetailType") == "SalesItemLineDetail"
        ]
        invoice = self._call(
            "POST",
            "/invoice",
            {
                "CustomerRef": estimate["CustomerRef"],
                "CurrencyRef": estimate.get("CurrencyRef"),
                "Line": lines,
                "LinkedTxn": [{"TxnId": estimate["Id"], "TxnType": "Estimate"}],
            },
        )["Invoice"]
        return str(invoice["Id"])

    def record_payment(self, invoice_id: str, amount: Decimal) -> None:
        # https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/payment
        invoice = self._call("GET", f"/invoice/{invoice_id}")["Invoice"]
        self._call(
            "POST",
            "/payment",
            {
                "CustomerRef": invoice["CustomerRef"],
                "TotalAmt": float(amount),
                "TxnDate": dt.date.today().isoformat(),
                "Line": [{"Amount": float(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}],
            },
        )

    def billed_hours(self, project_ref: str) -> Decimal:
        """The hours on every estimate of the project (the invoices are copies of them)."""
        return sum((_hours(e) for e in self._estimates(project_ref)), Decimal(0))

    def customer_name(self, customer_id: str) -> str | None:
        if not customer_id.isdigit():
            return None
        response = self._http.get(f"/customer/{customer_id}")
        return str(response.json()["Customer"]["DisplayName"]) if response.status_code == 200 else None

    def close(self) -> None:
        self._http.close()

    # ---------------------------------------------------------------- helpers

    def _estimates(self, project_ref: str) -> list[dict[str, Any]]:
        # https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
        rows = self._call("GET", "/query", params={"query": "select * from Estimate MAXRESULTS 1000"})
        prefix = f"{DRAFT_NOTE}{project_ref}#"
        return [
            e for e in rows["QueryResponse"].get("Estimate", []) if str(e.get("PrivateNote", "")).startswith(prefix)
        ]

    def _open_estimate(self, project_ref: str) -> dict[str, Any] | None:
        open_ones = [e for e in self._estimates(project_ref) if e.get("TxnStatus") in ("Pending", "Accepted")]
        return open_ones[-1] if open_ones else None

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, str] | None = None) -> dict[str, Any]:
        response = self._http.request(method, path, json=body, params=params)
        raise_with_body(response, f"{method} {path}")
        return dict(response.json())


def _hours(estimate: dict[str, Any]) -> Decimal:
    return sum(
        (
            Decimal(str(line["SalesItemLineDetail"].get("Qty", 0)))
            for line in estimate.get("Line", [])
            if line.get("DetailType") == "SalesItemLineDetail"
        ),
        Decimal(0),
    )
