"""ErpCustomers over Workday's Put_Customer / Get_Customers (Revenue_Management).

Concord's id names the customer: its Customer_Reference ID of type Customer_ID is the Concord
reference (client-assigned reference ids make a Put idempotent: a create retried after a crash
updates the first). A Put replaces the customer's data, so each change reads the customer and
sends it back whole with the change.
https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Put_Customer.html
https://community.workday.com/sites/default/files/file-hosting/productionapi/Revenue_Management/v45.0/Get_Customers.html
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace

from concord.domain import Customer, CustomerUpdate, ErpCustomer
from concord.errors import ValidationFailed
from concord.events.types import Address
from concord.ports import ErpCustomers

from ..kit.errors import NotFound
from . import soap
from .client import WorkdayClient

CUSTOMER_ID_LENGTH = 50
_NET_DAYS = re.compile(r"^net[ _-]*(\d+)(?:[ _-]*days?)?$", re.IGNORECASE)


@dataclass(frozen=True)
class WorkdayCustomer:
    customer_id: str
    name: str
    tax_id: str = ""
    currency: str = ""
    payment_terms: str = ""
    active: bool = True
    address: Address | None = None


def customer_reference_id(external_ref: str) -> str:
    """The Customer_ID Concord gives the customer of `external_ref`: the ref itself when it fits."""
    if len(external_ref) <= CUSTOMER_ID_LENGTH:
        return external_ref
    return "CONCORD-" + hashlib.sha256(external_ref.encode()).hexdigest()[: CUSTOMER_ID_LENGTH - 8].upper()


def payment_terms_id(payment_term: str) -> str:
    """ "Net 30 days" (as CRMs and Concord's rules name terms) -> Workday's "Net_30"."""
    match = _NET_DAYS.match(payment_term.strip())
    return f"Net_{match.group(1)}" if match else re.sub(r"\s+", "_", payment_term.strip())


class WorkdayCustomers(ErpCustomers):
    client: WorkdayClient

    def find_customer(self, *, tax_id: str | None, name: str) -> ErpCustomer | None:
        """By tax id, else exact name (inactive customers included); the first created wins."""
        criteria = ([("Business_Entity_Tax_ID", tax_id)] if tax_id else []) + [("Customer_Name", name)]
        for element, value in criteria:
            body = self.client.request("Get_Customers")
            soap.child(soap.child(body, "Request_Criteria"), element, value)
            found = self.client.page("Get_Customers", body, "Customer", 1, 1).items
            if found:
                return to_erp_customer(parsed_customer(found[0]))
        return None

    def upsert_customer(self, customer: Customer, external_ref: str, customer_id: str | None) -> ErpCustomer:
        """Put the customer under `customer_id`, or under the Customer_ID derived from
        `external_ref` (an update when it exists), active, keeping its payment terms."""
        wanted = customer_id or customer_reference_id(external_ref)
        try:
            current = self._customer(wanted)
        except NotFound:
            if customer_id is not None:
                raise
            current = WorkdayCustomer(customer_id=wanted, name=customer.name)
        updated = replace(
            current,
            name=customer.name,
            tax_id=customer.tax_id or "",
            currency=customer.currency or current.currency,
            address=customer.billing_address,
            active=True,
        )
        self._put(updated)
        return to_erp_customer(updated, external_ref)

    def deactivate_customer(self, customer_id: str, reason: str) -> None:
        self._put(replace(self._customer(customer_id), active=False))

    def set_payment_term(self, customer_id: str, payment_term: str) -> None:
        """By Payment_Terms_ID ("Net_30") or as people name it ("Net 30 days"); an unknown one
        is a ValidationFailed."""
        current = self._customer(customer_id)
        try:
            self._put(replace(current, payment_terms=payment_terms_id(payment_term)))
        except NotFound as error:
            raise ValidationFailed(f"workday has no payment terms {payment_term!r}") from error

    def get_customer(self, customer_id: str) -> ErpCustomer:
        return to_erp_customer(self._customer(customer_id))

    def update_customer(self, customer_id: str, changes: CustomerUpdate) -> None:
        if changes.is_empty():
            return
        current = self._customer(customer_id)
        self._put(
            replace(
                current,
                name=changes.name or current.name,
                tax_id=changes.tax_id if changes.tax_id is not None else current.tax_id,
                currency=changes.currency or current.currency,
                address=changes.billing_address or current.address,
            )
        )

    # -- steps ----------------------------------------------------------------------------------

    def _customer(self, customer_id: str) -> WorkdayCustomer:
        body = self.client.request("Get_Customers")
        soap.reference(soap.child(body, "Request_References"), "Customer_Reference", "Customer_ID", customer_id)
        found = self.client.page("Get_Customers", body, "Customer", 1, 1).items
        if not found:
            raise NotFound(f"workday has no customer {customer_id!r}")
        return parsed_customer(found[0])

    def _put(self, customer: WorkdayCustomer) -> None:
        body = self.client.request("Put_Customer")
        fill_put_customer(body, customer)
        self.client.call("Put_Customer", body)


def fill_put_customer(body: ET.Element, customer: WorkdayCustomer) -> None:
    """A Put_Customer_Request: the whole customer (a Put replaces its data), under its Customer_ID."""
    soap.reference(body, "Customer_Reference", "Customer_ID", customer.customer_id)
    data = soap.child(body, "Customer_Data")
    soap.child(data, "Customer_ID", customer.customer_id)
    soap.child(data, "Customer_Name", customer.name[:255])
    entity = soap.child(data, "Business_Entity_Data")
    soap.child(entity, "Business_Entity_Name", customer.name[:255])
    if customer.tax_id:
        soap.child(entity, "Business_Entity_Tax_ID", customer.tax_id)
    if customer.address is not None:
        _address(soap.child(soap.child(entity, "Contact_Data"), "Address_Data"), customer.address)
    if customer.currency:
        soap.reference(data, "Currency_Reference", "Currency_ID", customer.currency)
    if customer.payment_terms:
        soap.reference(data, "Payment_Terms_Reference", "Payment_Terms_ID", customer.payment_terms)
    status = soap.child(data, "Customer_Status_Data")
    state = "Active" if customer.active else "Inactive"
    soap.reference(status, "Customer_Status_Reference", "Business_Entity_Status_Value_ID", state)


def _address(element: ET.Element, address: Address) -> None:
    soap.child(element, "Address_Line_Data", address.street).set(soap.wd("Type"), "ADDRESS_LINE_1")
    soap.child(element, "Municipality", address.city)
    soap.child(element, "Country_Region_Descriptor", address.region)
    soap.child(element, "Postal_Code", address.postal_code)
    soap.reference(element, "Country_Reference", "ISO_3166-1_Alpha-2_Code", address.country)


def parsed_customer(element: ET.Element) -> WorkdayCustomer:
    """A Get_Customers answer's `wd:Customer` element."""
    data = element.find("wd:Customer_Data", soap.NS)
    entity = data.find("wd:Business_Entity_Data", soap.NS) if data is not None else None
    found = entity.find("wd:Contact_Data/wd:Address_Data", soap.NS) if entity is not None else None
    address = None
    country = soap.id_of(found, "wd:Country_Reference", "ISO_3166-1_Alpha-2_Code")
    if found is not None and soap.text(found, "wd:Address_Line_Data") and len(country) == 2:
        address = Address(
            street=soap.text(found, "wd:Address_Line_Data"),
            city=soap.text(found, "wd:Municipality"),
            region=soap.text(found, "wd:Country_Region_Descriptor"),
            postal_code=soap.text(found, "wd:Postal_Code"),
            country=country,
        )
    state = soap.id_of(data, "wd:Customer_Status_Data/wd:Customer_Status_Reference", "Business_Entity_Status_Value_ID")
    return WorkdayCustomer(
        customer_id=soap.id_of(element, "wd:Customer_Reference", "Customer_ID") or soap.text(data, "wd:Customer_ID"),
        name=soap.text(data, "wd:Customer_Name"),
        tax_id=soap.text(entity, "wd:Business_Entity_Tax_ID"),
        currency=soap.id_of(data, "wd:Currency_Reference", "Currency_ID"),
        payment_terms=soap.id_of(data, "wd:Payment_Terms_Reference", "Payment_Terms_ID"),
        active=state != "Inactive",
        address=address,
    )


def to_erp_customer(customer: WorkdayCustomer, external_ref: str | None = None) -> ErpCustomer:
    return ErpCustomer(
        customer_id=customer.customer_id,
        name=customer.name,
        tax_id=customer.tax_id or None,
        external_ref=external_ref,
        billing_address=customer.address,
        currency=customer.currency or None,
    )
