"""What concord_sync pushes and what Concord's connectors read by polling are the same events.

For each once-per-record event (TimeApproved, InvoicePosted, PaymentReceived) a person does the
real thing in Tryton (approve, post, pay), the module pushes it, and the connector builds it
again from the record as the poller would: same payload, and the same delivery id from
changes_since's created_at. And echo suppression at the source: what Concord's connectors
write is not pushed back to it, while the same write by a user is.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from concord.connectors.kit.cursors import TimeCursor
from concord.connectors.tryton import TrytonErp, TrytonPsa
from concord.domain import RecordChange
from concord.events.payloads import InvoicePosted
from concord.local.scenarios.tryton_books import InvoiceDesk
from concord.sync.change_capture import once_per_record_delivery_id

from .records import Connect, customer_invoice, one, pay, project_with_task, reconcile_bank_receipt, time_line

# The push receiver (fixtures are imported to be used here).
from .test_concord_sync import (  # noqa: F401
    Receiver,
    push_home,
    pushing,
    receiver,
)


def _change(changes: list[RecordChange], record_id: str) -> RecordChange:
    (change,) = [c for c in changes if c.record_id == record_id]
    return change


def _since(moment: dt.datetime) -> str:
    return TimeCursor.at(moment.replace(tzinfo=dt.UTC) - dt.timedelta(minutes=5)).encode()


def test_time_approved_polled_equals_pushed(tryton_client: Connect, pushing: Receiver) -> None:
    user = tryton_client("psa")
    psa = TrytonPsa(tryton_client("psa", concord=True))
    _, task = project_with_task(user, "Parity project")
    line_id = time_line(user, task, 6.5)

    user.button("timesheet.line", "approve", [line_id])

    (delivery,) = pushing.take("psa", "TimeApproved")
    (polled,) = psa.approved_entries(str(line_id))
    assert polled.model_dump(mode="json") == delivery.event().data.model_dump(mode="json")
    line = one(user, "timesheet.line", [["id", "=", line_id]], ["approved_at"])
    change = _change(psa.changes_since("time_entry", _since(line["approved_at"]), 100).changes, str(line_id))
    assert once_per_record_delivery_id("TimeApproved", change) == delivery.headers["webhook-id"]


def test_invoice_posted_polled_equals_pushed(tryton_client: Connect, pushing: Receiver) -> None:
    user = tryton_client("erp")
    erp = TrytonErp(tryton_client("erp", concord=True))
    invoice_id = customer_invoice(user, "Parity Advisory", 8)

    user.button("account.invoice", "post", [invoice_id])

    (delivery,) = pushing.take("erp", "InvoicePosted")
    polled = erp.posted_invoice(str(invoice_id))
    assert polled is not None
    # the event sync logic makes of it is the one pushed (neither names a project)
    assert InvoicePosted.model_validate(polled.model_dump()).model_dump(
        mode="json"
    ) == delivery.event().data.model_dump(mode="json")
    row = one(user, "account.invoice", [["id", "=", invoice_id]], ["create_date"])
    change = _change(erp.changes_since("invoice", _since(row["create_date"]), 100).changes, str(invoice_id))
    assert once_per_record_delivery_id("InvoicePosted", change) == delivery.headers["webhook-id"]


def _assert_payment_parity(erp: TrytonErp, delivery: Any) -> None:
    pushed = delivery.event().data
    polled = erp.received_payment(pushed.payment_id)
    assert polled is not None
    assert polled.model_dump(mode="json") == pushed.model_dump(mode="json")
    (line,) = erp.client.search_read("account.move.line", [["id", "=", int(pushed.payment_id)]], ["create_date"])
    change = _change(erp.changes_since("payment", _since(line["create_date"]), 100).changes, pushed.payment_id)
    assert once_per_record_delivery_id("PaymentReceived", change) == delivery.headers["webhook-id"]


def test_payments_polled_equal_pushed(tryton_client: Connect, pushing: Receiver) -> None:
    user = tryton_client("erp")
    erp = TrytonErp(tryton_client("erp", concord=True))
    invoice_id = customer_invoice(user, "Parity Payer", 8)
    user.button("account.invoice", "post", [invoice_id])
    pushing.take("erp", "InvoicePosted")

    pay(user, invoice_id, Decimal("500.00"))
    (partial,) = pushing.take("erp", "PaymentReceived")
    _assert_payment_parity(erp, partial)  # read before the next payment: amount due 700

    pay(user, invoice_id, Decimal("700.00"))
    (final,) = pushing.take("erp", "PaymentReceived")
    _assert_payment_parity(erp, final)


def test_reconciled_payment_polled_equals_pushed(tryton_client: Connect, pushing: Receiver) -> None:
    user = tryton_client("erp")
    erp = TrytonErp(tryton_client("erp", concord=True))
    invoice_id = customer_invoice(user, "Parity Reconciled", 2)
    user.button("account.invoice", "post", [invoice_id])
    pushing.take("erp", "InvoicePosted")
    invoice = one(user, "account.invoice", [["id", "=", invoice_id]], ["party", "account", "lines_to_pay"])
    # A bank receipt booked by hand, then reconciled with the invoice's receivable line
    reconcile_bank_receipt(user, invoice, Decimal("300.00"))

    (delivery,) = pushing.take("erp", "PaymentReceived")
    _assert_payment_parity(erp, delivery)
    # the invoice's own receivable line, reconciled too, is no payment
    assert [erp.received_payment(str(i)) for i in invoice["lines_to_pay"]] == [None]


def test_what_concord_writes_is_not_pushed_back_what_a_user_writes_is(
    tryton_client: Connect, pushing: Receiver
) -> None:
    user_erp, user_crm = tryton_client("erp"), tryton_client("crm")
    erp = TrytonErp(tryton_client("erp", concord=True))
    concord_crm = tryton_client("crm", concord=True)
    by_concord = customer_invoice(user_erp, "Echo Advisory", 1)
    by_user = customer_invoice(user_erp, "Echo Advisory 2", 1)
    (party_id,) = user_crm.create("party.party", [{"name": "Echo Ltd"}])
    pushing.take("crm", "AccountChanged")

    # When Concord posts one invoice and renames a CRM account through its clients
    InvoiceDesk(erp.client).post_invoice(str(by_concord))
    concord_crm.write("party.party", [party_id], {"name": "Echo Ltd (renamed by Concord)"})

    # Then nothing is pushed (a delivery arrives before the RPC call returns)
    assert pushing.deliveries == []
    assert erp.get_invoice(str(by_concord)).posted

    # When a user does the same
    user_erp.button("account.invoice", "post", [by_user])
    user_crm.write("party.party", [party_id], {"name": "Echo Ltd (renamed by a user)"})

    # Then both are announced
    (posted,) = pushing.take("erp", "InvoicePosted")
    assert posted.event().data.invoice_id == str(by_user)
    (renamed,) = pushing.take("crm", "AccountChanged")
    assert renamed.event().data.name == "Echo Ltd (renamed by a user)"
    assert pushing.deliveries == []
