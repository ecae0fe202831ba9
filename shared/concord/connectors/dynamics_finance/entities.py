"""The data entities Concord uses in Dynamics 365 Finance, their keys and the fields it reads and
writes: the one place that names them (docs/connectors.md says why each was chosen).

Entity sets are the public collection names under /data/. Every entity is company-specific: its key
starts with `dataAreaId` (the legal entity), so Concord's record ids carry the company too
("usmf:C-00042"), and reads that span companies ask with `cross-company=true`.
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entity:
    """An entity set, the key fields after `dataAreaId`, and its change stamps."""

    name: str
    keys: tuple[str, ...]
    modified: str = "ModifiedDateTime"
    created: str = "CreatedDateTime"


# Customer master (CustTable + party + primary address), keyed by company and customer account.
CUSTOMERS = Entity("CustomersV3", ("CustomerAccount",))
# Free text invoices: the header and lines Concord fills are a native draft until finance posts it.
INVOICE_HEADERS = Entity("FreeTextInvoiceHeaders", ("InvoiceIdentifier",))
INVOICE_LINES = Entity("FreeTextInvoiceLines", ("InvoiceIdentifier", "LineNumber"))
# Customer payments: lines of customer payment journals, each marked against the invoice it settles.
PAYMENT_JOURNALS = Entity("CustomerPaymentJournalHeaders", ("JournalBatchNumber",))
PAYMENT_LINES = Entity("CustomerPaymentJournalLines", ("JournalBatchNumber", "LineNumber"))
# Revenue recognition: the revenue schedules finance sets up (occurrences, recognition basis, automatic
# hold), and sales orders whose lines carry one with the contract dates; posting the order's invoice
# creates the deferral.
# https://learn.microsoft.com/en-us/dynamics365/finance/accounts-receivable/revenue-recognition-setup
REVENUE_SCHEDULES = Entity("RevRecRevRecRevenueSchedules", ("RevenueScheduleID",))
SALES_ORDERS = Entity("SalesOrderHeadersV2", ("SalesOrderNumber",))
SALES_ORDER_LINES = Entity("SalesOrderLines", ("InventoryLotId",))

COMPANY = "dataAreaId"
ETAG = "@odata.etag"
NEXT_LINK = "@odata.nextLink"
