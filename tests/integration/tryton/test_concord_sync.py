"""Concord's own Tryton module, concord_sync, in the real crm / psa / erp databases: the push,
signed canonical deliveries POSTed after commit to a local receiver standing in for Concord's
ingress (concord_ref and timesheet approval are in test_concord_ref.py).
Every delivery is checked the way Concord's ingress checks it: Standard Webhooks signature,
then `to_canonical_event` (canonical body, producer allowed for the source, payload model).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from concord.connectors.tryton import TrytonPermanentError
from concord.events import EVENT_MODEL_BY_TYPE, Envelope
from concord.events.types import System
from concord.ingress.canonical import to_canonical_event
from concord.ingress.sources import SourceConfig
from concord.ingress.standard_webhooks import verify
from concord.local.tryton import DATABASES, TrytonServer, configured_push, start_server
from concord.local.tryton.layout import TrytonHome

from .records import (
    CUSTOMER,
    PRODUCT_CODE,
    Connect,
    customer_invoice,
    one,
    pay,
    project_with_task,
    reconcile_bank_receipt,
    service_product,
    time_line,
)

SECRETS = {db: "whsec_" + base64.b64encode(os.urandom(24)).decode() for db in DATABASES}
LEGAL_ENTITY = "us-01"


# -- a local receiver standing in for Concord's webhook ingress -------------------------------


@dataclass(frozen=True)
class Delivery:
    source: str
    headers: dict[str, str]
    body: bytes

    @property
    def type(self) -> str:
        return str(json.loads(self.body)["type"])

    def event(self) -> Envelope:
        """Verified and normalized as Concord's ingress does it; raises if anything is off."""
        now = dt.datetime.now(dt.UTC)
        verified = verify([SECRETS[self.source]], self.headers, self.body, now)
        source = SourceConfig(system=System(self.source), legal_entity=LEGAL_ENTITY)
        event = to_canonical_event(self.source, source, verified.delivery_id, json.loads(self.body), now)
        # ...and the payload alone against its canonical model (docs/tryton.md, "Push").
        data_model = EVENT_MODEL_BY_TYPE[event.type].model_fields["data"].annotation
        data_model.model_validate(json.loads(self.body)["data"])
        return event


class Receiver:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                source = self.path.rstrip("/").rsplit("/", 1)[-1]
                with receiver._arrived:
                    receiver.deliveries.append(Delivery(source, {k.lower(): v for k, v in self.headers.items()}, body))
                    receiver._arrived.notify_all()
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/webhooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def take(self, source: str, event_type: str, count: int = 1, timeout: float = 5.0) -> list[Delivery]:
        """Wait for `count` deliveries of `event_type` from `source`, remove and return them."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = [d for d in self.deliveries if d.source == source and d.type == event_type]
                if len(found) >= count or time.monotonic() >= deadline:
                    break
                self._arrived.wait(deadline - time.monotonic())
            for delivery in found:
                self.deliveries.remove(delivery)
        assert len(found) == count, (
            f"expected {count} {event_type} from {source}, got {len(found)}; "
            f"others waiting: {[(d.source, d.type) for d in self.deliveries]}"
        )
        return found

    def clear(self) -> None:
        with self._arrived:
            self.deliveries.clear()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def push_home(tryton_server: TrytonServer, tryton_home: Path) -> Iterator[Path]:
    yield tryton_home
    # Leave the session's server as the other test modules expect it: push disabled.
    start_server(tryton_home, tryton_server.port)


@pytest.fixture
def pushing(receiver: Receiver, push_home: Path, tryton_server: TrytonServer) -> Iterator[Receiver]:
    """The session's server, pushing to the receiver (restarted once for that, same port)."""
    start_server(push_home, tryton_server.port, webhook_url=receiver.url, webhook_secrets=SECRETS)
    receiver.clear()
    yield receiver
    # The module logs instead of raising: a failed build or delivery only shows in the log.
    log = TrytonHome(push_home).server_log.read_text(errors="replace").splitlines()
    assert [line for line in log if "concord_sync" in line and (" WARNING " in line or " ERROR " in line)] == []


# -- push ------------------------------------------------------------------------------------


