"""What people do in Dynamics 365 Finance, scripted: the demo's and the tests' finance user when
the stack runs `--systems erp=dynamics_finance`. Finance posts the free text invoice Concord
filled and records the customer's payment in a customer payment journal, marked against the
invoice, and posts the journal.

Plain OData calls against the sandbox (straight to it, not through Concord's fault proxy),
signed in with the sandbox app's demo secret: no connector code, so the scenario checks the
connector rather than sharing its mistakes. FinanceClerk has the finance role's shape
(scenarios/__init__.py). Invoices are named "<company>:<InvoiceIdentifier>", as Concord names them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

import httpx

from ..vendors import FINANCE_CLIENT_ID, FINANCE_CLIENT_SECRET, VendorSandboxes
from . import raise_with_body


class EnvironmentSession:
    """The OData service of one environment, as an app registered in it (client credentials)."""

    def __init__(self, environment_url: str, *, timeout: float = 10.0) -> None:
        base = environment_url.rstrip("/")
        # https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
        answer = httpx.post(
            f"{base}/common/oauth2/v2.0/token",
            timeout=timeout,
            trust_env=False,
            data={
                "grant_type": "client_credentials",
                "client_id": FINANCE_CLIENT_ID,
                "client_secret": FINANCE_CLIENT_SECRET,
                "scope": f"{base}/.default",
            },
        )
        answer.raise_for_status()
        self._http = httpx.Client(
            base_url=f"{base}/data",
            timeout=timeout,
            trust_env=False,
            params={"cross-company": "true"},
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
        )

    def rows(self, entity: str, where: str) -> list[dict[str, Any]]:
        return list(self._call("GET", f"/{entity}", params={"$filter": where}).json()["value"])

    def create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", f"/{entity}", json=body).json())

    def post(self, entity_key: str) -> None:
        """Posting, as finance does it in the client (the sandbox's bound action)."""
        self._call("POST", f"/{entity_key}/Microsoft.Dynamics.DataEntities.Post", json={})

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
    erp: EnvironmentSession
    vendor: ClassVar[str] = "Dynamics 365 Finance"

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> FinanceClerk:
        return cls(EnvironmentSession(f"{vendors.sandbox_url}/erp"))

    def draft_invoice(self, project_ref: str) -> dict[str, Any] | None:
        """The project's unposted free text invoice (Concord's draft), with its lines and total."""
        headers = self.erp.rows(
            "FreeTextInvoiceHeaders", f"CustomerReference eq {text(project_ref)} and IsPosted eq false"
        )
        if not headers:
            return None
        header = headers[0]
        lines = self.erp.rows(
            "FreeTextInvoiceLines",
            f"dataAreaId eq {text(header['dataAreaId'])} and InvoiceIdentifier eq {text(header['InvoiceIdentifier'])}",
        )
        total = sum((Decimal(str(line["Quantity"])) * Decimal(str(line["UnitPrice"])) for line in lines), Decimal(0))
        return {"id": f"{header['dataAreaId']}:{header['InvoiceIdentifier']}", "total_amount": total, "lines": lines}

    def post(self, invoice_id: str) -> None:
        company, identifier = invoice_id.split(":", 1)
        self.erp.post(f"FreeTextInvoiceHeaders(dataAreaId={text(company)},InvoiceIdentifier={text(identifier)})")

    def pay(self, invoice_id: str, amount: Decimal) -> str:
        """The customer pays `amount` of the posted invoice: a payment journal with one line marked
        against it, posted. The line's id "<company>:<journal>:<line>"."""
        company, identifier = invoice_id.split(":", 1)
        header = self.erp.rows(
            "FreeTextInvoiceHeaders", f"dataAreaId eq {text(company)} and InvoiceIdentifier eq {text(identifier)}"
        )[0]
        journal = self.erp.create(
            "CustomerPaymentJournalHeaders",
            {"dataAreaId": company, "JournalName": "CustPay", "Description": f"Payment of {identifier}"},
        )
        self.erp.create(
            "CustomerPaymentJournalLines",
            {
                "dataAreaId": company,
                "JournalBatchNumber": journal["JournalBatchNumber"],
                "LineNumber": 1,
                "AccountDisplayValue": header["CustomerAccount"],
                "TransactionDate": dt.date.today().isoformat(),
                "CreditAmount": float(amount),
                "CurrencyCode": header["CurrencyCode"],
                "MarkedInvoice": header["InvoiceNumber"],
            },
        )
        self.erp.post(
            f"CustomerPaymentJournalHeaders(dataAreaId={text(company)},"
            f"JournalBatchNumber={text(journal['JournalBatchNumber'])})"
        )
        return f"{company}:{journal['JournalBatchNumber']}:1"
