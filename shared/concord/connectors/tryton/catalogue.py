"""Service items in Tryton: product templates of type "service" (the product module, active in
the crm, psa and erp databases). The ERP's are read and polled (ServiceItemSource); the CRM's
(sold on opportunities) and the PSA's (the product of a task, which prices its revenue) are
written by code (ServiceItemCatalog). Module docs: https://docs.tryton.org/modules-product/
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from concord.domain import ServiceItem
from concord.errors import PermanentError, ValidationFailed
from concord.events.types import Money

from . import lookups, names
from .names import MODIFIED_AT, Model
from .rpc import TrytonRpcClient

# changes_since "service_item": service product templates (a template holds the code, name,
# unit and list price; its variants do not move its write_date), archived ones included.
SERVICE_ITEM_TYPE: tuple[str, list[Any], str] = (Model.TEMPLATE, [["type", "=", "service"]], MODIFIED_AT)
# Tryton's units (product.uom symbol, from the product module's data) of Concord's service units.
UOM_SYMBOLS = {"hour": "h", "unit": "u"}
TEMPLATE_FIELDS = ("code", "name", "type", "active", "list_price", "default_uom.symbol")


def read_service_item(client: TrytonRpcClient, template_id: str, currency: str) -> ServiceItem | None:
    """The service product template as a ServiceItem (None: not a service, or without a code);
    its list price is in the company's `currency`. A unit Concord has no name for is refused."""
    id_ = names.record_id(template_id, "product")
    row = lookups.read_one(client, Model.TEMPLATE, id_, TEMPLATE_FIELDS, "product")
    if row["type"] != "service" or not row.get("code"):
        return None
    symbol = (row.get("default_uom.") or {}).get("symbol")
    unit = next((unit for unit, known in UOM_SYMBOLS.items() if known == symbol), None)
    if unit is None:
        raise ValidationFailed(f"service product {row['code']!r} is sold by {symbol!r}: Concord knows hours and units")
    price = row.get("list_price")
    return ServiceItem(
        code=row["code"],
        name=row["name"],
        unit=unit,  # type: ignore[arg-type]  # one of UOM_SYMBOLS' keys
        list_price=Money(amount=Decimal(price), currency=currency) if price is not None else None,
        active=bool(row["active"]),
    )


def upsert_service_item(client: TrytonRpcClient, item: ServiceItem, currency: str) -> str:
    """Create the service product template, or update the one with the item's code (archived or
    not); its id. The unit is set on create only (Tryton refuses a change of unit category once
    the product is used). `currency`: the company's, that list prices are kept in."""
    if item.list_price is not None and item.list_price.currency != currency:
        raise ValidationFailed(
            f"service item {item.code!r} is priced in {item.list_price.currency}; "
            f"Tryton database {client.database!r} keeps prices in {currency}"
        )
    # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.search_read
    rows = lookups.search_read(client, Model.TEMPLATE, [["code", "=", item.code]], ["id"], active_test=False)
    if len(rows) > 1:
        raise PermanentError(f"{len(rows)} products with code {item.code!r} in Tryton database {client.database!r}")
    values: dict[str, Any] = {"name": item.name, "active": item.active}
    if item.list_price is not None:
        values["list_price"] = item.list_price.amount
    if rows:
        client.write(Model.TEMPLATE, [int(rows[0]["id"])], values)
        return str(rows[0]["id"])
    uom = _uom_id(client, item.unit)
    values |= {"code": item.code, "type": "service", "default_uom": uom, "list_price": values.get("list_price", 0)}
    # Its one variant (product.product) is what opportunity lines and tasks name: an RPC create
    # makes none by itself (the client's default does).
    values["products"] = [["create", [{}]]]
    if lookups.has_field(client, Model.TEMPLATE, "salable"):  # the sale module: sold on opportunities
        values |= {"salable": True, "sale_uom": uom}
    # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.create
    (template_id,) = client.create(Model.TEMPLATE, [values])
    return str(template_id)


def _uom_id(client: TrytonRpcClient, unit: str) -> int:
    rows = lookups.search_read(client, Model.UOM, [["symbol", "=", UOM_SYMBOLS[unit]]], ["id"], limit=1)
    if not rows:
        raise ValidationFailed(f"no unit {UOM_SYMBOLS[unit]!r} in Tryton database {client.database!r}")
    return int(rows[0]["id"])


class TrytonCatalogue:
    """ServiceItemCatalog for a Tryton connector with a `client` (the crm and psa databases)."""

    client: TrytonRpcClient
    _catalogue_currency: str | None = None

    def upsert_service_item(self, item: ServiceItem) -> str:
        if self._catalogue_currency is None:
            self._catalogue_currency = lookups.company_currency(self.client)
        return upsert_service_item(self.client, item, self._catalogue_currency)
