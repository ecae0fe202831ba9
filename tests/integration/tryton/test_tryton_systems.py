"""The local CRM, PSA and ERP (Tryton 8.2) behave as real systems, reached via the RPC client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from concord.connectors.tryton import TrytonPermanentError, TrytonRpcClient, TrytonTransientError
from concord.local.tryton import DATABASES, TrytonServer, restore_snapshot

Connect = Callable[[str], TrytonRpcClient]

COMPANY = "Concord Demo Services Ltd"
PRODUCT = "Consulting hour"
PAYMENT_TERM = "Net 30 days"


def _product(client: TrytonRpcClient) -> dict[str, Any]:
    (product,) = client.search_read("product.product", [["rec_name", "=", PRODUCT]], ["default_uom"])
    return product


@pytest.mark.parametrize("database", DATABASES)
def test_login_gives_the_company_context(tryton_client: Connect, database: str) -> None:
    # Given a client for the database / When it logs in
    client = tryton_client(database)
    client.login()

    # Then its context names the seeded company and the admin's employee, not `employees`
    context = client.context
    assert context["company"] and context["companies"] == [context["company"]]
    assert context["employee"]
    assert "employees" not in context


@pytest.mark.parametrize("database", DATABASES)
def test_each_database_has_its_master_data(tryton_client: Connect, database: str) -> None:
    client = tryton_client(database)

    companies = client.search_read("company.company", [], ["rec_name", "currency.code"])
    templates = client.search_read(
        "product.template", [["name", "=", PRODUCT]], ["list_price", "type", "default_uom.rec_name"]
    )
    terms = client.search_read("account.invoice.payment_term", [["name", "=", PAYMENT_TERM]], ["name"])
    fiscal_years = client.search_read(
        "account.fiscalyear", [["start_date", "<=", dt.date.today()], ["end_date", ">=", dt.date.today()]], ["state"]
    )

    assert [(c["rec_name"], c["currency."]["code"]) for c in companies] == [(COMPANY, "USD")]
    assert [(t["list_price"], t["type"], t["default_uom."]["rec_name"]) for t in templates] == [
        (Decimal("150.00"), "service", "Hour")
    ]
    assert len(terms) == 1
    assert [f["state"] for f in fiscal_years] == ["open"]


def test_crm_party_round_trip(tryton_client: Connect) -> None:
    crm = tryton_client("crm")

    (party_id,) = crm.create("party.party", [{"name": "Globex Consulting"}])
    crm.write("party.party", [party_id], {"name": "Globex Consulting Group"})

    (party,) = crm.search_read("party.party", [["id", "=", party_id]], ["name", "code"])
    assert party["name"] == "Globex Consulting Group"
    assert party["code"]  # numbered by the party sequence


def test_psa_project_with_tasks_and_time(tryton_client: Connect) -> None:
    psa = tryton_client("psa")
    (customer_id,) = psa.create("party.party", [{"name": "Initech"}])

    # Given a time-and-materials project with two tasks
    (project_id,) = psa.create(
        "project.work",
        [
            {
                "name": "Initech ERP rollout",
                "type": "project",
                "party": customer_id,
                "project_invoice_method": "timesheet",
                "product": _product(psa)["id"],
                "list_price": Decimal("150.00"),
                "timesheet_available": True,
                "children": [
                    [
                        "create",
                        [
                            {"name": "Discovery", "type": "task", "timesheet_available": True},
                            {"name": "Build", "type": "task", "timesheet_available": True},
                        ],
                    ]
                ],
            }
        ],
    )
    tasks = psa.search_read(
        "project.work", [["parent", "=", project_id]], ["name", "type", "timesheet_works"], order=[("name", "ASC")]
    )
    assert [(t["name"], t["type"]) for t in tasks] == [("Build", "task"), ("Discovery", "task")]

    # When 3 hours are logged on a task (duration travels as a tagged timedelta)
    (line_id,) = psa.create(
        "timesheet.line",
        [
            {
                "work": tasks[1]["timesheet_works"][0],
                "employee": psa.context["employee"],
                "date": dt.date.today(),
                "duration": dt.timedelta(hours=3),
            }
        ],
    )

    # Then the line and the project's effort read back as real Python values
    (line,) = psa.search_read("timesheet.line", [["id", "=", line_id]], ["duration", "date"])
    assert line["duration"] == dt.timedelta(hours=3)
    assert line["date"] == dt.date.today()
    (project,) = psa.search_read("project.work", [["id", "=", project_id]], ["timesheet_duration"])
    assert project["timesheet_duration"] == dt.timedelta(hours=3)


def test_erp_customer_invoice_is_posted(tryton_client: Connect) -> None:
    erp = tryton_client("erp")
    (customer_id,) = erp.create(
        "party.party", [{"name": "Umbrella Advisory", "addresses": [["create", [{"street": "1 Main St"}]]]}]
    )
    (customer,) = erp.search_read("party.party", [["id", "=", customer_id]], ["addresses", "customer_payment_term"])
    # Raw RPC runs no on_change: set what the client would fill in from the configuration.
    (config,) = erp.call("model.account.configuration.read", [1], ["default_account_receivable"])
    product = _product(erp)
    (revenue_journal,) = erp.search_read("account.journal", [["type", "=", "revenue"]], ["id"])
    (category,) = erp.search_read("product.category", [["name", "=", "Services"]], ["account_revenue"])

    (invoice_id,) = erp.create(
        "account.invoice",
        [
            {
                "type": "out",
                "party": customer_id,
                "invoice_address": customer["addresses"][0],
                "journal": revenue_journal["id"],
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
                                "description": "Discovery workshop",
                                "quantity": 8.0,
                                "unit_price": Decimal("150.00"),
                                "account": category["account_revenue"],
                            }
                        ],
                    ]
                ],
            }
        ],
    )
    erp.button("account.invoice", "post", [invoice_id])

    (invoice,) = erp.search_read(
        "account.invoice",
        [["id", "=", invoice_id]],
        ["state", "number", "total_amount", "amount_to_pay", "invoice_date", "payment_term.name"],
    )
    assert invoice["state"] == "posted"
    assert invoice["number"]
    assert invoice["total_amount"] == Decimal("1200.00")
    assert invoice["amount_to_pay"] == Decimal("1200.00")
    assert invoice["invoice_date"] == dt.date.today()
    assert invoice["payment_term."]["name"] == PAYMENT_TERM


def test_session_is_reused(tryton_client: Connect) -> None:
    crm = tryton_client("crm")

    crm.search_read("party.party", [], ["name"], limit=1)
    crm.search_read("company.company", [], ["rec_name"])

    assert crm.login_count == 1


def test_invalid_field_is_a_permanent_error(tryton_client: Connect) -> None:
    crm = tryton_client("crm")

    with pytest.raises(TrytonPermanentError) as caught:
        crm.create("party.party", [{"name": "Bad", "no_such_field": 1}])

    assert caught.value.method == "model.party.party.create"
    assert not isinstance(caught.value, TrytonTransientError)


def test_user_error_is_a_permanent_error_with_its_message(tryton_client: Connect) -> None:
    crm = tryton_client("crm")

    with pytest.raises(TrytonPermanentError) as caught:
        crm.create("party.party", [{"name": "Twin", "code": "DUP-1"}, {"name": "Twin", "code": "DUP-1"}])

    assert caught.value.kind == "UserError"


def test_connection_refused_is_a_transient_error(unused_port: int) -> None:
    client = TrytonRpcClient(f"http://127.0.0.1:{unused_port}", "crm", "admin", "x", timeout=2.0)

    with pytest.raises(TrytonTransientError):
        client.login()


def test_restore_snapshot_removes_later_data(
    tryton_client: Connect,
    tryton_server: TrytonServer,
    tryton_home: Path,
) -> None:
    # Given a party created after the snapshot
    crm = tryton_client("crm")
    crm.create("party.party", [{"name": "Ephemeral Ltd"}])
    assert crm.search_read("party.party", [["name", "=", "Ephemeral Ltd"]], ["id"])

    # When the snapshot is restored (the server restarts on the same port)
    restore_snapshot(tryton_home)

    # Then the party is gone, the seeded data is there, and the client re-logged in by itself
    assert crm.search_read("party.party", [["name", "=", "Ephemeral Ltd"]], ["id"]) == []
    assert crm.search_read("company.company", [], ["rec_name"])[0]["rec_name"] == COMPANY
    assert crm.login_count == 2
