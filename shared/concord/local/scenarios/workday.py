"""What finance does in Workday, scripted: the demo's and the tests' finance user when the stack
runs `--systems erp=workday`.

Plain SOAP over httpx against the sandbox (straight to it, not through Concord's fault proxy),
signed in as finance's own Workday user: the XML is written out here, not built with connector
code, so the scenario checks the connector rather than sharing its mistakes.
WWS: https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Revenue_Management.html
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import httpx

from ..vendors import WORKDAY_TENANT, VendorSandboxes
from . import raise_with_body

FINANCE_USER = f"Finance_Clerk@{WORKDAY_TENANT}"  # the sandbox's finance user (sandboxes/workday/app.py)
FINANCE_PASSWORD = "concord-finance-password"  # a sandbox's well-known demo credential
NS = {"env": "http://schemas.xmlsoap.org/soap/envelope/", "wd": "urn:com.workday/bsvc"}
TYPE = "{urn:com.workday/bsvc}type"


class WorkdaySession:
    """Finance signed in to one tenant's Revenue_Management (WS-Security UsernameToken)."""

    def __init__(self, tenant_url: str, *, timeout: float = 10.0) -> None:
        url = f"{tenant_url}/ccx/service/{WORKDAY_TENANT}/Revenue_Management/v45.0"
        self._http = httpx.Client(base_url=url, timeout=timeout, trust_env=False)

    def call(self, operation: str, inner: str, attributes: str = "") -> ET.Element:
        """`inner` XML inside `<wd:{operation}_Request>`; the response element."""
        envelope = (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<env:Envelope xmlns:env="{NS["env"]}" xmlns:wd="{NS["wd"]}"><env:Header>'
            '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
            f"<wsse:UsernameToken><wsse:Username>{FINANCE_USER}</wsse:Username>"
            f"<wsse:Password>{FINANCE_PASSWORD}</wsse:Password></wsse:UsernameToken></wsse:Security>"
            f'</env:Header><env:Body><wd:{operation}_Request wd:version="v45.0"{attributes}>{inner}'
            f"</wd:{operation}_Request></env:Body></env:Envelope>"
        )
        response = self._http.post("", content=envelope.encode(), headers={"Content-Type": "text/xml; charset=utf-8"})
        raise_with_body(response, operation)
        found = ET.fromstring(response.content).find(f"env:Body/wd:{operation}_Response", NS)
        assert found is not None, response.text[:500]
        return found

    def every(self, operation: str, criteria: str, item: str) -> list[ET.Element]:
        rows: list[ET.Element] = []
        page = 1
        while True:
            answer = self.call(
                operation,
                f"{criteria}<wd:Response_Filter><wd:Page>{page}</wd:Page><wd:Count>999</wd:Count></wd:Response_Filter>",
            )
            rows += answer.findall(f"wd:Response_Data/wd:{item}", NS)
            if page >= int(answer.findtext("wd:Response_Results/wd:Total_Pages", "1", NS)):
                return rows
            page += 1

    def close(self) -> None:
        self._http.close()


def _id(element: ET.Element, path: str, id_type: str) -> str:
    return next((i.text or "" for i in element.iterfind(f"{path}/wd:ID", NS) if i.get(TYPE) == id_type), "")


def _ref(name: str, id_type: str, value: str) -> str:
    return f'<wd:{name}><wd:ID wd:type="{id_type}">{escape(value)}</wd:ID></wd:{name}>'


def invoice_view(element: ET.Element) -> dict[str, Any]:
    """A customer invoice as finance reads it."""
    data = element.find("wd:Customer_Invoice_Data", NS)
    assert data is not None
    return {
        "id": _id(element, "wd:Customer_Invoice_Reference", "Customer_Invoice_Reference_ID"),
        "status": _id(data, "wd:Invoice_Status_Reference", "Document_Status_ID"),
        "memo": data.findtext("wd:Memo", "", NS),
        "customer": _id(data, "wd:Customer_Reference", "Customer_ID"),
        "company": _id(data, "wd:Company_Reference", "Company_Reference_ID"),
        "currency": _id(data, "wd:Currency_Reference", "Currency_ID"),
        "total": Decimal(data.findtext("wd:Total_Invoice_Amount", "0", NS)),
        "amount_due": Decimal(data.findtext("wd:Amount_Due", "0", NS)),
        "lines": [
            {
                "order": line.findtext("wd:Line_Order", "", NS),
                "item": _id(line, "wd:Sales_Item_Reference", "Sales_Item_ID"),
                "description": line.findtext("wd:Line_Item_Description", "", NS),
                "quantity": Decimal(line.findtext("wd:Quantity", "0", NS)),
                "unit_cost": line.findtext("wd:Unit_Cost", "", NS),
                "memo": line.findtext("wd:Memo", "", NS),
            }
            for line in data.iterfind("wd:Customer_Invoice_Line_Data", NS)
        ],
    }


