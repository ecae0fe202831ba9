"""The QuickBooks Online sandbox against Intuit's documented behaviour and schema: every answer
of the Accounting API below validates against Intuit's V3 XSDs (tests/fixtures/quickbooks), and
the rules each test names come from the page cited above it."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from concord.local.sandboxes.kit import Sandbox
from concord.local.sandboxes.quickbooks import (
    CLIENT_ID,
    CLIENT_SECRET,
    FINANCE_CLIENT_ID,
    FINANCE_CLIENT_SECRET,
    FIRST_REFRESH_TOKENS,
    REALM_ID,
    QuickBooksSandbox,
)
from tests.unit.connectors.quickbooks.xsd import validate

API = f"/erp/v3/company/{REALM_ID}"
TOKEN_URL = "/erp/oauth2/v1/tokens/bearer"


class Qbo:
    """Plain httpx against the in-process sandbox; every API answer is checked against the XSDs."""

    def __init__(self, sandbox: QuickBooksSandbox) -> None:
        self.sandbox = Sandbox({"erp": sandbox})

        def handler(request: httpx.Request) -> httpx.Response:
            target = request.url.raw_path.decode()
            answer = self.sandbox.handle(request.method, target, dict(request.headers), request.content, "http://qbo")
            return httpx.Response(answer.status, content=answer.encoded(), headers=answer.headers)

        self.http = httpx.Client(base_url="http://qbo", transport=httpx.MockTransport(handler))
        self.refresh_token = FIRST_REFRESH_TOKENS[CLIENT_ID]
        self.access_token = self.refresh()["access_token"]

    def refresh(self, refresh_token: str | None = None) -> dict[str, Any]:
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        answer = self.http.post(
            TOKEN_URL,
            data={"grant_type": "refresh_token", "refresh_token": refresh_token or self.refresh_token},
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
        body: dict[str, Any] = answer.json()
        if answer.status_code == 200:
            self.refresh_token = body["refresh_token"]
        return body

    def call(self, method: str, path: str, body: Any = None, **params: str) -> httpx.Response:
        answer = self.http.request(
            method,
            f"{API}/{path}",
            params={"minorversion": "75", **params},
            json=body,
            headers={"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"},
        )
        validate("IntuitResponse", answer.json())
        return answer

    def create(self, entity: str, body: dict[str, Any], **params: str) -> dict[str, Any]:
        validate(entity, body)
        answer = self.call("POST", entity.lower(), body, **params)
        assert answer.status_code == 200, answer.text
        created: dict[str, Any] = answer.json()[entity]
        return created

    def query(self, text: str) -> dict[str, Any]:
        answer = self.call("GET", "query", query=text)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()["QueryResponse"]
        return result


@pytest.fixture
def qbo() -> Iterator[Qbo]:
    client = Qbo(QuickBooksSandbox())
    yield client
    client.http.close()


def _item_id(qbo: Qbo) -> str:
    return str(qbo.query("select * from Item where Name = 'CONSULT-HR'")["Item"][0]["Id"])


def _invoice(qbo: Qbo, customer_id: str, hours: float = 2) -> dict[str, Any]:
    line = {
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": _item_id(qbo)}, "Qty": hours},
    }
    return qbo.create("Invoice", {"CustomerRef": {"value": customer_id}, "Line": [line]})


# https://developer.intuit.com/app/developer/qbo/docs/develop/authentication-and-authorization/faq
# (use the latest refresh_token returned: the one spent is no longer valid)
def test_refresh_tokens_rotate_and_a_spent_one_is_refused(qbo: Qbo) -> None:
    spent = qbo.refresh_token
    first = qbo.refresh()

    assert first["refresh_token"] != spent and first["expires_in"] == 3600
    assert qbo.refresh(spent) == {"error": "invalid_grant", "error_description": "Token invalid"}
    assert "access_token" in qbo.refresh()  # the latest still works


# https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/customer
# (DisplayName must be unique; an update names the current SyncToken)
def test_customer_names_are_unique_and_a_stale_sync_token_is_5010(qbo: Qbo) -> None:
    customer = qbo.create("Customer", {"DisplayName": "Acme Ltd", "PrimaryTaxIdentifier": "US-1"})
    duplicate = qbo.call("POST", "customer", {"DisplayName": "Acme Ltd"})
    renamed = qbo.create("Customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "Acme"})
    stale = qbo.call("POST", "customer", {"Id": customer["Id"], "SyncToken": "0", "sparse": True, "Notes": "x"})

    assert duplicate.status_code == 400 and duplicate.json()["Fault"]["Error"][0]["code"] == "6240"
    assert renamed["SyncToken"] == "1" and renamed["PrimaryTaxIdentifier"] == "US-1"
    assert stale.status_code == 400 and stale.json()["Fault"]["Error"][0]["code"] == "5010"


# https://developer.intuit.com/app/developer/qbo/docs/learn/explore-the-quickbooks-online-api/data-queries
def test_queries_filter_page_and_hide_inactive_customers(qbo: Qbo) -> None:
    for n in range(5):
        qbo.create("Customer", {"DisplayName": f"Client {n}", "Active": n != 4})

    page = qbo.query("select * from Customer where DisplayName LIKE 'Client%' ORDERBY Id STARTPOSITION 2 MAXRESULTS 2")
    inactive = qbo.query("select * from Customer where DisplayName = 'Client 4' and Active in (true, false)")
    hidden = qbo.query("select * from Customer where DisplayName = 'Client 4'")
    broken = qbo.call("GET", "query", query="select from")

    assert [c["DisplayName"] for c in page["Customer"]] == ["Client 1", "Client 2"] and page["startPosition"] == 2
    assert inactive["Customer"][0]["Active"] is False and "Customer" not in hidden
    assert broken.status_code == 400 and broken.json()["Fault"]["Error"][0]["code"] == "4000"


# https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/payment
# (a payment line's LinkedTxn to an invoice applies the amount: the invoice Balance falls)
def test_a_payment_linked_to_an_invoice_lowers_its_balance(qbo: Qbo) -> None:
    customer = qbo.create("Customer", {"DisplayName": "Payer"})
    invoice = _invoice(qbo, customer["Id"], hours=2)
    qbo.create(
        "Payment",
        {
            "CustomerRef": {"value": customer["Id"]},
            "TotalAmt": 100,
            "Line": [{"Amount": 100, "LinkedTxn": [{"TxnId": invoice["Id"], "TxnType": "Invoice"}]}],
        },
    )

    after = qbo.call("GET", f"invoice/{invoice['Id']}").json()["Invoice"]
    assert (invoice["TotalAmt"], invoice["Balance"], after["Balance"]) == (300, 300, 200)
    assert after["SyncToken"] == "1" and invoice["DueDate"] > invoice["TxnDate"]


# https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features (requestid)
def test_a_write_sent_again_with_its_requestid_returns_the_first_answer(qbo: Qbo) -> None:
    first = qbo.create("Customer", {"DisplayName": "Once"}, requestid="op-1")
    again = qbo.create("Customer", {"DisplayName": "Once"}, requestid="op-1")

    assert again["Id"] == first["Id"]
    assert len(qbo.query("select * from Customer where DisplayName = 'Once'")["Customer"]) == 1


# https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/batch
def test_batch_items_run_one_by_one_with_a_fault_per_failed_item(qbo: Qbo) -> None:
    items = [
        {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch A"}},
        {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Batch A"}},
        {"bId": "3", "Query": "select * from Customer where DisplayName = 'Batch A'"},
    ]
    validate("IntuitBatchRequest", {"BatchItemRequest": items})
    answers = qbo.call("POST", "batch", {"BatchItemRequest": items}).json()["BatchItemResponse"]
    too_many = qbo.call("POST", "batch", {"BatchItemRequest": [items[2] | {"bId": str(n)} for n in range(31)]})

    assert [a["bId"] for a in answers] == ["1", "2", "3"]
    assert answers[0]["Customer"]["DisplayName"] == "Batch A" and answers[1]["Fault"]["Error"][0]["code"] == "6240"
    assert answers[2]["QueryResponse"]["Customer"][0]["Id"] == answers[0]["Customer"]["Id"]
    assert too_many.status_code == 400


# https://developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/changedatacapture
def test_cdc_answers_what_changed_since_and_refuses_more_than_30_days(qbo: Qbo) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    customer = qbo.create("Customer", {"DisplayName": "Changed"})
    invoice = _invoice(qbo, customer["Id"])

    changes = qbo.call("GET", "cdc", entities="Invoice,Payment", changedSince=since.isoformat()).json()
    too_old = qbo.call("GET", "cdc", entities="Invoice", changedSince=(since - dt.timedelta(days=31)).isoformat())

    invoices, payments = changes["CDCResponse"][0]["QueryResponse"]
    assert [i["Id"] for i in invoices["Invoice"]] == [invoice["Id"]] and "Payment" not in payments
    assert too_old.status_code == 400


# https://developer.intuit.com/app/developer/qbo/docs/learn/rest-api-features#limits-and-throttles
def test_more_than_the_per_second_limit_is_answered_429() -> None:
    qbo = Qbo(QuickBooksSandbox(per_second=3, retry_after_seconds=2))
    statuses = [qbo.call("GET", "query", query="select * from Term").status_code for _ in range(4)]
    throttled = qbo.call("GET", "query", query="select * from Term")

    assert statuses == [200, 200, 200, 429]
    assert throttled.headers["Retry-After"] == "2" and throttled.json()["Fault"]["type"] == "ThrottleExceeded"


# https://developer.intuit.com/app/developer/qbo/docs/learn/limits-and-throttles: 10 a second
# "per realm ID and app", 500 a minute "per realm ID".
def test_each_app_has_its_own_second_and_every_app_shares_the_realms_minute() -> None:
    qbo = Qbo(QuickBooksSandbox(per_second=2, per_minute=3))
    concord = qbo.access_token
    basic = base64.b64encode(f"{FINANCE_CLIENT_ID}:{FINANCE_CLIENT_SECRET}".encode()).decode()
    finance = qbo.http.post(
        TOKEN_URL,
        data={"grant_type": "refresh_token", "refresh_token": FIRST_REFRESH_TOKENS[FINANCE_CLIENT_ID]},
        headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
    ).json()["access_token"]

    def status_as(token: str) -> int:
        qbo.access_token = token
        return qbo.call("GET", "query", query="select * from Term").status_code

    assert [status_as(concord) for _ in range(3)] == [200, 200, 429]  # Concord's second is spent
    assert [status_as(finance) for _ in range(2)] == [200, 429]  # finance's is not; the minute then is


def test_an_estimate_converted_to_an_invoice_is_closed(qbo: Qbo) -> None:
    customer = qbo.create("Customer", {"DisplayName": "Estimated"})
    line = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": _item_id(qbo)}, "Qty": 1}}
    estimate = qbo.create("Estimate", {"CustomerRef": {"value": customer["Id"]}, "Line": [line]})
    qbo.create(
        "Invoice",
        {
            "CustomerRef": {"value": customer["Id"]},
            "Line": estimate["Line"],
            "LinkedTxn": [{"TxnId": estimate["Id"], "TxnType": "Estimate"}],
        },
    )

    after = qbo.call("GET", f"estimate/{estimate['Id']}").json()["Estimate"]
    assert (estimate["TxnStatus"], after["TxnStatus"]) == ("Pending", "Closed")


def test_calls_without_a_valid_token_are_401(qbo: Qbo) -> None:
    qbo.access_token = "not-a-token"
    answer = qbo.call("GET", "query", query="select * from Term")
    assert answer.status_code == 401 and answer.json()["Fault"]["type"] == "AUTHENTICATION"
