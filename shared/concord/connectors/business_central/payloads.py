"""Business Central API v2.0 record shapes, as the API returns them (the fields Concord reads).

https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_customer
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_salesinvoice
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/resources/dynamics_customerpayment
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

# salesInvoice.status values; only these two are unposted.
UNPOSTED = frozenset({"Draft", "In Review"})
CANCELED = "Canceled"


class BcRecord(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    id: str
    etag: str = Field(default="", alias="@odata.etag")
    lastModifiedDateTime: dt.datetime


class CustomerRow(BcRecord):
    number: str = ""
    displayName: str
    addressLine1: str = ""
    addressLine2: str = ""
    city: str = ""
    state: str = ""
    country: str = ""
    postalCode: str = ""
    taxRegistrationNumber: str = ""
    currencyCode: str = ""
    blocked: str = " "


class SalesInvoiceRow(BcRecord):
    number: str = ""
    externalDocumentNumber: str = ""
    invoiceDate: dt.date | None = None
    dueDate: dt.date | None = None
    customerId: str
    currencyCode: str = ""
    totalAmountIncludingTax: Decimal = Decimal(0)
    remainingAmount: Decimal = Decimal(0)
    status: str

    @property
    def posted(self) -> bool:
        return self.status not in UNPOSTED and self.status != CANCELED


class CustomerPaymentRow(BcRecord):
    customerId: str | None = None
    postingDate: dt.date | None = None
    amount: Decimal = Decimal(0)
    appliesToInvoiceId: str | None = None