class FinanceClerk:
    """Submits the drafts Concord fills and records what customers pay (FinanceRole)."""

    vendor = "Workday"

    def __init__(self, session: WorkdaySession) -> None:
        self.session = session

    @classmethod
    def signed_in(cls, vendors: VendorSandboxes) -> FinanceClerk:
        return cls(WorkdaySession(f"{vendors.sandbox_url}/erp"))

    def invoices(self, project_ref: str) -> list[dict[str, Any]]:
        """Every customer invoice of the project (Concord keeps the project's ref in its Memo)."""
        found = self.session.every("Get_Customer_Invoices", "", "Customer_Invoice")
        return [view for view in map(invoice_view, found) if view["memo"] == project_ref]

    def draft_invoice(self, project_ref: str) -> dict[str, Any] | None:
        return next((view for view in self.invoices(project_ref) if view["status"] == "Draft"), None)

    def post(self, invoice: dict[str, Any]) -> None:
        """Submit the draft to the business process (auto-completed: Approved), as it stands."""
        lines = "".join(
            "<wd:Customer_Invoice_Line_Replacement_Data>"
            + f"<wd:Line_Order>{line['order']}</wd:Line_Order>"
            + _ref("Sales_Item_Reference", "Sales_Item_ID", line["item"])
            + f"<wd:Line_Item_Description>{escape(line['description'])}</wd:Line_Item_Description>"
            + f"<wd:Quantity>{line['quantity']}</wd:Quantity><wd:Unit_Cost>{line['unit_cost']}</wd:Unit_Cost>"
            + f"<wd:Memo>{escape(line['memo'])}</wd:Memo></wd:Customer_Invoice_Line_Replacement_Data>"
            for line in invoice["lines"]
        )
        # https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Submit_Customer_Invoice.html
        self.session.call(
            "Submit_Customer_Invoice",
            "<wd:Business_Process_Parameters><wd:Auto_Complete>true</wd:Auto_Complete></wd:Business_Process_Parameters>"
            + _ref("Customer_Invoice_Reference", "Customer_Invoice_Reference_ID", invoice["id"])
            + "<wd:Customer_Invoice_Data><wd:Submit>true</wd:Submit>"
            + _ref("Company_Reference", "Company_Reference_ID", invoice["company"])
            + _ref("Customer_Reference", "Customer_ID", invoice["customer"])
            + _ref("Currency_Reference", "Currency_ID", invoice["currency"])
            + f"<wd:Invoice_Date>{dt.date.today().isoformat()}</wd:Invoice_Date>"
            + f"<wd:Memo>{escape(invoice['memo'])}</wd:Memo>{lines}</wd:Customer_Invoice_Data>",
        )

    def pay(self, invoice_id: str, amount: Decimal) -> str:
        """A customer payment applied to the invoice; returns the payment's reference id."""
        answer = self.session.call(
            "Get_Customer_Invoices",
            "<wd:Request_References>"
            + _ref("Customer_Invoice_Reference", "Customer_Invoice_Reference_ID", invoice_id)
            + "</wd:Request_References>",
        )
        invoice = invoice_view(answer.findall("wd:Response_Data/wd:Customer_Invoice", NS)[0])
        # https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Put_Customer_Payment.html
        payment = self.session.call(
            "Put_Customer_Payment",
            "<wd:Customer_Payment_Data>"
            + _ref("Customer_Reference", "Customer_ID", invoice["customer"])
            + _ref("Currency_Reference", "Currency_ID", invoice["currency"])
            + f"<wd:Payment_Date>{dt.date.today().isoformat()}</wd:Payment_Date><wd:Amount>{amount}</wd:Amount>"
            + "<wd:Customer_Invoice_Payment_Data>"
            + _ref("Customer_Invoice_Reference", "Customer_Invoice_Reference_ID", invoice_id)
            + f"<wd:Amount_to_Pay>{amount}</wd:Amount_to_Pay>"
            + "</wd:Customer_Invoice_Payment_Data></wd:Customer_Payment_Data>",
        )
        return _id(payment, "wd:Customer_Payment_Reference", "Customer_Payment_Reference_ID")

    def customer_name(self, customer_id: str) -> str | None:
        found = self.session.every("Get_Customers", "", "Customer")
        names = {
            _id(c, "wd:Customer_Reference", "Customer_ID"): c.findtext("wd:Customer_Data/wd:Customer_Name", "", NS)
            for c in found
        }
        return names.get(customer_id)
