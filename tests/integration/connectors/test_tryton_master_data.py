"""Service items and cost centres against the real Tryton databases: a service product created
in the ERP is polled and read as a ServiceItem, then upserted by code into the CRM's and PSA's
products; an invoice line keeps the ERP's cost centre, and an unknown tax code adds nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from concord.connectors.tryton import TrytonCrm, TrytonErp, TrytonPsa
from concord.domain import InvoiceLine, ServiceItem
from concord.errors import ValidationFailed
from concord.events.types import Money

from .conftest import EPOCH, PRODUCT_CODE, drain
from .test_tryton_erp_flows import _customer

pytestmark = pytest.mark.usefixtures("fresh_databases")


def _erp_service_product(erp: TrytonErp, code: str) -> int:
    """What finance does in the ERP: a new service product, sold by the hour."""
    (hour,) = erp.client.search_read("product.uom", [["symbol", "=", "h"]], ["id"])
    (template_id,) = erp.client.create(
        "product.template",
        [{"name": "Data engineering", "code": code, "type": "service", "default_uom": hour["id"], "list_price": 180}],
    )
    return int(template_id)


def test_a_service_product_created_in_the_erp_is_polled_and_read(erp: TrytonErp) -> None:
    _, cursor = drain(erp, "service_item", EPOCH)
    code = f"DATA-{uuid.uuid4().hex[:6]}"
    template_id = _erp_service_product(erp, code)

    changes, _ = drain(erp, "service_item", cursor)

    assert [change.record_id for change in changes] == [str(template_id)]
    item = erp.service_item(str(template_id))
    assert item == ServiceItem(
        code=code,
        name="Data engineering",
        unit="hour",
        list_price=Money(amount=Decimal(180), currency=erp.company_currency()[0]),
        active=True,
    )


@pytest.mark.parametrize("role", ["crm", "psa"])
def test_a_service_item_is_upserted_by_code_into_the_catalogue(
    role: str, crm: TrytonCrm, psa: TrytonPsa, erp: TrytonErp
) -> None:
    catalogue = crm if role == "crm" else psa
    assert catalogue.capabilities.service_items
    currency = erp.company_currency()[0]
    item = ServiceItem(
        code=f"DATA-{uuid.uuid4().hex[:6]}",
        name="Data engineering",
        unit="hour",
        list_price=Money(amount=Decimal("180.00"), currency=currency),
    )

    created = catalogue.upsert_service_item(item)
    updated = catalogue.upsert_service_item(item.model_copy(update={"name": "Data engineering hour"}))

    assert updated == created
    (row,) = catalogue.client.search_read(
        "product.template",
        [["code", "=", item.code]],
        ["id", "name", "type", "list_price", "default_uom.symbol", "products"],
    )
    assert (row["id"], row["name"], row["type"], row["default_uom."]["symbol"]) == (
        int(created),
        "Data engineering hour",
        "service",
        "h",
    )
    assert Decimal(row["list_price"]) == Decimal("180.00") and len(row["products"]) == 1
    # an archived item stays the same record, inactive
    catalogue.upsert_service_item(item.model_copy(update={"active": False}))
    assert catalogue.client.search_read("product.template", [["code", "=", item.code]], ["id"]) == []


def test_an_invoice_line_keeps_the_erps_cost_centre(erp: TrytonErp) -> None:
    invoice_id = erp.open_invoice_draft(_customer(erp), "USD", f"prj-{uuid.uuid4()}")
    ref = f"time:{uuid.uuid4().hex[:8]}"
    line = InvoiceLine(
        description="Consulting",
        quantity=2,
        service_item=PRODUCT_CODE,
        unit_price=Money(amount=Decimal("150.00"), currency="USD"),
        concord_ref=ref,
        cost_centre="CC-100",
    )

    ids = erp.add_invoice_lines(invoice_id, [line])

    (row,) = erp.client.search_read("account.invoice.line", [["id", "=", int(ids[ref])]], ["concord_cost_centre"])
    assert row["concord_cost_centre"] == "CC-100"
    unknown_tax = line.model_copy(update={"concord_ref": f"{ref}-b", "tax_code": "No such tax"})
    with pytest.raises(ValidationFailed, match="no tax named 'No such tax'"):
        erp.add_invoice_lines(invoice_id, [unknown_tax])
