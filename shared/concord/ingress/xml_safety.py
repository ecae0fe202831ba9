"""Parsing untrusted XML (Salesforce's SOAP outbound messages) safely with the stdlib's expat.

SOAP 1.1 forbids document type declarations in a message (section 3 of
https://www.w3.org/TR/2000/NOTE-SOAP-20000508/),
so any DTD is refused outright: no internal or external entities, hence no entity expansion
("billion laughs") and no external entity resolution (XXE). Element depth and count are
bounded as well. The result is a small read-only tree with `{namespace}local` names.
"""

from __future__ import annotations

from typing import NoReturn
from xml.parsers import expat

from .errors import MalformedPayload

MAX_ELEMENTS = 20_000


class Element:
    """One element: `tag` is "{namespace}local", or "local" outside any namespace."""

    __slots__ = ("_text", "attributes", "children", "tag")

    def __init__(self, tag: str, attributes: dict[str, str] | None = None) -> None:
        self.tag = tag
        self.attributes: dict[str, str] = attributes if attributes is not None else {}
        self.children: list[Element] = []
        self._text: list[str] = []

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def local_name(self) -> str:
        return self.tag.rsplit("}", 1)[-1]

    def find(self, tag: str) -> Element | None:
        for child in self.children:
            if child.tag == tag:
                return child
        return None

    def find_all(self, tag: str) -> list[Element]:
        return [child for child in self.children if child.tag == tag]


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _name(raw: str) -> str:
    namespace, _, local = raw.rpartition(" ")
    return f"{{{namespace}}}{local}" if namespace else local


def parse_xml(body: bytes, max_depth: int, max_elements: int = MAX_ELEMENTS) -> Element:
    """The document's root element; MalformedPayload for anything unsafe or not well-formed."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    root = Element("")
    stack: list[Element] = [root]
    count = 0
    names: dict[str, str] = {}  # expat's "namespace local" → "{namespace}local", for this document

    def name_of(raw: str) -> str:
        name = names.get(raw)
        if name is None:
            name = names[raw] = _name(raw)
        return name

    def refuse_dtd(*_: object) -> None:
        raise _Refused("XML with a document type declaration is refused (SOAP messages have none)")

    def refuse_entity(*_: object) -> NoReturn:
        raise _Refused("XML entity declarations and references are refused")

    def start(name: str, attributes: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > max_elements:
            raise _Refused(f"XML has more than {max_elements} elements")
        if len(stack) > max_depth:
            raise _Refused(f"XML nesting deeper than {max_depth} levels")
        element = Element(name_of(name), {name_of(k): v for k, v in attributes.items()} if attributes else {})
        stack[-1].children.append(element)
        stack.append(element)

    def end(_: str) -> None:
        stack.pop()

    def text(data: str) -> None:
        stack[-1]._text.append(data)

    parser.StartDoctypeDeclHandler = refuse_dtd
    parser.EntityDeclHandler = refuse_entity
    parser.UnparsedEntityDeclHandler = refuse_entity
    parser.ExternalEntityRefHandler = refuse_entity
    parser.SkippedEntityHandler = refuse_entity
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.buffer_text = True  # a text run in one call, not one per line or buffer boundary
    try:
        parser.Parse(body, True)
    except _Refused as refused:
        raise MalformedPayload(refused.reason) from None
    except (expat.ExpatError, ValueError, UnicodeError) as error:
        raise MalformedPayload("body is not well-formed XML") from error
    if len(root.children) != 1:
        raise MalformedPayload("body is not well-formed XML")
    return root.children[0]
