"""Records the concord_sync tests make in the crm / psa / erp databases: projects with a task,
timesheet lines, customer invoices, payments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from concord.connectors.tryton import TrytonRpcClient
from concord.local.scenarios.tryton import FinanceClerk

Connect = Callable[[str], TrytonRpcClient]

PRODUCT_CODE = "CONSULT-HR"
CUSTOMER = "Northwind Advisory LLC"


def one(client: TrytonRpcClient, model: str, domain: list[Any], fields: list[str]) -> dict[str, Any]:
    (record,) = client.search_read(model, domain, fields)
    return record


def service_product(client: TrytonRpcClient) -> dict[str, Any]:
    return one(client, "product.product", [["code", "=", PRODUCT_CODE]], ["default_uom", "list_price"])


def project_with_task(psa: TrytonRpcClient, name: str) -> tuple[int, dict[str, Any]]:
    (customer_id,) = psa.create("party.party", [{"name": f"{name} customer"}])
    (project_id,) = psa.create(
        "project.work",
        [
            {
                "name": name,
                "type": "project",
                "party": customer_id,
                "project_invoice_method": "timesheet",
                "product": service_product(psa)["id"],
                "list_price": Decimal("150.00"),
                "timesheet_available": True,
                "children": [["create", [{"name": "Build", "type": "task", "timesheet_available": True}]]],
            }
        ],
    )
    task = one(psa, "project.work", [["parent", "=", project_id]], ["timesheet_works"])
    return project_id, task


def time_line(psa: TrytonRpcClient, task: dict[str, Any], hours: float) -> int:
    (line_id,) = psa.create(
        "timesheet.line",
        [
            {
                "work": task["timesheet_works"][0],
                "employee": psa.context["employee"],
                "date": dt.date.today(),
                "duration": dt.timedelta(hours=hours),
                "description": "Sprint work",
            }
        ],
    )
    return int(line_id)


def customer_invoice(erp: TrytonRpcClient, party_name: str, hours: int) -> int:
    (customer_id,) = erp.create(
        "party.party", [{"name": party_name, "addresses": [["create", [{"street": "1 Main St"}]]]}]
    )
    customer = one(erp, "party.party", [["id", "=", customer_id]], ["addresses", "customer_payment_term"])
    (config,) = erp.call("model.account.configuration.read", [1], ["default_account_receivable"])
    product = service_product(erp)
    journal = one(erp, "account.journal", [["type", "=", "revenue"]], ["id"])
    category = one(erp, "product.category", [["name", "=", "Services"]], ["account_revenue"])
    (invoice_id,) = erp.create(
        "account.invoice",
        [
            {
                "type": "out",
                "party": customer_id,
                "invoice_address": customer["addresses"][0],
                "journal": journal["id"],
                "account": config["default_account_receivable"],
                "payment_term": customer["customer_payment_term"],
                "lines": [
                    [
                        "create",
                        [
                            {
                                "type": "line",
                                "product": product["id"],
                                "unit": product["default_uom"],
                                "description": "Advisory",
                                "quantity": float(hours),
                                "unit_price": Decimal("150.00"),
                                "account": category["account_revenue"],
                            }
                        ],
                    ]
                ],
            }
        ],
    )
    return int(invoice_id)


def pay(erp: TrytonRpcClient, invoice_id: int, amount: Decimal) -> None:
    FinanceClerk(erp).pay(invoice_id, amount)


def reconcile_bank_receipt(client: TrytonRpcClient, invoice: dict[str, Any], amount: Decimal) -> dict[str, Any]:
    """A bank receipt booked by hand (no pay wizard: not a payment line of the invoice), then
    reconciled with the invoice's receivable line by the reconcile-lines wizard; the receipt's
    receivable line. `invoice` carries its party, account and lines_to_pay."""
    method = one(
        client, "account.invoice.payment.method", [["name", "=", "Bank transfer"]], ["journal", "debit_account"]
    )
    today = dt.date.today()
    period = one(
        client,
        "account.period",
        [["start_date", "<=", today], ["end_date", ">=", today], ["type", "=", "standard"]],
        ["id"],
    )
    (move_id,) = client.create(
        "account.move",
        [
            {
                "journal": method["journal"],
                "period": period["id"],
                "date": today,
                "lines": [
                    [
                        "create",
                        [
                            {"account": method["debit_account"], "debit": amount, "credit": Decimal(0)},
                            {
                                "account": invoice["account"],
                                "party": invoice["party"],
                                "debit": Decimal(0),
                                "credit": amount,
                            },
                        ],
                    ]
                ],
            }
        ],
    )
    client.button("account.move", "post", [move_id])
    receipt = one(client, "account.move.line", [["move", "=", move_id], ["account", "=", invoice["account"]]], ["id"])
    context = {"active_model": "account.move.line", "active_ids": [*invoice["lines_to_pay"], receipt["id"]]}
    session, _, _ = client.call("wizard.account.move.reconcile_lines.create")
    client.call("wizard.account.move.reconcile_lines.execute", session, {}, "start", context=context)
    client.call("wizard.account.move.reconcile_lines.delete", session, context=context)
    return receipt