def test_creating_a_party_in_crm_pushes_a_signed_account_changed(tryton_client: Connect, pushing: Receiver) -> None:
    crm = tryton_client("crm")
    us = one(crm, "country.country", [["code", "=", "US"]], ["id"])

    # When a customer is created in the CRM with a billing address and a tax id
    (party_id,) = crm.create(
        "party.party",
        [
            {
                "name": "Globex Consulting",
                "addresses": [
                    [
                        "create",
                        [
                            {
                                "street": "1 Main St",
                                "city": "Springfield",
                                "postal_code": "01101",
                                "country": us["id"],
                                "invoice": True,
                            }
                        ],
                    ]
                ],
                "identifiers": [["create", [{"type": "us_ein", "code": "04-2103594"}]]],
            }
        ],
    )

    # Then exactly one AccountChanged arrived, signed with the crm secret, valid and complete
    (delivery,) = pushing.take("crm", "AccountChanged")
    event = delivery.event()
    assert event.legal_entity == LEGAL_ENTITY
    assert abs(event.occurred_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert event.data.model_dump(mode="json") == {
        "account_id": str(party_id),
        "name": "Globex Consulting",
        "billing_address": {
            "street": "1 Main St",
            "city": "Springfield",
            "postal_code": "01101",
            "region": "",
            "country": "US",
        },
        "tax_id": "04-2103594",
        "currency": "USD",
        "parent_account_id": None,
        "changed_fields": ["name", "billing_address", "tax_id", "currency"],
    }

    # When only its name changes, the event says so
    crm.write("party.party", [party_id], {"name": "Globex Consulting Group"})
    (renamed,) = pushing.take("crm", "AccountChanged")
    assert renamed.event().data.changed_fields == ["name"]
    assert renamed.headers["webhook-id"] != delivery.headers["webhook-id"]


def test_parties_of_psa_and_erp_announce_nothing(tryton_client: Connect, pushing: Receiver) -> None:
    # The CRM is the authority for accounts: Concord would refuse AccountChanged from them.
    for database in ("psa", "erp"):
        tryton_client(database).create("party.party", [{"name": f"Mirror in {database}"}])

    assert pushing.deliveries == []


def test_the_parties_of_employees_and_the_company_are_not_accounts(tryton_client: Connect, pushing: Receiver) -> None:
    crm = tryton_client("crm")
    employee = one(crm, "company.employee", [["id", "=", crm.context["employee"]]], ["party.name"])
    company = one(crm, "company.company", [["id", "=", crm.context["company"]]], ["party.name"])

    crm.write("party.party", [employee["party."]["id"]], {"name": employee["party."]["name"]})
    crm.write("party.party", [company["party."]["id"]], {"name": company["party."]["name"]})

    assert pushing.deliveries == []


def test_a_person_added_to_a_crm_account_pushes_contact_changed_and_their_phone_another(
    tryton_client: Connect, pushing: Receiver
) -> None:
    crm = tryton_client("crm")
    (party_id,) = crm.create("party.party", [{"name": "Initech"}])
    pushing.take("crm", "AccountChanged")

    # When the account's billing contact is added with their email
    (email_id,) = crm.create(
        "party.contact_mechanism",
        [{"party": party_id, "type": "email", "value": "pat@initech.example", "name": "Pat Lumbergh", "invoice": True}],
    )
    (added,) = pushing.take("crm", "ContactChanged")
    assert added.event().data.model_dump(mode="json") == {
        "contact_id": str(email_id),
        "account_id": str(party_id),
        "role": "billing",
        "name": "Pat Lumbergh",
        "email": "pat@initech.example",
        "phone": None,
        "changed_fields": ["email", "name", "phone", "role"],
    }

    # Then their phone (a mechanism of the same name) is a change of that contact
    crm.create(
        "party.contact_mechanism",
        [{"party": party_id, "type": "phone", "value": "+1 555 0123", "name": "Pat Lumbergh"}],
    )
    (phoned,) = pushing.take("crm", "ContactChanged")
    assert phoned.event().data.contact_id == str(email_id)
    assert (phoned.event().data.phone, phoned.event().data.changed_fields) == ("+1 555 0123", ["phone"])


def test_winning_an_opportunity_pushes_opportunity_closed_won(tryton_client: Connect, pushing: Receiver) -> None:
    crm = tryton_client("crm")
    customer = one(crm, "party.party", [["name", "=", CUSTOMER]], ["id"])
    product = service_product(crm)

    # Given an opportunity for the seeded customer, converted into a sale
    (opportunity_id,) = crm.create(
        "sale.opportunity",
        [
            {
                "party": customer["id"],
                "description": "Northwind ERP advisory",
                "lines": [["create", [{"product": product["id"], "quantity": 40.0, "unit": product["default_uom"]}]]],
            }
        ],
    )
    crm.button("sale.opportunity", "opportunity", [opportunity_id])
    crm.button("sale.opportunity", "convert", [opportunity_id])
    sale = one(crm, "sale.sale", [["origin", "=", f"sale.opportunity,{opportunity_id}"]], ["id"])
    crm.write("sale.sale", [sale["id"]], {"invoice_method": "manual"})
    crm.button("sale.sale", "quote", [sale["id"]])
    assert [d for d in pushing.deliveries if d.type == "OpportunityClosedWon"] == []

    # When the sale is confirmed (that is what wins an opportunity in Tryton)
    crm.button("sale.sale", "confirm", [sale["id"]])

    # Then OpportunityClosedWon arrives with the sale's priced lines
    (delivery,) = pushing.take("crm", "OpportunityClosedWon")
    event = delivery.event()
    data = event.data.model_dump(mode="json")
    owner = one(crm, "sale.opportunity", [["id", "=", opportunity_id]], ["employee.rec_name"]).get("employee.")
    assert event.version == 2
    assert data == {
        "opportunity_id": str(opportunity_id),
        "account_id": str(customer["id"]),
        "name": "Northwind ERP advisory",
        "amount": {"amount": "6000.00", "currency": "USD"},
        "closed_on": dt.date.today().isoformat(),
        "lines": [
            {
                "service_item": PRODUCT_CODE,
                "description": "Consulting hour",
                "quantity": "40.0000",
                "unit_price": {"amount": "150.0000", "currency": "USD"},
            }
        ],
        "payment_term": "Net 30 days",
        # Tryton's opportunity has no contract type; its employee owns the billing.
        "contract_type": "time_and_materials",
        "billing_owner": owner["rec_name"] if owner else None,
    }
    state = one(crm, "sale.opportunity", [["id", "=", opportunity_id]], ["state"])["state"]
    assert state == "won"


def test_approving_time_in_psa_pushes_time_approved(tryton_client: Connect, pushing: Receiver) -> None:
    psa = tryton_client("psa")
    project_id, task = project_with_task(psa, "Pushed project")
    line_id = time_line(psa, task, 7.25)

    psa.button("timesheet.line", "approve", [line_id])

    (delivery,) = pushing.take("psa", "TimeApproved")
    event = delivery.event()
    line = one(psa, "timesheet.line", [["id", "=", line_id]], ["approved_at"])
    assert event.data.model_dump(mode="json", exclude={"approved_at"}) == {
        "time_entry_id": str(line_id),
        "project_id": str(project_id),
        "task_id": str(task["id"]),
        "employee_id": str(psa.context["employee"]),
        "worked_on": dt.date.today().isoformat(),
        "hours": "7.25",
        "billable": True,
        "cost_centre": None,  # Tryton's timesheet lines name none
    }
    approved_at = line["approved_at"].replace(tzinfo=dt.UTC)  # Tryton's naive UTC
    assert event.data.approved_at == approved_at == event.occurred_at
    # Approving again announces nothing new
    psa.button("timesheet.line", "approve", [line_id])
    assert pushing.deliveries == []


def test_posting_and_paying_an_invoice_in_erp_push_invoice_posted_and_payments(
    tryton_client: Connect, pushing: Receiver
) -> None:
    erp = tryton_client("erp")
    invoice_id = customer_invoice(erp, "Umbrella Advisory", 8)
    assert pushing.deliveries == []  # a draft invoice is not announced

    # When it is posted
    erp.button("account.invoice", "post", [invoice_id])

    (posted,) = pushing.take("erp", "InvoicePosted")
    invoice = one(erp, "account.invoice", [["id", "=", invoice_id]], ["number", "party", "invoice_date"])
    assert posted.event().data.model_dump(mode="json") == {
        "invoice_id": str(invoice_id),
        "number": invoice["number"],
        "customer_id": str(invoice["party"]),
        "project_id": None,
        "invoiced_on": invoice["invoice_date"].isoformat(),
        "due_on": (invoice["invoice_date"] + dt.timedelta(days=30)).isoformat(),
        "total": {"amount": "1200.00", "currency": "USD"},
    }

    # When it is paid in two parts through the pay wizard
    pay(erp, invoice_id, Decimal("500.00"))
    (first,) = pushing.take("erp", "PaymentReceived")
    pay(erp, invoice_id, Decimal("700.00"))
    (second,) = pushing.take("erp", "PaymentReceived")  # the first one is not announced again

    # Then each payment is announced once, with what is left to pay
    payments = [d.event().data.model_dump(mode="json") for d in (first, second)]
    assert [(p["amount"]["amount"], p["invoice_amount_due"]["amount"]) for p in payments] == [
        ("500.00", "700.00"),
        ("700.00", "0"),
    ]
    assert {p["invoice_id"] for p in payments} == {str(invoice_id)}
    assert {p["received_on"] for p in payments} == {dt.date.today().isoformat()}
    assert payments[0]["payment_id"] != payments[1]["payment_id"]
    assert one(erp, "account.invoice", [["id", "=", invoice_id]], ["state"])["state"] == "paid"
    assert pushing.deliveries == []


def test_reconciling_a_bank_line_with_an_invoice_pushes_payment_received(
    tryton_client: Connect, pushing: Receiver
) -> None:
    erp = tryton_client("erp")
    invoice_id = customer_invoice(erp, "Initech Advisory", 2)
    erp.button("account.invoice", "post", [invoice_id])
    pushing.take("erp", "InvoicePosted")
    invoice = one(erp, "account.invoice", [["id", "=", invoice_id]], ["party", "account", "lines_to_pay"])

    # Given a bank receipt booked by hand (no pay wizard: not a payment line of the invoice),
    # when it is reconciled with the invoice's receivable line (the reconcile-lines wizard)
    today = dt.date.today()
    receipt = reconcile_bank_receipt(erp, invoice, Decimal("300.00"))

    # Then the receipt is announced as the invoice's payment
    (delivery,) = pushing.take("erp", "PaymentReceived")
    assert delivery.event().data.model_dump(mode="json") == {
        "payment_id": str(receipt["id"]),
        "invoice_id": str(invoice_id),
        "amount": {"amount": "300.00", "currency": "USD"},
        "received_on": today.isoformat(),
        "invoice_amount_due": {"amount": "0", "currency": "USD"},
    }
    assert pushing.deliveries == []


def test_a_rolled_back_change_is_not_pushed(tryton_client: Connect, pushing: Receiver) -> None:
    crm = tryton_client("crm")
    (party_id,) = crm.call("model.party.party.create", [{"name": "Rollback Ltd"}], context={"concord_push": False})

    # When one call adds an address (queues AccountChanged: addresses are set first) and
    # then fails on an invalid tax id, so the whole transaction is rolled back
    with pytest.raises(TrytonPermanentError):
        crm.write(
            "party.party",
            [party_id],
            {
                "addresses": [["create", [{"street": "2 Side St", "city": "Springfield"}]]],
                "identifiers": [["create", [{"type": "us_ein", "code": "not-an-ein"}]]],
            },
        )

    # Then nothing was announced (trytond runs atexit hooks after a rollback too)
    time.sleep(0.2)
    assert pushing.deliveries == []
    assert one(crm, "party.party", [["id", "=", party_id]], ["addresses"])["addresses"] == []


def test_a_caller_can_opt_out_with_the_concord_push_context(tryton_client: Connect, pushing: Receiver) -> None:
    crm = tryton_client("crm")

    crm.call("model.party.party.create", [{"name": "Written by Concord"}], context={"concord_push": False})

    assert pushing.deliveries == []


def test_no_push_without_a_webhook_url(
    tryton_client: Connect, tryton_server: TrytonServer, push_home: Path, receiver: Receiver
) -> None:
    # Given the server restarted without push settings
    start_server(push_home, tryton_server.port)
    assert configured_push(push_home) is None
    receiver.clear()

    # When records change that would otherwise be announced
    tryton_client("crm").create("party.party", [{"name": "Quiet Ltd"}])
    psa = tryton_client("psa")
    _, task = project_with_task(psa, "Quiet project")
    psa.button("timesheet.line", "approve", [time_line(psa, task, 1.0)])

    # Then nothing is sent (a delivery would have arrived before the RPC call returned)
    time.sleep(0.2)
    assert receiver.deliveries == []
