"""The company entities: customers, items, paymentTerms, salesInvoices (+ salesInvoiceLines and
the Microsoft.NAV.post action), customerPaymentJournals (+ customerPayments) and customerPayments.
Shapes and rules from the v2.0 resource pages, e.g.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_salesinvoice
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from ..kit import Request, Response
from . import odata
from .company import ZERO_ID, Company, public
from .errors import BcError, invalid, not_found

Row = dict[str, Any]
# What a POST or PATCH may set per entity set (v2.0 resource pages); anything else is refused.
WRITABLE: dict[str, frozenset[str]] = {
    "customers": frozenset({"number", "displayName", "type", "addressLine1", "addressLine2", "city", "state", "country",
                            "postalCode", "phoneNumber", "email", "website", "salespersonCode", "creditLimit",
                            "taxLiable", "taxAreaId", "taxRegistrationNumber", "currencyId", "currencyCode",
                            "paymentTermsId", "shipmentMethodId", "paymentMethodId", "blocked"}),
    "salesInvoices": frozenset({"externalDocumentNumber", "invoiceDate", "postingDate", "dueDate", "customerId",
                                "customerNumber", "customerPurchaseOrderReference", "currencyId", "currencyCode",
                                "paymentTermsId", "salesperson", "phoneNumber", "email"}),
    "salesInvoiceLines": frozenset({"sequence", "itemId", "accountId", "lineType", "lineObjectNumber", "description",
                                    "unitOfMeasureId", "unitOfMeasureCode", "quantity", "unitPrice", "discountAmount",
                                    "discountPercent", "taxCode", "shipmentDate", "itemVariantId", "locationId"}),
    "customerPayments": frozenset({"lineNumber", "customerId", "customerNumber", "contactId", "postingDate",
                                   "documentNumber", "externalDocumentNumber", "amount", "appliesToInvoiceId",
                                   "appliesToInvoiceNumber", "description", "comment"}),
}
BLOCKED_VALUES = (" ", "Ship", "Invoice", "All")


def body_of(request: Request, entity_set: str) -> Row:
    body = request.json()
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    unknown = sorted(set(body) - WRITABLE[entity_set] - {"@odata.etag"})
    if unknown:
        raise invalid(f"The property '{unknown[0]}' does not exist on type 'Microsoft.NAV.{entity_set[:-1]}'.")
    return {key: value for key, value in body.items() if key != "@odata.etag"}


def listing(request: Request, rows: list[Row], page_size: int, entity_set: str = "") -> Response:
    params = {key: values[0] for key, values in request.query.items()}
    matching = [row for row in rows if odata.predicate(params.get("$filter"))(row)]
    shown = [odata.selected(public(row, entity_set), params.get("$select"))
             for row in odata.ordered(matching, params.get("$orderby"))]
    return Response(200, odata.page(shown, params, page_size, request.tenant_url + request.path))


def single(request: Request, row: Row, status: int = 200, entity_set: str = "") -> Response:
    return Response(status, odata.selected(public(row, entity_set), request.param("$select")))


# -- customers ------------------------------------------------------------------------------


def create_customer(company: Company, request: Request) -> Response:
    body = body_of(request, "customers")
    if not body.get("displayName"):
        raise invalid("displayName must be given.")
    number = body.get("number") or f"C{len(company.rows('customers')) + 10000:05d}"
    if company.find("customers", "number", number):
        raise BcError(400, "Internal_EntityWithSameKeyExists",
                      f"The record in table Customer already exists. Identification fields and values: No.='{number}'")
    _check_blocked(body)
    row = {"number": number, "displayName": "", "type": "Company", "addressLine1": "", "addressLine2": "", "city": "",
           "state": "", "country": "", "postalCode": "", "phoneNumber": "", "email": "", "website": "",
           "salespersonCode": "", "balanceDue": 0, "creditLimit": 0, "taxLiable": False, "taxAreaId": ZERO_ID,
           "taxAreaDisplayName": "", "taxRegistrationNumber": "", "currencyId": ZERO_ID, "currencyCode": "",
           "paymentTermsId": ZERO_ID, "shipmentMethodId": ZERO_ID, "paymentMethodId": ZERO_ID, "blocked": " "}
    return single(request, company.insert("customers", {**row, **body}), 201)


def update_customer(company: Company, request: Request, key: str) -> Response:
    body = body_of(request, "customers")
    _check_blocked(body)
    if "paymentTermsId" in body and body["paymentTermsId"] != ZERO_ID:
        company.get("paymentTerms", body["paymentTermsId"], "paymentTerm")
    return single(request, company.checked_update("customers", key, request.header("If-Match"), body, "customer"))


def _check_blocked(body: Row) -> None:
    if "blocked" in body and body["blocked"] not in BLOCKED_VALUES:
        raise invalid(f"The value \"{body['blocked']}\" can't be evaluated into type Blocked.")


# -- sales invoices -------------------------------------------------------------------------


def create_invoice(company: Company, request: Request, today: dt.date) -> Response:
    body = body_of(request, "salesInvoices")
    customer = _customer_of(company, body)
    if customer["blocked"] in ("Invoice", "All"):
        raise invalid(f"You cannot create this type of document when Customer {customer['number']} is blocked with "
                      f"type {customer['blocked']}")
    row = {"number": f"S-INV{len(company.rows('salesInvoices')) + 100001}", "externalDocumentNumber": "",
           "invoiceDate": today.isoformat(), "postingDate": today.isoformat(), "dueDate": today.isoformat(),
           "customerPurchaseOrderReference": "", "customerId": customer["id"], "customerNumber": customer["number"],
           "customerName": customer["displayName"], "billToName": customer["displayName"],
           "billToCustomerId": customer["id"], "billToCustomerNumber": customer["number"],
           "currencyId": ZERO_ID, "currencyCode": customer["currencyCode"], "paymentTermsId": customer["paymentTermsId"],
           "pricesIncludeTax": False, "remainingAmount": 0.0, "discountAmount": 0.0, "discountAppliedBeforeTax": False,
           "totalAmountExcludingTax": 0.0, "totalTaxAmount": 0.0, "totalAmountIncludingTax": 0.0, "status": "Draft"}
    fields = {key: value for key, value in body.items() if key not in ("customerId", "customerNumber")}
    return single(request, company.insert("salesInvoices", {**row, **fields}), 201)


def _customer_of(company: Company, body: Row) -> Row:
    if body.get("customerId"):
        return company.get("customers", body["customerId"], "customer")
    found = company.find("customers", "number", body.get("customerNumber"))
    if not found:
        raise invalid("customerId or customerNumber must name an existing customer.")
    return found[0]


def add_line(company: Company, request: Request, invoice_id: str) -> Response:
    invoice = company.get("salesInvoices", invoice_id, "salesInvoice")
    if invoice["status"] != "Draft":
        raise invalid(f"The sales invoice {invoice['number']} is posted: lines cannot be added.")
    body = body_of(request, "salesInvoiceLines")
    if body.get("lineType", "Item") != "Item":
        raise invalid("The sandbox supports Item lines only.")
    item = company.item(body.get("lineObjectNumber"), body.get("itemId"))
    quantity = float(body.get("quantity", 0))
    price = float(body["unitPrice"] if "unitPrice" in body else item["unitPrice"])
    if quantity < 0:
        raise invalid("Quantity must be positive.")
    lines = company.find("salesInvoiceLines", "documentId", invoice["id"])
    amount = round(quantity * price, 2)
    row = {"documentId": invoice["id"], "sequence": 10000 * (len(lines) + 1), "itemId": item["id"], "accountId": ZERO_ID,
           "lineType": "Item", "lineObjectNumber": item["number"], "description": item["displayName"],
           "unitOfMeasureId": ZERO_ID, "unitOfMeasureCode": item["baseUnitOfMeasureCode"], "quantity": quantity,
           "unitPrice": price, "discountAmount": 0.0, "discountPercent": 0.0, "discountAppliedBeforeTax": False,
           "amountExcludingTax": amount, "taxCode": "", "taxPercent": 0.0, "totalTaxAmount": 0.0,
           "amountIncludingTax": amount, "invoiceDiscountAllocation": 0.0, "netAmount": amount, "netTaxAmount": 0.0,
           "netAmountIncludingTax": amount, "shipmentDate": invoice["invoiceDate"], "itemVariantId": ZERO_ID,
           "locationId": ZERO_ID}
    fields = {key: value for key, value in body.items() if key not in ("quantity", "unitPrice", "itemId")}
    line = company.insert("salesInvoiceLines", {**row, **fields})
    total = round(sum(line["amountIncludingTax"] for line in lines) + amount, 2)
    company.update("salesInvoices", invoice["id"], {"totalAmountExcludingTax": total, "totalAmountIncludingTax": total})
    return single(request, line, 201, "salesInvoiceLines")


def post_invoice(company: Company, request: Request, invoice_id: str, today: dt.date) -> Response:
    """Draft -> Open: the posted number, invoice and due dates (payment terms), remainingAmount =
    total; the id stays the same (v2.0 salesInvoices keep it after posting)."""
    invoice = company.get("salesInvoices", invoice_id, "salesInvoice")
    if invoice["status"] != "Draft":
        raise invalid(f"The sales invoice {invoice['number']} is already posted.")
    if not company.find("salesInvoiceLines", "documentId", invoice["id"]):
        raise invalid("There is nothing to post.")
    days = 30
    if invoice["paymentTermsId"] != ZERO_ID:
        days = int(company.get("paymentTerms", invoice["paymentTermsId"], "paymentTerm")["dueDateCalculation"][:-1])
    posted = sum(1 for row in company.rows("salesInvoices") if row["status"] != "Draft")
    company.update("salesInvoices", invoice["id"], {
        "status": "Open", "number": f"PS-INV{posted + 103001}", "invoiceDate": today.isoformat(),
        "postingDate": today.isoformat(), "dueDate": (today + dt.timedelta(days=days)).isoformat(),
        "remainingAmount": invoice["totalAmountIncludingTax"]})
    return Response(204)


# -- customer payments ----------------------------------------------------------------------


def create_payment(company: Company, request: Request, journal_id: str, today: dt.date) -> Response:
    journal = company.get("customerPaymentJournals", journal_id, "customerPaymentJournal")
    body = body_of(request, "customerPayments")
    customer = _customer_of(company, body)
    if body.get("appliesToInvoiceId"):
        invoice = company.get("salesInvoices", body["appliesToInvoiceId"], "salesInvoice")
        if invoice["status"] == "Draft" or invoice["customerId"] != customer["id"]:
            raise invalid("appliesToInvoiceId must name a posted invoice of the customer.")
        body["appliesToInvoiceNumber"] = invoice["number"]
    lines = company.find("customerPayments", "journalId", journal["id"])
    row = {"journalId": journal["id"], "journalDisplayName": journal["code"], "lineNumber": 10000 * (len(lines) + 1),
           "customerId": customer["id"], "customerNumber": customer["number"], "contactId": "",
           "postingDate": today.isoformat(), "documentNumber": f"G0{len(lines) + 1:04d}", "externalDocumentNumber": "",
           "amount": 0.0, "appliesToInvoiceId": ZERO_ID, "appliesToInvoiceNumber": "", "description": "", "comment": ""}
    fields = {key: value for key, value in body.items() if key not in ("customerId", "customerNumber")}
    return single(request, company.insert("customerPayments", {**row, **fields}), 201)


# -- dispatch -------------------------------------------------------------------------------

Segment = tuple[str, str | None]


def route(company: Company, request: Request, segments: list[Segment], page_size: int,
          today: Callable[[], dt.date]) -> Response:
    """Below `companies(<id>)/`: the entity set, an optional key, and a navigation or action."""
    method, names = request.method, tuple(name for name, _ in segments)
    keys = [key for _, key in segments]
    if len(segments) == 1 and keys[0] is None:
        entity_set = names[0]
        if entity_set not in ("customers", "items", "paymentTerms", "salesInvoices", "customerPaymentJournals",
                              "customerPayments", "salesInvoiceLines"):
            raise not_found(f"resource '{entity_set}'")
        if method == "GET":
            return listing(request, company.rows(entity_set), page_size, entity_set)
        if method == "POST" and entity_set == "customers":
            return create_customer(company, request)
        if method == "POST" and entity_set == "salesInvoices":
            return create_invoice(company, request, today())
    elif len(segments) == 1:
        entity_set, key = names[0], str(keys[0]).strip("'")
        if method == "GET":
            return single(request, company.get(entity_set, key, entity_set[:-1]), entity_set=entity_set)
        if method == "PATCH" and entity_set == "customers":
            return update_customer(company, request, key)
    elif names == ("salesInvoices", "salesInvoiceLines") and keys[1] is None:
        if method == "GET":
            return listing(request, company.find("salesInvoiceLines", "documentId", str(keys[0])), page_size,
                           "salesInvoiceLines")
        if method == "POST":
            return add_line(company, request, str(keys[0]))
    elif names == ("salesInvoices", "Microsoft.NAV.post") and method == "POST":
        return post_invoice(company, request, str(keys[0]), today())
    elif names == ("customerPaymentJournals", "customerPayments") and keys[1] is None:
        if method == "GET":
            return listing(request, company.find("customerPayments", "journalId", str(keys[0])), page_size)
        if method == "POST":
            return create_payment(company, request, str(keys[0]), today())
    else:
        raise not_found(f"resource '{'/'.join(names)}'")
    raise BcError(405, "BadRequest_MethodNotAllowed", f"'{method}' requests for '{names[-1]}' are not allowed.")
