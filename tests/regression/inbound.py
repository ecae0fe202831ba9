"""Inbound mappers: a vendor's webhook delivery → canonical events (the ingress scheme's own
normalize, as the webhook function runs it after verifying), and a vendor's API records →
Concord's records (each connector's `to_canonical_*` mappers, as enrichment and polling read).

A connector joins with a `<connector>/records/<kind>.json` file and one line in RECORD_MAPPERS.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

from pydantic import BaseModel

from concord.connectors.business_central import mappers as business_central
from concord.connectors.business_central.payloads import SalesInvoiceRow
from concord.connectors.dynamics_finance import mappers as dynamics_finance
from concord.connectors.dynamics_finance.connection import FinanceConnection
from concord.connectors.hubspot import mappers as hubspot
from concord.connectors.hubspot.crm import CrmProperties
from concord.connectors.hubspot.payloads import SimpleObject
from concord.connectors.netsuite import mappers as netsuite
from concord.connectors.netsuite.connection import Fields as NetSuiteFields
from concord.connectors.quickbooks.customers import erp_customer as quickbooks_customer
from concord.connectors.salesforce import mappers as salesforce
from concord.connectors.salesforce.crm import CrmFields
from concord.connectors.workday.customers import parsed_customer, to_erp_customer
from concord.connectors.xero import mappers as xero
from concord.connectors.xero.payloads import ContactRow, InvoiceRow
from concord.events import Envelope
from concord.ingress.delivery import Verified, WebhookRequest
from concord.ingress.schemes import scheme_for
from concord.ingress.service import parse_json
from concord.ingress.sources import SourceConfig
from concord.ingress.xml_safety import parse_xml

from .corpus import FROZEN_NOW

MAX_DEPTH = 64
DEFAULT_LEGAL_ENTITY = "us-01"


def replay_webhook(item: Mapping[str, Any]) -> dict[str, Any]:
    """One delivery as the scheme normalizes it: its id, canonical events and unprocessed items."""
    source = SourceConfig.model_validate(item["source"])
    scheme = scheme_for(source.scheme)
    body = item["body"].encode()
    request = WebhookRequest(
        source=item["source_name"],
        headers={k.lower(): v for k, v in item.get("headers", {}).items()},
        body=body,
        url=item.get("url", ""),
        query=item.get("query", {}),
    )
    payload = parse_xml(body, MAX_DEPTH) if scheme.body_format == "xml" else parse_json(body, MAX_DEPTH)
    verified = Verified(delivery_id=item.get("delivery_id"))
    secret = scheme.coerce_secret(item["secret"])
    normalized = scheme.normalize(request, item["source_name"], source, secret, verified, payload, FROZEN_NOW)
    return {
        "delivery_id": normalized.delivery_id,
        "events": [event_json(event) for event in normalized.events],
        "unprocessed": [asdict(entry) for entry in normalized.unprocessed],
    }


def event_json(event: Envelope) -> dict[str, Any]:
    return event.model_dump(mode="json")


def _dumped(value: BaseModel | list[BaseModel] | None) -> Any:
    if isinstance(value, list):
        return [v.model_dump(mode="json") for v in value]
    return value.model_dump(mode="json") if value is not None else None


def _salesforce_account(record: Mapping[str, Any]) -> Any:
    fields = CrmFields()
    return salesforce.to_canonical_customer(
        record,
        tax_id_field=fields.tax_id,
        legal_entity_field=fields.legal_entity,
        default_legal_entity=DEFAULT_LEGAL_ENTITY,
    )


def _hubspot_company(record: Mapping[str, Any]) -> Any:
    properties = CrmProperties()
    return hubspot.to_canonical_customer(
        SimpleObject.model_validate(record),
        tax_id=properties.tax_id,
        legal_entity=properties.legal_entity,
        currency=properties.currency,
        default_legal_entity=DEFAULT_LEGAL_ENTITY,
    )


def _hubspot_deal(record: Mapping[str, Any]) -> Any:
    return hubspot.to_canonical_opportunity(
        SimpleObject.model_validate(record["deal"]),
        [SimpleObject.model_validate(item) for item in record["line_items"]],
        product_code=CrmProperties().product_code,
        default_currency="USD",
    )


def _business_central_invoice(record: Mapping[str, Any]) -> Any:
    return business_central.to_posted_invoice(SalesInvoiceRow.model_validate(record), "USD")


# The NetSuite sandbox account's currency ids (the connector looks them up with SuiteQL).
NETSUITE_CURRENCIES = {"101": "USD"}
FINANCE_COUNTRY_REGIONS: dict[str, str] = FinanceConnection.model_fields["country_regions"].default_factory()  # type: ignore[call-arg, misc]


def _netsuite_customer(record: Mapping[str, Any]) -> Any:
    currency = NETSUITE_CURRENCIES.get(str((record.get("currency") or {}).get("id")))
    return netsuite.to_erp_customer(dict(record), NetSuiteFields().tax_id, currency)


def _workday_customer(record: Mapping[str, Any]) -> Any:
    """A Get_Customers answer's wd:Customer element, kept as its lines of XML."""
    return to_erp_customer(parsed_customer(ET.fromstring("\n".join(record["xml"]))))


# "<connector>/<kind>" → the inbound mapper of one record of that kind.
RECORD_MAPPERS: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "business_central/sales_invoice": _business_central_invoice,
    "dynamics_finance/customer": lambda row: dynamics_finance.to_erp_customer(row, FINANCE_COUNTRY_REGIONS),
    "hubspot/company": _hubspot_company,
    "hubspot/deal": _hubspot_deal,
    "netsuite/customer": _netsuite_customer,
    "quickbooks/customer": lambda record: quickbooks_customer(dict(record)),
    "salesforce/account": _salesforce_account,
    "salesforce/opportunity": salesforce.to_canonical_opportunity,
    "workday/customer": _workday_customer,
    "xero/contact": lambda record: xero.to_erp_customer(ContactRow.model_validate(record)),
    "xero/invoice": lambda record: xero.to_posted_invoice(InvoiceRow.model_validate(record)),
}


def replay_records(key: str, records: list[Mapping[str, Any]]) -> list[Any]:
    mapper = RECORD_MAPPERS[key]
    return [_dumped(mapper(record)) for record in records]
