"""SOAP 1.1 envelopes of Workday Web Services, as the sandbox reads and writes them.

Requests and answers live in the namespace `urn:com.workday/bsvc`; a reference names a record
by one or more `<wd:ID wd:type="...">` (WID, or a reference id type such as Customer_ID); a
fault is a SOAP 1.1 `Fault` whose `detail` holds a `wd:Validation_Fault` (one
`wd:Validation_Error` per problem: Message, Detail_Message, Xpath) or a `wd:Processing_Fault`.
https://community.workday.com/sites/default/files/file-hosting/productionapi/index.html
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
BSVC = "urn:com.workday/bsvc"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS = {"env": SOAP, "wd": BSVC, "wsse": WSSE}
XML_TYPE = "text/xml; charset=utf-8"

ET.register_namespace("SOAP-ENV", SOAP)
ET.register_namespace("wd", BSVC)


def wd(name: str) -> str:
    """The qualified name of a Workday element or attribute."""
    return f"{{{BSVC}}}{name}"


class SoapFault(Exception):
    """A fault the sandbox answers (HTTP 500, as SOAP 1.1 over HTTP says)."""

    def __init__(self, code: str, message: str, *, validation: bool = True, xpath: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.validation, self.xpath = code, message, validation, xpath

    def envelope(self) -> bytes:
        fault = ET.Element(f"{{{SOAP}}}Fault")
        ET.SubElement(fault, "faultcode").text = self.code
        ET.SubElement(fault, "faultstring").text = self.message
        detail = ET.SubElement(fault, "detail")
        if self.validation:
            error = ET.SubElement(ET.SubElement(detail, wd("Validation_Fault")), wd("Validation_Error"))
            ET.SubElement(error, wd("Message")).text = self.message
            ET.SubElement(error, wd("Detail_Message")).text = self.message
            ET.SubElement(error, wd("Xpath")).text = self.xpath
        else:
            ET.SubElement(ET.SubElement(detail, wd("Processing_Fault")), wd("Detail_Message")).text = self.message
        return envelope(fault)


def invalid(message: str, xpath: str = "") -> SoapFault:
    return SoapFault("SOAP-ENV:Client.validationError", f"Validation error occurred. {message}", xpath=xpath)


def invalid_id(value: str, id_type: str) -> SoapFault:
    """Workday's answer to a reference id no record has."""
    return invalid(f"Invalid ID value.  '{value}' is not a valid ID value for type = '{id_type}'")


def envelope(payload: ET.Element) -> bytes:
    root = ET.Element(f"{{{SOAP}}}Envelope")
    ET.SubElement(root, f"{{{SOAP}}}Body").append(payload)
    encoded: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return encoded


def parse(body: bytes) -> tuple[ET.Element | None, ET.Element]:
    """The header (None if absent) and the request element of a SOAP envelope."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as error:
        raise SoapFault("SOAP-ENV:Client", f"Unmarshalling error: {error}", validation=False) from None
    soap_body = root.find("env:Body", NS)
    if root.tag != f"{{{SOAP}}}Envelope" or soap_body is None or len(soap_body) != 1:
        raise SoapFault(
            "SOAP-ENV:Client", "Unmarshalling error: not a SOAP envelope with one request", validation=False
        )
    return root.find("env:Header", NS), soap_body[0]


def text(element: ET.Element | None, path: str, default: str = "") -> str:
    found = element.find(path, NS) if element is not None else None
    return (found.text or "").strip() if found is not None else default


def ids_of(reference: ET.Element | None) -> dict[str, str]:
    """A reference's ids by type: {"WID": ..., "Customer_ID": ...}."""
    if reference is None:
        return {}
    return {item.get(wd("type"), ""): (item.text or "").strip() for item in reference.findall("wd:ID", NS)}


def reference(parent: ET.Element, name: str, ids: Iterable[tuple[str, str]]) -> ET.Element:
    element = ET.SubElement(parent, wd(name))
    for id_type, value in ids:
        ET.SubElement(element, wd("ID"), {wd("type"): id_type}).text = value
    return element


def add(parent: ET.Element, name: str, value: object) -> ET.Element:
    element = ET.SubElement(parent, wd(name))
    element.text = "" if value is None else str(value)
    return element
