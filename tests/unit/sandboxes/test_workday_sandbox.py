"""The Workday sandbox against Workday's documented shapes (the examples in workday_fixtures, each
naming its source): WS-Security and OAuth sign-in, page-numbered answers (Response_Results),
transaction-log windows, validation faults, and the throttle answer."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from concord.local.sandboxes.kit import SandboxController, SandboxServer
from concord.local.sandboxes.workday import (
    API_CLIENT,
    INTEGRATION_PASSWORD,
    INTEGRATION_USER,
    REFRESH_TOKEN,
    WORKDAY_TENANT,
    WorkdaySandbox,
)

DOCS = Path(__file__).parent / "workday_fixtures"
SERVICE = f"/erp/ccx/service/{WORKDAY_TENANT}/Revenue_Management/v45.0"
NS = {"env": "http://schemas.xmlsoap.org/soap/envelope/", "wd": "urn:com.workday/bsvc"}


def doc(name: str) -> ET.Element:
    return ET.parse(DOCS / f"{name}.xml").getroot()


def shape(element: ET.Element) -> list[str]:
    """The element's tag path of every descendant (values left out)."""
    return sorted(child.tag for child in element.iter())


def soap(inner: str, *, operation: str, user: str = INTEGRATION_USER, password: str = INTEGRATION_PASSWORD) -> bytes:
    header = (
        '<env:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
        f"<wsse:UsernameToken><wsse:Username>{user}</wsse:Username><wsse:Password>{password}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security></env:Header>"
    )
    return (
        f'<env:Envelope xmlns:env="{NS["env"]}" xmlns:wd="{NS["wd"]}">{header if user else ""}<env:Body>'
        f'<wd:{operation}_Request wd:version="v45.0">{inner}</wd:{operation}_Request></env:Body></env:Envelope>'
    ).encode()


def customer(n: int) -> str:
    return (
        f"<wd:Customer_Data><wd:Customer_ID>C-{n}</wd:Customer_ID><wd:Customer_Name>Customer {n}</wd:Customer_Name>"
        "</wd:Customer_Data>"
    )


@pytest.fixture
def server() -> Iterator[SandboxServer]:
    with SandboxServer(WorkdaySandbox(allocation=50), ["erp"]) as running:
        yield running


def post(server: SandboxServer, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}{SERVICE}", content=body, headers={"Content-Type": "text/xml", **headers})


def test_a_get_answers_a_page_with_workdays_response_results(server: SandboxServer) -> None:
    for n in range(5):
        assert post(server, soap(customer(n), operation="Put_Customer")).status_code == 200

    answer = post(
        server,
        soap(
            "<wd:Response_Filter><wd:Page>3</wd:Page><wd:Count>2</wd:Count></wd:Response_Filter>",
            operation="Get_Customers",
        ),
    )

    results = ET.fromstring(answer.content).find("env:Body/wd:Get_Customers_Response/wd:Response_Results", NS)
    assert results is not None and shape(results) == shape(doc("response_results"))
    assert [
        results.findtext(f"wd:{name}", namespaces=NS)
        for name in ("Total_Results", "Total_Pages", "Page_Results", "Page")
    ] == ["5", "3", "1", "3"]


def test_a_count_above_999_and_an_unknown_reference_are_validation_faults(server: SandboxServer) -> None:
    too_many = post(
        server, soap("<wd:Response_Filter><wd:Count>1000</wd:Count></wd:Response_Filter>", operation="Get_Customers")
    )
    unknown = post(
        server,
        soap(
            '<wd:Request_References><wd:Customer_Reference><wd:ID wd:type="Customer_ID">NOPE</wd:ID>'
            "</wd:Customer_Reference></wd:Request_References>",
            operation="Get_Customers",
        ),
    )

    for answer in (too_many, unknown):
        fault = ET.fromstring(answer.content).find("env:Body/env:Fault", NS)
        assert answer.status_code == 500 and fault is not None
        assert shape(fault) == shape(doc("validation_fault"))
        assert fault.findtext("faultcode") == "SOAP-ENV:Client.validationError"
    assert "Invalid ID value" in unknown.text and "'NOPE'" in unknown.text


def test_sign_in_needs_the_users_password_or_a_bearer_token_from_the_refresh_token(server: SandboxServer) -> None:
    wrong = post(server, soap("", operation="Get_Customers", password="wrong"))
    none = post(server, soap("", operation="Get_Customers", user=""))
    token = httpx.post(
        f"{server.url}/erp/ccx/oauth2/{WORKDAY_TENANT}/token",
        data={
            "grant_type": "refresh_token",
            "client_id": API_CLIENT.client_id,
            "client_secret": API_CLIENT.client_secret.get_secret_value(),  # type: ignore[union-attr]
            "refresh_token": REFRESH_TOKEN,
        },
    )
    bearer = post(
        server, soap("", operation="Get_Customers", user=""), Authorization=f"Bearer {token.json()['access_token']}"
    )
    bad_bearer = post(server, soap("", operation="Get_Customers", user=""), Authorization="Bearer nope")

    assert [wrong.status_code, none.status_code] == [500, 500]
    assert "Client.authenticationError" in wrong.text and "Client.authenticationError" in none.text
    assert bearer.status_code == 200 and bad_bearer.status_code == 401


def test_transaction_log_criteria_select_what_changed_in_the_window(server: SandboxServer) -> None:
    post(server, soap(customer(1), operation="Put_Customer"))
    post(server, soap(customer(2), operation="Put_Customer"))
    stamps = {row["Customer_ID"]: row["updated"] for row in server.sandbox.tenants["erp"].store.rows("customers")}
    middle = dt.datetime.fromisoformat(stamps["C-1"]) + dt.timedelta(milliseconds=1)

    def window(start: dt.datetime) -> list[str]:
        criteria = (
            "<wd:Request_Criteria><wd:Transaction_Log_Criteria_Data><wd:Transaction_Date_Range_Data>"
            f"<wd:Updated_From>{start.isoformat()}</wd:Updated_From>"
            "</wd:Transaction_Date_Range_Data></wd:Transaction_Log_Criteria_Data></wd:Request_Criteria>"
        )
        found = ET.fromstring(post(server, soap(criteria, operation="Get_Customers")).content)
        return [e.text or "" for e in found.iterfind(".//wd:Customer_Data/wd:Customer_ID", NS)]

    assert window(middle) == ["C-2"]
    assert window(middle - dt.timedelta(minutes=1)) == ["C-1", "C-2"]


def test_a_spent_allocation_is_answered_503_with_retry_after(server: SandboxServer) -> None:
    control = SandboxController(server.url)
    control.set_budget("erp", 1)
    first = post(server, soap("", operation="Get_Customers"))
    second = post(server, soap("", operation="Get_Customers"))
    control.close()

    assert first.status_code == 200
    assert second.status_code == 503 and second.headers["Retry-After"] == "5"
