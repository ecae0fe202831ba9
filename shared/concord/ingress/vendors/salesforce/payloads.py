"""Salesforce's outbound message (SOAP 1.1), read from the safely parsed XML tree.

<soapenv:Envelope><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
  <OrganizationId/><ActionId/><SessionId/><EnterpriseUrl/><PartnerUrl/>
  <Notification><Id/><sObject xsi:type="sf:Account"><sf:Id/><sf:Name/>...</sObject></Notification>
  (up to 100 Notification elements)
</notifications></soapenv:Body></soapenv:Envelope>
https://developer.salesforce.com/docs/platform/api/guide/sforce-api-om-outboundmessaging-wsdl.html
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from ...errors import InvalidEvent
from ...xml_safety import Element
from ..common import VendorModel

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND = "http://soap.sforce.com/2005/09/outbound"
SOBJECT = "urn:sobject.enterprise.soap.sforce.com"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

SalesforceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")]


class SObject(VendorModel):
    type: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,79}$")]
    # Field name → value (None for xsi:nil); only the fields the outbound message was set up with.
    fields: dict[Annotated[str, Field(max_length=80)], Annotated[str, Field(max_length=32_768)] | None]


class Notification(VendorModel):
    Id: SalesforceId
    sObject: SObject


class OutboundMessage(VendorModel):
    OrganizationId: SalesforceId
    ActionId: SalesforceId
    notifications: Annotated[list[Notification], Field(min_length=1, max_length=100)]


# Qualified names as the parsed tree spells them ("{namespace}local"), built once.
_ENVELOPE, _BODY = f"{{{SOAP_ENV}}}Envelope", f"{{{SOAP_ENV}}}Body"
_NOTIFICATIONS, _NOTIFICATION = f"{{{OUTBOUND}}}notifications", f"{{{OUTBOUND}}}Notification"
_ID, _SOBJECT = f"{{{OUTBOUND}}}Id", f"{{{OUTBOUND}}}sObject"
_ORGANIZATION_ID, _ACTION_ID = f"{{{OUTBOUND}}}OrganizationId", f"{{{OUTBOUND}}}ActionId"
_NIL, _TYPE = f"{{{XSI}}}nil", f"{{{XSI}}}type"


def _text(element: Element | None) -> str | None:
    if element is None or element.attributes.get(_NIL) == "true":
        return None
    return element.text.strip()


def outbound_message(envelope: Element) -> dict:
    """The message's parts as plain data (validated by OutboundMessage), or InvalidEvent."""
    body = envelope.find(_BODY) if envelope.tag == _ENVELOPE else None
    notifications = body.find(_NOTIFICATIONS) if body is not None else None
    if notifications is None:
        raise InvalidEvent("body is not a Salesforce outbound message (SOAP Envelope/Body/notifications)")
    parsed = []
    for notification in notifications.find_all(_NOTIFICATION):
        sobject = notification.find(_SOBJECT)
        parsed.append(
            {
                "Id": _text(notification.find(_ID)),
                "sObject": None
                if sobject is None
                else {
                    "type": sobject.attributes.get(_TYPE, "").rsplit(":", 1)[-1],
                    "fields": {child.local_name: _text(child) for child in sobject.children},
                },
            }
        )
    return {
        "OrganizationId": _text(notifications.find(_ORGANIZATION_ID)),
        "ActionId": _text(notifications.find(_ACTION_ID)),
        "notifications": parsed,
    }
