"""The Accounting API routes of the Xero sandbox: reads with `where`/`order`/`page`/`IDs`/
If-Modified-Since, and writes of arrays (`summarizeErrors=false`: each element's own
ValidationErrors on a 200; otherwise one bad element fails the call with a 400 and saves none).
https://developer.xero.com/documentation/api/accounting/overview/
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..kit import Request, Response
from . import query
from .books import CONTACTS, INVOICES, ITEMS, PAYMENTS, Books, public
from .errors import ItemInvalid, not_found, validation

Row = dict[str, Any]
ID_FIELDS = {CONTACTS: "ContactID", INVOICES: "InvoiceID", PAYMENTS: "PaymentID", ITEMS: "ItemID"}


def answer(books: Books, request: Request, below: str) -> Response:
    collection, _, key = below.strip("/").partition("/")
    if collection not in ID_FIELDS or "/" in key:
        raise not_found(collection)
    if request.method == "GET":
        return _read(books, request, collection, key)
    if (
        request.method not in ("PUT", "POST")
        or collection == ITEMS
        or (collection == PAYMENTS and request.method == "POST")
    ):
        raise not_found(f"{request.method} {collection}")
    body = request.json()
    elements = body.get(collection) if isinstance(body, dict) else None
    if not isinstance(elements, list) or not all(isinstance(e, dict) for e in elements):
        raise validation([f"The request body must hold a list of {collection}"])
    return _write(books, request, collection, key, elements)


def _read(books: Books, request: Request, collection: str, key: str) -> Response:
    if key:
        found = {CONTACTS: books.contact, INVOICES: books.invoice, PAYMENTS: books.payment}.get(
            collection, lambda _: None
        )(key)
        if found is None:
            raise not_found(f"{collection}/{key}")
        return Response(200, {collection: [public(found)]})
    rows = books.store.rows(collection)
    if collection == CONTACTS and request.param("includeArchived") != "true":
        rows = [row for row in rows if row.get("ContactStatus") != "ARCHIVED"]
    ids = {value.strip().lower() for value in (request.param("IDs") or "").split(",") if value.strip()}
    if ids:
        rows = [row for row in rows if row[ID_FIELDS[collection]] in ids]
    since = query.modified_since(request.header("If-Modified-Since"))
    if since is not None:
        rows = [row for row in rows if row["_updated"] >= since]
    test = query.where(request.param("where"))
    shown = [(row, public(row)) for row in rows]
    kept = [row for row, view in shown if test(view)]
    page, pagination = query.paged(query.ordered(kept, request.param("order")), request.param("page"))
    body: Row = {collection: [public(row) for row in page]}
    if pagination is not None:
        body["pagination"] = pagination
    return Response(200, body)


def _write(books: Books, request: Request, collection: str, key: str, elements: list[Row]) -> Response:
    save = _saver(books, request.method, collection, key)
    per_item = request.param("summarizeErrors") == "false" and not key
    if per_item:
        results = []
        for element in elements:
            try:
                with books.store.transaction():
                    results.append(public(save(element)))
            except ItemInvalid as refused:
                results.append(_refused(collection, element, refused.messages))
        return Response(200, {collection: results})
    try:
        with books.store.transaction():
            saved = [public(save(element)) for element in elements]
    except ItemInvalid as refused:
        raise validation(refused.messages, elements[0] if len(elements) == 1 else None) from None
    return Response(200, {collection: saved})


def _saver(books: Books, method: str, collection: str, key: str) -> Callable[[Row], Row]:
    id_field = ID_FIELDS[collection]

    def target(element: Row) -> str | None:
        # PUT creates; POST updates the record its path or its element names, else creates.
        if method == "PUT":
            return None
        return key or element.get(id_field) or None

    if collection == CONTACTS:
        return lambda element: books.save_contact(element, target(element))
    if collection == INVOICES:
        return lambda element: books.save_invoice(element, target(element))
    return books.create_payment


def _refused(collection: str, element: Row, messages: list[str]) -> Row:
    flag = "HasErrors" if collection == INVOICES else "HasValidationErrors"
    return {
        **element,
        "StatusAttributeString": "ERROR",
        flag: True,
        "ValidationErrors": [{"Message": message} for message in messages],
    }
