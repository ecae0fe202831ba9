"""The Xero sandbox behaves as Xero documents it, and answers in the shapes of Xero's OpenAPI
document (tests/fixtures/xero, checked by tests/unit/connectors/xero/spec.py):
https://developer.xero.com/documentation/api/accounting/invoices (an update keeps only the
lines it sends), .../payments, .../requests-and-responses (where, order, page,
If-Modified-Since), .../overview (summarizeErrors), guides/oauth2/limits (429),
guides/idempotent-requests/idempotency."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from concord.local.sandboxes.kit import SandboxServer
from concord.local.sandboxes.xero import ORGANISATION_ID, XeroSandbox
from concord.local.scenarios.xero import Organisation
from tests.unit.connectors.xero import spec


@pytest.fixture
def org() -> Iterator[httpx.Client]:
    with SandboxServer(XeroSandbox(per_minute=10_000), ["erp"]) as server:
        organisation = Organisation(f"{server.url}/erp")
        yield organisation._http
        organisation.close()


def call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One call, its answer checked against the document."""
    answer = http.request(method, path, **kwargs)
    body = answer.json() if answer.content else None
    spec.check_response(method, str(answer.request.url), answer.status_code, answer.headers, body)
    return answer


def contact(http: httpx.Client, name: str) -> str:
    answer = call(http, "PUT", "/Contacts", json={"Contacts": [{"Name": name}]}, headers={"Idempotency-Key": name})
    return str(answer.json()["Contacts"][0]["ContactID"])


