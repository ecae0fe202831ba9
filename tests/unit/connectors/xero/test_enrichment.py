"""A Xero invoice webhook names the invoice only: enrichment reads it through the Xero
connector and announces what polling would, under the same event id."""

from __future__ import annotations

from decimal import Decimal

from concord.domain import Customer, InvoiceLine
from concord.events.payloads import ChangeNotified
from concord.sync.change_capture import watch_for
from concord.sync.enrichment import enrich
from tests.unit.fakes import FakeBus, FakeCrm, FakePsa

from .sandbox_systems import XeroSystems


def test_a_notice_of_a_posted_invoice_is_announced_once_as_polling_would(systems: XeroSystems) -> None:
    erp = systems.erp
    customer = erp.upsert_customer(Customer(account_id="e", name="Enriched", legal_entity="us-01"), "customer:e", None)
    draft = erp.open_invoice_draft(customer.customer_id, "USD", "project:e")
    erp.add_invoice_lines(draft, [InvoiceLine(description="x", quantity=2, service_item="CONSULT-HR", concord_ref="t")])
    unposted = ChangeNotified(system="erp", record_type="invoice", record_ids=[draft], vendor_source="xero")
    connectors = (FakeCrm(), FakePsa(), erp)
    before, bus = FakeBus(), FakeBus()

    enrich([unposted], connectors, before, "us-01")  # a draft: nothing to announce yet
    systems.finance.post(draft)
    report = enrich([unposted], connectors, bus, "us-01")
    watch = watch_for("erp", "invoice", "xero", connectors, "us-01")
    polled = [event for change in erp.changes_of("invoice", [draft]) for event in watch.announcer_for([change])(change)]

    assert before.published == [] and report.events == 1
    (posted,) = bus.published
    assert posted.type == "InvoicePosted" and posted.data.invoice_id == draft
    assert posted.data.total.amount == Decimal(300)
    assert [event.id for event in polled] == [posted.id]
