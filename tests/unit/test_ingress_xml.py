"""Untrusted XML: no DTDs, no entities, bounded depth and size; namespaces resolved."""

from __future__ import annotations

import time

import pytest

from concord.ingress.errors import MalformedPayload
from concord.ingress.xml_safety import parse_xml

from .vendors.bad_inputs import XML_ENTITY_ATTACKS


def test_a_soap_envelope_parses_with_namespaced_names() -> None:
    root = parse_xml(
        b'<e:Envelope xmlns:e="urn:env" xmlns:x="urn:xsi"><e:Body><n x:nil="true">  t<b/>u </n></e:Body></e:Envelope>',
        32,
    )
    assert root.tag == "{urn:env}Envelope"
    [node] = root.find("{urn:env}Body").children
    assert node.tag == "n" and node.attributes == {"{urn:xsi}nil": "true"} and node.text == "  tu "


@pytest.mark.parametrize("attack", list(XML_ENTITY_ATTACKS))
def test_dtds_and_entities_are_refused_quickly(attack: str) -> None:
    started = time.perf_counter()
    with pytest.raises(MalformedPayload):
        parse_xml(XML_ENTITY_ATTACKS[attack], 32)
    assert time.perf_counter() - started < 0.5


def test_a_real_billion_laughs_does_not_expand() -> None:
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY l0 "lol">{levels}]><b>&l9;</b>'.encode()
    with pytest.raises(MalformedPayload, match="document type"):
        parse_xml(bomb, 32)


def test_depth_is_bounded() -> None:
    parse_xml(b"<a>" * 5 + b"</a>" * 5, 5)
    with pytest.raises(MalformedPayload, match="nesting"):
        parse_xml(b"<a>" * 6 + b"</a>" * 6, 5)


def test_element_count_is_bounded() -> None:
    with pytest.raises(MalformedPayload, match="elements"):
        parse_xml(b"<r>" + b"<a/>" * 101 + b"</r>", 32, max_elements=100)


@pytest.mark.parametrize("body", [b"", b"<a>", b"<a></b>", b"\xff", b"<a/><b/>", b"<a>&#0;</a>"])
def test_malformed_xml_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse_xml(body, 32)
