"""Workday Web Services' SOAP 1.1 envelopes, built and read with the standard library's
ElementTree (about eight operations need no generated client such as zeep; Workday's WSDL/XSD
carry no licence, so none is copied here). Python's expat refuses entity-expansion attacks
(amplification limits), and no external entity or DTD is ever fetched.

- Requests: `<wd:{Operation}_Request wd:version="v45.0">` in `urn:com.workday/bsvc`; an ISU signs
  in with a WS-Security UsernameToken (PasswordText) in the SOAP header.
- Faults: HTTP 500 with a SOAP `Fault`: `faultcode` (e.g. `SOAP-ENV:Client.validationError`),
  `faultstring`, and a `detail` of `wd:Validation_Fault`/`wd:Validation_Error` (Message,
  Detail_Message, Xpath) or `wd:Processing_Fault`.
https://community.workday.com/sites/default/files/file-hosting/productionapi/index.html
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from concord.errors import PermanentError

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
BSVC = "urn:com.workday/bsvc"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText"
NS = {"env": SOAP, "wd": BSVC}
CONTENT_TYPE = "text/xml; charset=utf-8"


def wd(name: str) -> str:
    return f"{{{BSVC}}}{name}"


def request(operation: str, version: str, *, add_only: bool = False) -> ET.Element:
    """An empty `{operation}_Request` element to fill."""
    attributes = {wd("version"): version}
    if add_only:
        attributes[wd("Add_Only")] = "true"
    return ET.Element(wd(f"{operation}_Request"), attributes)


def child(parent: ET.Element, name: str, value: object | None = None) -> ET.Element:
    element = ET.SubElement(parent, wd(name))
    if value is not None:
        element.text = str(value)
    return element


def reference(parent: ET.Element, name: str, id_type: str, value: str) -> ET.Element:
    element = ET.SubElement(parent, wd(name))
    ET.SubElement(element, wd("ID"), {wd("type"): id_type}).text = value
    return element


def envelope(body: ET.Element, security: tuple[str, str] | None) -> bytes:
    """The request in a SOAP envelope; with `security` (username, password) a WS-Security
    UsernameToken header signs it in."""
    root = ET.Element(f"{{{SOAP}}}Envelope")
    if security is not None:
        token = ET.SubElement(
            ET.SubElement(ET.SubElement(root, f"{{{SOAP}}}Header"), f"{{{WSSE}}}Security"),
            f"{{{WSSE}}}UsernameToken",
        )
        ET.SubElement(token, f"{{{WSSE}}}Username").text = security[0]
        ET.SubElement(token, f"{{{WSSE}}}Password", {"Type": PASSWORD_TEXT}).text = security[1]
    ET.SubElement(root, f"{{{SOAP}}}Body").append(body)
    encoded: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return encoded


def answer(content: bytes, operation: str) -> ET.Element:
    """The `{operation}_Response` element of a successful answer."""
    try:
        body = ET.fromstring(content).find("env:Body", NS)
    except ET.ParseError:
        body = None
    found = body.find(f"wd:{operation}_Response", NS) if body is not None else None
    if found is None:
        raise PermanentError(f"workday {operation}: the answer holds no {operation}_Response")
    return found


@dataclass(frozen=True)
class Fault:
    code: str
    message: str
    validation: bool  # a Validation_Fault (the request is wrong), not a processing fault


def fault_of(content: bytes) -> Fault | None:
    """The SOAP fault an answer carries, if any."""
    try:
        fault = ET.fromstring(content).find("env:Body/env:Fault", NS)
    except ET.ParseError:
        return None
    if fault is None:
        return None
    messages = [m.text or "" for m in fault.iterfind(".//wd:Validation_Error/wd:Message", NS)]
    message = "; ".join(messages) or (fault.findtext("faultstring") or "").strip()
    return Fault(
        (fault.findtext("faultcode") or "").strip(), message, fault.find(".//wd:Validation_Fault", NS) is not None
    )


def text(element: ET.Element | None, path: str) -> str:
    found = element.find(path, NS) if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def id_of(element: ET.Element | None, path: str, id_type: str) -> str:
    """The id of type `id_type` in the reference at `path` ("" if absent)."""
    found = element.find(path, NS) if element is not None else None
    if found is None:
        return ""
    return next((item.text or "" for item in found.iterfind("wd:ID", NS) if item.get(wd("type")) == id_type), "")


def references(parent: ET.Element, name: str, id_type: str, values: Iterable[str]) -> None:
    for value in values:
        reference(parent, name, id_type, value)
