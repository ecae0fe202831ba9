"""A "collection" notification (over 1,000 changes) names no record: the ingress makes it a
ChangeNotified without ids, and enrichment answers it with a delta read of that record type
from change capture's checkpoint, through the Business Central connector and its sandbox."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from concord.domain import Customer, InvoiceLine
from concord.errors import ConfigurationError
from concord.events.payloads import ChangeNotified
from concord.events.types import Address
from concord.sync.change_capture import capture, watch_for
from concord.sync.enrichment import enrich

from ...fakes import FakeBus, FakeCrm, FakePsa
from ...test_change_capture import MemoryCheckpoints
from .sandbox_systems import BusinessCentralSystems

SOURCE = "businesscentral"
COLLECTION = ChangeNotified(system="erp", record_type="invoice", record_ids=[], vendor_source=SOURCE)


def _posted_invoices(systems: BusinessCentralSystems, count: int) -> list[str]:
    customer = systems.erp.upsert_customer(
        Customer(account_id="acc-1", name="Acme Ltd", tax_id="12-3456781", currency="USD", legal_entity="us-01",
                 billing_address=Address(street="1 Main St", city="Springfield", postal_code="12345", country="US")),
        "customer:crm:acc-1", None)
    posted = []
    for n in range(count):
        draft = systems.erp.open_invoice_draft(customer.customer_id, "USD", f"project:crm:opp-{n}")
        systems.erp.add_invoice_lines(draft, [InvoiceLine(description="work", quantity=Decimal(2),
                                                          service_item="CONSULT-HR", concord_ref=f"time:{n}")])
        systems.finance.post(draft)
        posted.append(draft)
    return posted


def test_a_collection_notice_reads_and_announces_every_invoice_changed_since_the_checkpoint(
    systems: BusinessCentralSystems,
) -> None:
    checkpoints = MemoryCheckpoints({"erp:invoice": systems.erp.start_cursor("invoice", dt.datetime.now(dt.UTC))})
    posted = _posted_invoices(systems, 3)
    connectors = (FakeCrm(), FakePsa(), systems.erp)
    bus = FakeBus()
    before = checkpoints.saved["erp:invoice"]

    report = enrich([COLLECTION], connectors, bus, "us-01", checkpoints=checkpoints)

    assert sorted(event.data.invoice_id for event in bus.published) == sorted(posted)
    assert {event.type for event in bus.published} == {"InvoicePosted"}
    assert (report.notices, report.records, report.events) == (1, 0, 3) and report.found >= 3
    assert checkpoints.saved["erp:invoice"] != before  # moved on: the next poll starts after them


def test_the_delta_read_announces_the_ids_the_scheduled_poll_would(systems: BusinessCentralSystems) -> None:
    start = systems.erp.start_cursor("invoice", dt.datetime.now(dt.UTC))
    _posted_invoices(systems, 2)
    connectors = (FakeCrm(), FakePsa(), systems.erp)
    pushed, polled = FakeBus(), FakeBus()

    enrich([COLLECTION], connectors, pushed, "us-01", checkpoints=MemoryCheckpoints({"erp:invoice": start}))
    capture(watch_for("erp", "invoice", SOURCE, connectors, "us-01"), MemoryCheckpoints({"erp:invoice": start}),
            polled, dt.datetime.now(dt.UTC))

    assert sorted(e.id for e in pushed.published) == sorted(e.id for e in polled.published)
    assert len(pushed.published) == 2


def test_a_collection_notice_without_a_checkpoint_store_is_refused_not_dropped(systems: BusinessCentralSystems) -> None:
    with pytest.raises(ConfigurationError, match="delta read"):
        enrich([COLLECTION], (FakeCrm(), FakePsa(), systems.erp), FakeBus(), "us-01")
