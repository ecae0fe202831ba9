"""What people do in the NetSuite ERP, scripted: the demo's and the e2e tests' finance user when
the stack runs `--systems erp=netsuite`. Finance bills the sales order Concord filled (transforms
it into the invoice, which posts it) and records the customer's payment against the invoice.

Plain REST calls against the sandbox (straight to it, not through Concord's fault proxy), signed
in with the sandbox's demo certificate: no connector code, so the scenario checks the connector
rather than sharing its mistakes. FinanceClerk has the finance role's shape (scenarios/__init__.py).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import httpx
import jwt

from ..vendors import NETSUITE_CERTIFICATE_ID, NETSUITE_CLIENT_ID, VendorSandboxes, netsuite_demo_private_key
from . import raise_with_body

REST = "/services/rest"


class AccountSession:
    """A signed-in user of one NetSuite account (OAuth 2.0 M2M, ES256 client assertion)."""

    def __init__(self, account_url: str, *, timeout: float = 10.0) -> None:
        base = account_url.rstrip("/") + REST
        token_url = base + "/auth/oauth2/v1/token"
        now = int(time.time())
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162790605110.html
        assertion = jwt.encode(
            {"iss": NETSUITE_CLIENT_ID, "scope": "rest_webservices", "aud": token_url, "iat": now, "exp": now + 300},
            netsuite_demo_private_key(),
            algorithm="ES256",
            headers={"kid": NETSUITE_CERTIFICATE_ID},
        )
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_162755359851.html
        answer = httpx.post(
            token_url,
            timeout=timeout,
            trust_env=False,
            data={
                "grant_type": "client_credentials",
                "client_assertion": assertion,
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            },
        )
        answer.raise_for_status()
        self._http = httpx.Client(
            base_url=base,
            timeout=timeout,
            trust_env=False,
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
        )

    def rows(self, query: str) -> list[dict[str, Any]]:
        """Every row of a SuiteQL query (one page of up to 1000 is enough for a scenario)."""
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_158394344595.html
        body = self._call(
            "POST", "/query/v1/suiteql", params={"limit": 1000}, json={"q": query}, headers={"Prefer": "transient"}
        ).json()
        return [{k: v for k, v in row.items() if k != "links"} for row in body["items"]]

    def record(self, record_type: str, record_id: str) -> dict[str, Any]:
        return dict(
            self._call("GET", f"/record/v1/{record_type}/{record_id}", params={"expandSubResources": "true"}).json()
        )

    def create(self, path: str, body: dict[str, Any]) -> str:
        """POST a record (or a transform): the new record's id from `Location`."""
        response = self._call("POST", f"/record/v1/{path}", json=body)
        return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    def update(self, record_type: str, record_id: str, body: dict[str, Any]) -> None:
        self._call("PATCH", f"/record/v1/{record_type}/{record_id}", json=body)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        raise_with_body(response, f"{method} {path}")
        return response

    def close(self) -> None:
        self._http.close()


def text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass
class FinanceClerk:
    erp: AccountSession
    vendor: ClassVar[str] = "NetSuite"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> FinanceClerk:
        return cls(AccountSession(f"{vendors.sandbox_url}/erp"))

    def draft_invoice(self, project_ref: str) -> dict[str, Any] | None:
        """The project's sales order still to bill (Concord's draft), with its lines and total."""
        orders = self.erp.rows(
            "SELECT id, foreigntotal FROM transaction WHERE type = 'SalesOrd' AND status = 'F' "
            f"AND memo = {text(project_ref)} ORDER BY id"
        )
        if not orders:
            return None
        lines = self.erp.rows(
            f"SELECT id, quantity FROM transactionline WHERE transaction = {int(orders[0]['id'])} "
            "AND mainline = 'F' ORDER BY id"
        )
        return {"id": orders[0]["id"], "total_amount": Decimal(orders[0]["foreigntotal"]), "lines": lines}

    def post(self, invoice_id: str) -> str:
        """Bill the sales order: the invoice NetSuite makes of it (posted on save); its id."""
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157901123882.html
        return self.erp.create(f"salesOrder/{invoice_id}/!transform/invoice", {})

    def invoice_of(self, order_id: str) -> dict[str, Any]:
        rows = self.erp.rows(
            "SELECT DISTINCT transaction AS id FROM transactionline "
            f"WHERE createdfrom = {int(order_id)} ORDER BY transaction"
        )
        return self.erp.record("invoice", rows[0]["id"])

    def pay(self, invoice_id: str, amount: Decimal) -> str:
        """The customer pays `amount` of the invoice billed from the sales order `invoice_id` (or
        of the invoice itself): a customer payment applied to it; its id."""
        invoice = (
            self.erp.record("invoice", invoice_id) if self._is_invoice(invoice_id) else self.invoice_of(invoice_id)
        )
        # https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545141395.html
        return self.erp.create(
            "customerPayment",
            {
                "customer": {"id": invoice["entity"]["id"]},
                "payment": float(amount),
                "apply": {"items": [{"doc": {"id": invoice["id"]}, "apply": True, "amount": float(amount)}]},
            },
        )

    def _is_invoice(self, record_id: str) -> bool:
        return bool(self.erp.rows(f"SELECT id FROM transaction WHERE id = {int(record_id)} AND type = 'CustInvc'"))
