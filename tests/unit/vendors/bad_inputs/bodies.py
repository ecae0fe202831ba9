"""Bodies and request spoilers no scheme accepts: malformed, hostile XML, broken Unicode, deep
nesting, oversized integers, wrong content types, lone surrogates, control characters."""

from __future__ import annotations

import json


def nested_json(depth: int, kind: str = "list") -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def nested_xml(depth: int) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


MALFORMED_JSON = {
    "open-brace": b"{",
    "trailing-comma": b'{"a": 1,}',
    "single-quotes": b"{'a': 1}",
    "unclosed-array": b"[1, 2",
    "missing-colon": b'{"a" "b"}',
    "trailing-garbage": b'{"a": 1} x',
    "nul-byte": b"\x00",
    "bare-word": b"tru",
}
MALFORMED_XML = {
    "unclosed": b"<a>",
    "mismatched": b"<a></b>",
    "not-xml": b"not xml at all",
    "declaration-only": b'<?xml version="1.0"?>',
    "crossed": b"<a><b></a></b>",
    "unquoted-attribute": b"<a attr=x/>",
    "undefined-entity": b"<a>&undefined;</a>",
    "two-roots": b"<a/><b/>",
}
XML_ENTITY_ATTACKS = {
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
    "xxe-file": b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>',
    "xxe-http": b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]><foo>&xxe;</foo>',
    "parameter-entity": b'<?xml version="1.0"?>'
    b'<!DOCTYPE foo [<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;]><foo/>',
    "external-dtd": b'<?xml version="1.0"?><!DOCTYPE foo SYSTEM "http://example.invalid/foo.dtd"><foo/>',
    "internal-dtd-in-soap": b'<?xml version="1.0"?><!DOCTYPE e [<!ELEMENT e ANY>]>'
    b'<e xmlns="http://schemas.xmlsoap.org/soap/envelope/"/>',
}
UNICODE_JSON = {
    "lone-high-surrogate": b'{"a": "\\ud800"}',
    "lone-low-surrogate": b'{"a": "\\udfff x"}',
    "invalid-utf8": b'{"a": "\xff\xfe"}',
    "bom-prefixed": b"\xef\xbb\xbf{}",
    "utf16-encoded": '{"a": 1}'.encode("utf-16"),
    "overlong-utf8": b'{"a": "\xc0\xaf"}',
    "cesu-surrogate": b'{"a": "\xed\xa0\x80"}',
}
UNICODE_XML = {
    "invalid-utf8": b"<a>\xff\xfe</a>",
    "surrogate-reference": b"<a>&#xD800;</a>",
    "nul-reference": b"<a>&#0;</a>",
    "raw-nul": b"<a>\x00</a>",
    "overlong-utf8": b"<a>\xc0\xaf</a>",
}
CONTENT_TYPES = {
    "text-plain": "text/plain",
    "form": "application/x-www-form-urlencoded",
    "multipart": "multipart/form-data; boundary=x",
    "missing": "",
    "html": "text/html",
}


def padded(body: bytes, size: int) -> bytes:
    """The body with trailing whitespace (still valid JSON/XML) up to exactly `size` bytes."""
    return body + b" " * (size - len(body))


# Integers longer than any field needs, up to past Python's int-string limit (4,300 digits).
HUGE_INTEGER_DIGITS = {"65-digits": 65, "4301-digits": 4301, "100000-digits": 100_000}
# Lone UTF-16 surrogates where the request carries text: a header, the query, the Host.
SURROGATES = {
    "header-value": lambda sent: sent.with_headers(**{"X-Trace-Note": "a\udc80b"}),
    "query-value": lambda sent: sent.with_query(note="\ud800"),
    "host": lambda sent: sent.with_headers(Host="hooks\udfff.example.com"),
}
# NUL, other C0 controls and text-direction controls in canonical names and ids.
CONTROL_CHARACTERS = {
    "nul-in-name": {"name": "Acme\x00Corp"},
    "nul-in-id": {"account_id": "A-1\x00"},
    "escape-in-name": {"name": "Acme\x1b[31m"},
    "tab-in-id": {"account_id": "A\t1"},
    "newline-in-name": {"name": "Acme\nCorp"},
    "rtl-override-in-name": {"name": "Acme\u202eproC"},
    "ltr-embedding-in-id": {"account_id": "\u202aA-1"},
    "isolate-in-name": {"name": "\u2066Acme\u2069"},
    "rtl-mark-in-id": {"account_id": "A-1\u200f"},
    "del-in-name": {"name": "Acme\x7f"},
}


def huge_integer(digits: int) -> bytes:
    return b'{"value": [{"subscriptionId": ' + b"9" * digits + b"}]}"


def with_account(fields: dict[str, str]) -> bytes:
    base = {"account_id": "A-1", "name": "Acme"}
    return json.dumps(
        {"type": "AccountChanged", "timestamp": "2026-01-05T09:00:00+00:00", "data": {**base, **fields}}
    ).encode()
