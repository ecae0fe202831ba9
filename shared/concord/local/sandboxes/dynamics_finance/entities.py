"""The data entities the sandbox serves, their keys, fields and rules, and the posting that
finance does (here as bound actions, the sandbox's stand-in for posting in the client).

Records live in the kit's store by an internal RecId; an entity's key is dataAreaId plus its
key fields. Each write bumps a version that the entity's ETag carries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..kit import Tenant
from .errors import ODataError, bad_request, not_found

HIDDEN = ("RecId", "Version")


@dataclass(frozen=True)
class EntitySet:
    name: str
    keys: tuple[str, ...]
    fields: frozenset[str]
    required: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict)
    numeric_keys: tuple[str, ...] = ()
    # A key the environment assigns from a number sequence when the client sends none.
    sequence_key: str | None = None
    sequence_format: str = "{:06d}"

    @property
    def all_keys(self) -> tuple[str, ...]:
        return ("dataAreaId", *self.keys)


STAMPS = {"CreatedDateTime", "ModifiedDateTime"}
ENTITY_SETS = {e.name: e for e in (
    EntitySet("CustomersV3", ("CustomerAccount",), frozenset({
        "dataAreaId", "CustomerAccount", "OrganizationName", "CustomerGroupId", "SalesCurrencyCode", "PaymentTerms",
        "AddressStreet", "AddressCity", "AddressZipCode", "AddressState", "AddressCountryRegionId", "TaxExemptNumber",
        "OnHoldStatus", *STAMPS}), required=("dataAreaId", "CustomerAccount", "OrganizationName", "CustomerGroupId"),
        defaults={"OnHoldStatus": "No", "PaymentTerms": "Net30", "SalesCurrencyCode": "USD"}),
    EntitySet("FreeTextInvoiceHeaders", ("InvoiceIdentifier",), frozenset({
        "dataAreaId", "InvoiceIdentifier", "CustomerAccount", "CurrencyCode", "InvoiceDate", "DueDate",
        "CustomerReference", "IsPosted", "InvoiceNumber", *STAMPS}),
        required=("dataAreaId", "CustomerAccount", "CurrencyCode"), sequence_key="InvoiceIdentifier",
        sequence_format="FTI{:06d}", defaults={"IsPosted": False, "InvoiceNumber": "", "DueDate": None,
                                              "CustomerReference": ""}),
    EntitySet("FreeTextInvoiceLines", ("InvoiceIdentifier", "LineNumber"), frozenset({
        "dataAreaId", "InvoiceIdentifier", "LineNumber", "Description", "MainAccountDisplayValue", "Quantity",
        "UnitPrice", "ConcordLineRef", *STAMPS}),
        required=("dataAreaId", "InvoiceIdentifier", "LineNumber", "MainAccountDisplayValue", "Quantity", "UnitPrice"),
        numeric_keys=("LineNumber",), defaults={"Description": "", "ConcordLineRef": ""}),
    EntitySet("CustomerPaymentJournalHeaders", ("JournalBatchNumber",), frozenset({
        "dataAreaId", "JournalBatchNumber", "JournalName", "Description", "IsPosted", *STAMPS}),
        required=("dataAreaId", "JournalName"), sequence_key="JournalBatchNumber", sequence_format="PAY{:06d}",
        defaults={"IsPosted": False, "Description": ""}),
    EntitySet("CustomerPaymentJournalLines", ("JournalBatchNumber", "LineNumber"), frozenset({
        "dataAreaId", "JournalBatchNumber", "LineNumber", "AccountDisplayValue", "TransactionDate", "CreditAmount",
        "CurrencyCode", "MarkedInvoice", "IsPosted", *STAMPS}),
        required=("dataAreaId", "JournalBatchNumber", "LineNumber", "AccountDisplayValue", "CreditAmount"),
        numeric_keys=("LineNumber",), defaults={"IsPosted": False, "MarkedInvoice": ""}),
    # Revenue recognition: schedules (set up by finance, seeded per company) and sales orders whose
    # lines carry one.
    # https://learn.microsoft.com/en-us/dynamics365/finance/accounts-receivable/revenue-recognition-setup
    EntitySet("RevRecRevRecRevenueSchedules", ("RevenueScheduleID",), frozenset({
        "dataAreaId", "RevenueScheduleID", "Description", "Occurrences", "AutoHold", "AutoContractTerms",
        "RecognitionBasis", "RecognitionConvention", *STAMPS}),
        required=("dataAreaId", "RevenueScheduleID", "Occurrences"),
        defaults={"Description": "", "AutoHold": "No", "AutoContractTerms": "No", "RecognitionBasis": "Monthly",
                  "RecognitionConvention": "ActualStartDate"}),
    EntitySet("SalesOrderHeadersV2", ("SalesOrderNumber",), frozenset({
        "dataAreaId", "SalesOrderNumber", "OrderingCustomerAccountNumber", "CurrencyCode", "CustomersOrderReference",
        "SalesOrderStatus", *STAMPS}), required=("dataAreaId", "OrderingCustomerAccountNumber", "CurrencyCode"),
        sequence_key="SalesOrderNumber", sequence_format="SO-{:06d}",
        defaults={"CustomersOrderReference": "", "SalesOrderStatus": "Backorder"}),
    EntitySet("SalesOrderLines", ("InventoryLotId",), frozenset({
        "dataAreaId", "InventoryLotId", "SalesOrderNumber", "ItemNumber", "LineDescription", "OrderedSalesQuantity",
        "SalesPrice", "LineAmount", "RevRecRevenueScheduleId", "RevRecContractStartDate", "RevRecContractEndDate",
        *STAMPS}), required=("dataAreaId", "SalesOrderNumber", "ItemNumber", "OrderedSalesQuantity"),
        sequence_key="InventoryLotId", sequence_format="LOT{:07d}",
        defaults={"LineDescription": "", "RevRecRevenueScheduleId": "", "RevRecContractStartDate": None,
                  "RevRecContractEndDate": None}),
)}
# Reference data each company has: customer groups, terms of payment (days), main accounts.
CUSTOMER_GROUPS = {"10", "20", "30"}
PAYMENT_TERMS = {"Net10": 10, "Net30": 30, "Net45": 45, "Net60": 60}
MAIN_ACCOUNTS = {"401100", "401200"}
RELEASED_PRODUCTS = {"CONSULT-HR", "EXP-REBILL", "SUPPORT-YR", "MILESTONE"}
COMPANIES = ("usmf", "gbsi")
# The revenue schedules finance set up in every company: ratable terms, and one held for milestones.
REVENUE_SCHEDULES = (
    {"RevenueScheduleID": "12M", "Description": "12 months", "Occurrences": 12},
    {"RevenueScheduleID": "24M", "Description": "24 months", "Occurrences": 24},
    {"RevenueScheduleID": "36M", "Description": "36 months", "Occurrences": 36},
    {"RevenueScheduleID": "MILESTONE", "Description": "Milestone, held until met", "Occurrences": 1, "AutoHold": "Yes"},
)


def etag(row: dict[str, Any]) -> str:
    return f'W/"{row["RecId"]}.{row.get("Version", 0)}"'


def public(row: dict[str, Any]) -> dict[str, Any]:
    shown = {k: v for k, v in row.items() if k not in HIDDEN}
    return {"@odata.etag": etag(row), **shown}


def rows_of(tenant: Tenant, entity: EntitySet) -> list[dict[str, Any]]:
    return tenant.store.rows(entity.name)


def find(tenant: Tenant, entity: EntitySet, keys: dict[str, Any]) -> dict[str, Any] | None:
    wanted = {k: _key_value(entity, k, v) for k, v in keys.items()}
    for row in rows_of(tenant, entity):
        if all(_key_value(entity, k, row.get(k)) == v for k, v in wanted.items()):
            return row
    return None


def _key_value(entity: EntitySet, name: str, value: Any) -> Any:
    if name in entity.numeric_keys:
        return float(value) if value is not None else None
    return str(value).lower() if name == "dataAreaId" else value


def create(tenant: Tenant, entity: EntitySet, body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - entity.fields)
    if unknown:
        raise bad_request(f"The property '{unknown[0]}' does not exist on type 'Microsoft.Dynamics.DataEntities."
                          f"{entity.name}'. Make sure to only use property names that are defined by the type.")
    record = {**entity.defaults, **{k: v for k, v in body.items() if k not in STAMPS}}
    if entity.sequence_key and not record.get(entity.sequence_key):
        record[entity.sequence_key] = entity.sequence_format.format(len(rows_of(tenant, entity)) + 1)
    missing = [name for name in entity.required if record.get(name) in (None, "")]
    if missing:
        raise bad_request(f"Write failed for table row of type '{entity.name}'. Field '{missing[0]}' must be filled in.")
    record["dataAreaId"] = str(record["dataAreaId"]).lower()
    if record["dataAreaId"] not in COMPANIES:
        raise bad_request(f"Company '{record['dataAreaId']}' does not exist.")
    _check_rules(tenant, entity, record)
    if find(tenant, entity, {k: record[k] for k in entity.all_keys}) is not None:
        raise bad_request(f"Write failed for table row of type '{entity.name}'. Infolog: Error: Cannot create a "
                          f"record in {entity.name}. The record already exists.")
    return tenant.store.insert(entity.name, {**record, "Version": 0})


def update(tenant: Tenant, entity: EntitySet, row: dict[str, Any], body: dict[str, Any], if_match: str | None
           ) -> dict[str, Any]:
    if if_match not in (None, "*") and if_match != etag(row):
        raise ODataError(412, "The ETag value in the request header does not match with the current ETag value of "
                              "the object.")
    changed = [k for k in body if k in entity.all_keys and _key_value(entity, k, body[k]) != _key_value(entity, k, row[k])]
    unknown = sorted(set(body) - entity.fields)
    if unknown or changed:
        raise bad_request(f"The property '{(unknown or changed)[0]}' cannot be updated on {entity.name}.")
    if row.get("IsPosted"):
        raise bad_request(f"{entity.name} {row.get(entity.keys[0])} is posted and cannot be changed.")
    record = {**row, **{k: v for k, v in body.items() if k not in STAMPS}}
    _check_rules(tenant, entity, record)
    return tenant.store.update(entity.name, row["RecId"], {**record, "Version": row.get("Version", 0) + 1})


def _check_rules(tenant: Tenant, entity: EntitySet, record: dict[str, Any]) -> None:
    company = record["dataAreaId"]
    if entity.name == "CustomersV3":
        if record.get("CustomerGroupId") not in CUSTOMER_GROUPS:
            raise bad_request(f"Customer group {record.get('CustomerGroupId')} does not exist.")
        if record.get("PaymentTerms") not in PAYMENT_TERMS:
            raise bad_request(f"Terms of payment {record.get('PaymentTerms')} does not exist.")
    elif entity.name == "FreeTextInvoiceHeaders":
        if find(tenant, ENTITY_SETS["CustomersV3"], {"dataAreaId": company, "CustomerAccount": record["CustomerAccount"]}) is None:
            raise bad_request(f"Customer account {record['CustomerAccount']} does not exist.")
    elif entity.name == "FreeTextInvoiceLines":
        header = find(tenant, ENTITY_SETS["FreeTextInvoiceHeaders"],
                      {"dataAreaId": company, "InvoiceIdentifier": record["InvoiceIdentifier"]})
        if header is None or header.get("IsPosted"):
            raise bad_request(f"Free text invoice {record['InvoiceIdentifier']} does not exist or is posted.")
        if record.get("MainAccountDisplayValue") not in MAIN_ACCOUNTS:
            raise bad_request(f"Main account {record.get('MainAccountDisplayValue')} does not exist.")
    elif entity.name == "SalesOrderHeadersV2":
        if find(tenant, ENTITY_SETS["CustomersV3"],
                {"dataAreaId": company, "CustomerAccount": record["OrderingCustomerAccountNumber"]}) is None:
            raise bad_request(f"Customer account {record['OrderingCustomerAccountNumber']} does not exist.")
    elif entity.name == "SalesOrderLines":
        _check_sales_order_line(tenant, company, record)
    elif entity.name == "CustomerPaymentJournalLines":
        journal = find(tenant, ENTITY_SETS["CustomerPaymentJournalHeaders"],
                       {"dataAreaId": company, "JournalBatchNumber": record["JournalBatchNumber"]})
        if journal is None or journal.get("IsPosted"):
            raise bad_request(f"Journal {record['JournalBatchNumber']} does not exist or is posted.")


def _check_sales_order_line(tenant: Tenant, company: str, record: dict[str, Any]) -> None:
    if find(tenant, ENTITY_SETS["SalesOrderHeadersV2"],
            {"dataAreaId": company, "SalesOrderNumber": record["SalesOrderNumber"]}) is None:
        raise bad_request(f"Sales order {record['SalesOrderNumber']} does not exist.")
    if record["ItemNumber"] not in RELEASED_PRODUCTS:
        raise bad_request(f"Item number {record['ItemNumber']} has not been released to company {company}.")
    schedule = record.get("RevRecRevenueScheduleId")
    if schedule and find(tenant, ENTITY_SETS["RevRecRevRecRevenueSchedules"],
                         {"dataAreaId": company, "RevenueScheduleID": schedule}) is None:
        raise bad_request(f"Revenue schedule {schedule} does not exist.")
    start, end = record.get("RevRecContractStartDate"), record.get("RevRecContractEndDate")
    if start and end and end < start:
        raise bad_request("The contract end date must be after the contract start date.")


def seed_reference_data(tenant: Tenant) -> None:
    """What finance set up in every company before Concord connects."""
    entity = ENTITY_SETS["RevRecRevRecRevenueSchedules"]
    for company in COMPANIES:
        for schedule in REVENUE_SCHEDULES:
            create(tenant, entity, {"dataAreaId": company, **schedule})


def post(tenant: Tenant, entity: EntitySet, row: dict[str, Any], today: dt.date) -> dict[str, Any]:
    """Posting by finance: a free text invoice gets its number and due date; a payment journal
    posts with its lines."""
    if row.get("IsPosted"):
        raise bad_request(f"{entity.name} {row.get(entity.keys[0])} is already posted.")
    company = row["dataAreaId"]
    if entity.name == "FreeTextInvoiceHeaders":
        lines = [r for r in rows_of(tenant, ENTITY_SETS["FreeTextInvoiceLines"])
                 if r["dataAreaId"] == company and r["InvoiceIdentifier"] == row["InvoiceIdentifier"]]
        if not lines:
            raise bad_request("The free text invoice has no lines and cannot be posted.")
        customer = find(tenant, ENTITY_SETS["CustomersV3"], {"dataAreaId": company, "CustomerAccount": row["CustomerAccount"]})
        days = PAYMENT_TERMS.get((customer or {}).get("PaymentTerms", "Net30"), 30)
        posted = sum(1 for r in rows_of(tenant, entity) if r.get("IsPosted")) + 1
        changes = {"IsPosted": True, "InvoiceNumber": f"CIV-{posted:06d}", "InvoiceDate": today.isoformat(),
                   "DueDate": (today + dt.timedelta(days=days)).isoformat()}
    elif entity.name == "CustomerPaymentJournalHeaders":
        lines = [r for r in rows_of(tenant, ENTITY_SETS["CustomerPaymentJournalLines"])
                 if r["dataAreaId"] == company and r["JournalBatchNumber"] == row["JournalBatchNumber"]]
        if not lines:
            raise bad_request("The journal has no lines and cannot be posted.")
        for line in lines:
            tenant.store.update("CustomerPaymentJournalLines", line["RecId"],
                                {"IsPosted": True, "Version": line.get("Version", 0) + 1})
        changes = {"IsPosted": True}
    else:
        raise not_found(f"{entity.name}/Microsoft.Dynamics.DataEntities.Post")
    return tenant.store.update(entity.name, row["RecId"], {**changes, "Version": row.get("Version", 0) + 1})
