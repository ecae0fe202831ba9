"""The Workday connector against the in-process sandbox: what the port contract does not cover
(fault mapping, credential rotation, OAuth sign-in, throttling, closed drafts, window paging)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.connectors import workday
from concord.connectors.kit.errors import AuthFailed, NotFound, Throttled
from concord.connectors.registry import ConnectorContext, Role
from concord.domain import Customer, InvoiceLine
from concord.errors import ConfigurationError, DraftClosed, ValidationFailed
from concord.events.types import Address
from concord.local.sandboxes.workday import API_CLIENT, REFRESH_TOKEN

from .sandbox_systems import WorkdaySystems, connection, workday_systems


def _customer(n: int = 1) -> Customer:
    return Customer(
        account_id=f"acc-{n}",
        name=f"Customer {n}",
        tax_id=f"12-000000{n}",
        currency="USD",
        billing_address=Address(street="1 Main St", city="Springfield", postal_code="12345", country="US"),
        legal_entity="us-01",
    )


def _line(ref: str, hours: float = 1.0) -> InvoiceLine:
    return InvoiceLine(description=f"{hours} h", quantity=hours, service_item="CONSULT-HR", concord_ref=ref)


def test_the_customer_is_keyed_by_concords_ref_and_keeps_its_terms_through_a_put(systems: WorkdaySystems) -> None:
    created = systems.erp.upsert_customer(_customer(), "customer:crm:acc-1", None)
    systems.erp.set_payment_term(created.customer_id, "Net 45 days")
    again = systems.erp.upsert_customer(_customer().model_copy(update={"name": "Renamed"}), "customer:crm:acc-1", None)
    systems.erp.deactivate_customer(created.customer_id, "closed")

    assert created.customer_id == again.customer_id == "customer:crm:acc-1"
    found = systems.erp.find_customer(tax_id="12-0000001", name="nobody")
    assert found is not None and found.name == "Renamed" and found.billing_address == _customer().billing_address
    row = systems.server.sandbox.tenants["erp"].store.find("customers", "Customer_ID", created.customer_id)[0]
    assert (row["payment_terms"], row["status"]) == ("Net_45", "Inactive")


def test_an_unknown_payment_term_is_a_validation_failure_and_an_unknown_customer_not_found(
    systems: WorkdaySystems,
) -> None:
    created = systems.erp.upsert_customer(_customer(), "customer:crm:acc-1", None)

    with pytest.raises(ValidationFailed):
        systems.erp.set_payment_term(created.customer_id, "Net 99 days")
    with pytest.raises(NotFound):
        systems.erp.get_customer("customer:crm:nobody")


def test_lines_sent_to_a_submitted_invoice_are_draft_closed_and_the_next_draft_is_new(systems: WorkdaySystems) -> None:
    customer = systems.erp.upsert_customer(_customer(), "customer:crm:acc-1", None)
    draft = systems.erp.open_invoice_draft(customer.customer_id, "USD", "project:p1")
    systems.erp.add_invoice_lines(draft, [_line("time:1", 2.0)])
    systems.finance.post_invoice("project:p1")

    with pytest.raises(DraftClosed):
        systems.erp.add_invoice_lines(draft, [_line("time:2")])
    second = systems.erp.open_invoice_draft(customer.customer_id, "USD", "project:p1")
    posted = systems.erp.posted_invoice(draft)

    assert second != draft and systems.erp.posted_invoice(second) is None
    assert posted is not None and posted.total.amount == Decimal("300.00")  # CONSULT-HR's 150 an hour


def test_a_window_larger_than_the_limit_is_read_page_by_page_once(systems: WorkdaySystems) -> None:
    cursor = systems.erp.start_cursor("customer", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    made = [systems.erp.upsert_customer(_customer(n), f"customer:crm:acc-{n}", None).customer_id for n in range(5)]

    seen: list[str] = []
    while True:
        page = systems.erp.changes_since("customer", cursor, 2)
        seen += [change.record_id for change in page.changes]
        cursor = page.cursor
        if not page.more:
            break

    assert seen == made
    assert systems.erp.changes_since("customer", cursor, 2).changes == []


def test_a_rotated_isu_password_is_read_again_after_the_refusal() -> None:
    with workday_systems() as running:
        rotated = connection(running.server.url)
        stale = {**rotated, "auth": {**rotated["auth"], "password": "the-old-password"}}
        context = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(rotated))
        erp = workday.connect(Role.ERP, stale, context)

        assert erp.find_customer(tax_id=None, name="nobody") is None  # signed in with the re-read secret
        hopeless = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(stale))
        with pytest.raises(AuthFailed):
            workday.connect(Role.ERP, stale, hopeless).find_customer(tax_id=None, name="nobody")
        erp.client.close()


def test_an_api_client_with_a_refresh_token_signs_in_with_bearer_tokens() -> None:
    with workday_systems() as running:
        secret = connection(running.server.url)
        secret["auth"] = {
            "type": "refresh_token",
            "client_id": API_CLIENT.client_id,
            "client_secret": API_CLIENT.client_secret.get_secret_value(),  # type: ignore[union-attr]
            "refresh_token": REFRESH_TOKEN,
        }
        context = ConnectorContext(default_legal_entity="concord-us", reload_connection=lambda: dict(secret))
        erp = workday.connect(Role.ERP, secret, context)

        created = erp.upsert_customer(_customer(), "customer:crm:acc-1", None)

        assert erp.get_customer(created.customer_id).name == "Customer 1"
        erp.client.close()


def test_a_throttled_tenant_is_a_throttle_and_a_bad_secret_a_configuration_error(systems: WorkdaySystems) -> None:
    systems.control.set_budget("erp", 0)

    with pytest.raises(Throttled):
        systems.erp.find_customer(tax_id=None, name="nobody")
    with pytest.raises(ConfigurationError, match="auth"):
        workday.connect(Role.ERP, {**systems.secret, "auth": {"type": "isu"}}, None)  # type: ignore[arg-type]