def draft(http: httpx.Client, contact_id: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
    body = {"Invoices": [{"Type": "ACCREC", "Contact": {"ContactID": contact_id}, "LineItems": lines}]}
    return dict(call(http, "PUT", "/Invoices", json=body).json()["Invoices"][0])


def test_an_invoice_update_deletes_every_line_it_does_not_resend(org: httpx.Client) -> None:
    made = draft(org, contact(org, "Lines"), [{"Description": "a", "Quantity": 1, "ItemCode": "CONSULT-HR"}] * 2)
    first, second = made["LineItems"]

    body = {
        "Invoices": [
            {
                "InvoiceID": made["InvoiceID"],
                "LineItems": [
                    {"LineItemID": first["LineItemID"]},
                    {"Description": "new", "Quantity": 2, "UnitAmount": 10},
                ],
            }
        ]
    }
    updated = call(org, "POST", f"/Invoices/{made['InvoiceID']}", json=body).json()["Invoices"][0]

    ids = [line["LineItemID"] for line in updated["LineItems"]]
    assert ids[0] == first["LineItemID"] and second["LineItemID"] not in ids and len(ids) == 2
    assert updated["Total"] == 150 + 20  # the kept line priced from its item, the new one as sent


def test_approval_then_payments_lower_the_amount_due_until_paid(org: httpx.Client) -> None:
    made = draft(org, contact(org, "Payer"), [{"Description": "a", "Quantity": 2, "ItemCode": "CONSULT-HR"}])
    invoice_id = made["InvoiceID"]
    call(org, "POST", f"/Invoices/{invoice_id}", json={"Invoices": [{"InvoiceID": invoice_id, "Status": "AUTHORISED"}]})

    def pay(amount: float) -> httpx.Response:
        payment = {"Invoice": {"InvoiceID": invoice_id}, "Account": {"Code": "090"}, "Amount": amount}
        return call(org, "PUT", "/Payments", json={"Payments": [payment]})

    pay(100)
    partly = call(org, "GET", f"/Invoices/{invoice_id}").json()["Invoices"][0]
    too_much = pay(500)
    pay(200)
    paid = call(org, "GET", f"/Invoices/{invoice_id}").json()["Invoices"][0]
    closed = call(
        org, "POST", f"/Invoices/{invoice_id}", json={"Invoices": [{"InvoiceID": invoice_id, "LineItems": []}]}
    )

    assert (partly["Status"], partly["AmountDue"]) == ("AUTHORISED", 200)
    assert too_much.status_code == 400 and too_much.json()["Type"] == "ValidationException"
    assert (paid["Status"], paid["AmountDue"], paid["AmountPaid"]) == ("PAID", 0, 300)
    assert closed.status_code == 400  # a paid invoice's lines cannot change


def test_summarize_errors_false_saves_the_good_elements_and_flags_the_bad(org: httpx.Client) -> None:
    batch = {"Contacts": [{"Name": "Good"}, {"Name": ""}]}

    mixed = call(org, "PUT", "/Contacts", params={"summarizeErrors": "false"}, json=batch).json()["Contacts"]
    whole = call(org, "PUT", "/Contacts", json={"Contacts": [{"Name": "Other"}, {"Name": ""}]})

    assert mixed[0]["Name"] == "Good" and "ContactID" in mixed[0]
    assert mixed[1]["HasValidationErrors"] is True and mixed[1]["StatusAttributeString"] == "ERROR"
    assert whole.status_code == 400 and whole.json()["Elements"][0]["ValidationErrors"]
    names = [c["Name"] for c in call(org, "GET", "/Contacts").json()["Contacts"]]
    assert names == ["Good"]  # the refused call saved none of its elements


def test_where_order_page_and_if_modified_since(org: httpx.Client) -> None:
    ids = [contact(org, f"C{n:03d}") for n in range(105)]
    stamps = [c["UpdatedDateUTC"] for c in call(org, "GET", "/Contacts").json()["Contacts"]]
    newest_ms = max(int(stamp[6:19]) for stamp in stamps)  # "/Date(<ms>+0000)/"
    after = dt.datetime.fromtimestamp((newest_ms + 1) / 1000, dt.UTC)
    moment = after.strftime("%Y-%m-%dT%H:%M:%S.") + f"{after.microsecond // 1000:03d}Z"
    call(org, "POST", f"/Contacts/{ids[3]}", json={"Contacts": [{"TaxNumber": "99"}]}, headers={"Idempotency-Key": "t"})

    pages = [call(org, "GET", "/Contacts", params={"order": "Name DESC", "page": n}).json() for n in (1, 2)]
    found = call(org, "GET", "/Contacts", params={"where": 'Name=="C004" OR TaxNumber=="99"'}).json()["Contacts"]
    since = call(org, "GET", "/Contacts", headers={"If-Modified-Since": moment}).json()["Contacts"]

    assert [len(p["Contacts"]) for p in pages] == [100, 5] and pages[0]["Contacts"][0]["Name"] == "C104"
    assert pages[1]["pagination"] == {"page": 2, "pageSize": 100, "pageCount": 2, "itemCount": 105}
    assert sorted(c["Name"] for c in found) == ["C003", "C004"]
    assert [c["Name"] for c in since] == ["C003"]


def test_a_replayed_idempotency_key_gets_the_first_answer(org: httpx.Client) -> None:
    headers = {"Idempotency-Key": "same-key"}
    first = call(org, "PUT", "/Contacts", json={"Contacts": [{"Name": "Once"}]}, headers=headers)
    again = call(org, "PUT", "/Contacts", json={"Contacts": [{"Name": "Once"}]}, headers=headers)

    assert again.json() == first.json()
    assert len(call(org, "GET", "/Contacts").json()["Contacts"]) == 1


def test_over_the_minute_limit_is_a_429_with_retry_after_and_the_problem() -> None:
    with SandboxServer(XeroSandbox(per_minute=3, retry_after_seconds=7), ["erp"]) as server:
        http = Organisation(f"{server.url}/erp")._http
        statuses = [call(http, "GET", "/Contacts") for _ in range(4)]
        other_org = http.get("/Contacts", headers={"xero-tenant-id": "00000000-0000-0000-0000-000000000000"})
        no_token = httpx.get(f"{server.url}/erp/api.xro/2.0/Contacts", headers={"xero-tenant-id": ORGANISATION_ID})

    assert [s.status_code for s in statuses] == [200, 200, 200, 429]
    assert statuses[-1].headers["Retry-After"] == "7" and statuses[-1].headers["X-Rate-Limit-Problem"] == "minute"
    assert (other_org.status_code, no_token.status_code) == (403, 401)
