"""The bad-input catalog: every case a delivery Concord must refuse, for every scheme (kits.py
makes valid requests; bodies.py, injection.py and forgery.py what spoils them).

Built from the source's credentials and URL, so the same catalog runs against the handler
under moto (tests/unit/test_ingress_bad_input.py) and against the local stack
(tests/e2e/test_vendor_webhooks.py, a representative subset). Each case names its category,
the status and error code it must get; nothing may reach the bus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .. import senders
from ..senders import JSON, Sent
from .bodies import (
    CONTENT_TYPES,
    CONTROL_CHARACTERS,
    HUGE_INTEGER_DIGITS,
    MALFORMED_JSON,
    MALFORMED_XML,
    SURROGATES,
    UNICODE_JSON,
    UNICODE_XML,
    XML_ENTITY_ATTACKS,
    huge_integer,
    nested_json,
    nested_xml,
    padded,
    with_account,
)
from .forgery import base_path_requests, forged_requests, stale_requests
from .injection import injection_bodies
from .kits import Credentials, Kit, kits

CATEGORIES = (
    "forged",
    "stale",
    "truncated",
    "oversized",
    "wrong-content-type",
    "malformed",
    "deep-nesting",
    "unicode",
    "injection",
    "oversized-integer",
    "surrogate",
    "control-characters",
    "base-path",
)
MAX_BODY = 256 * 1024


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    scheme: str
    make: Callable[[], Sent]
    status: int
    codes: tuple[str, ...]
    path: str | None = None  # a raw path instead of /webhooks/<source>


def build_cases(c: Credentials, url_of: Callable[[str], str]) -> list[Case]:
    cases: list[Case] = []

    def add(
        category: str,
        kit: Kit,
        name: str,
        make: Callable[[], Sent],
        status: int,
        codes: tuple[str, ...],
        path: str | None = None,
    ) -> None:
        cases.append(Case(f"{kit.scheme}/{category}/{name}", category, kit.scheme, make, status, codes, path))

    malformed = (400, ("malformed_payload",))
    for kit in kits(c, url_of):
        for name, (make, status, codes) in forged_requests(kit, c, url_of).items():
            add("forged", kit, name, make, status, codes)
        for name, make in stale_requests(kit, c, url_of).items():
            # 13 digits are not unix seconds: refused as malformed before the time check.
            codes = ("signature_invalid",) if name == "milliseconds" else ("timestamp_out_of_tolerance",)
            add("stale", kit, name, make, 401, codes)
        # truncated: signed as truncated (unparseable), or cut after signing (signature broken)
        for name, cut in {
            "half": lambda b: b[: len(b) // 2],
            "last-byte": lambda b: b[:-1],
            "first-byte": lambda b: b[:1],
            "empty": lambda b: b"",
        }.items():
            add("truncated", kit, f"signed-{name}", (lambda cut=cut, kit=kit: kit.sign(cut(kit.valid()))), *malformed)
        add(
            "truncated",
            kit,
            "cut-after-signing",
            (lambda kit=kit: (lambda s: s.with_body(s.body[: len(s.body) // 2]))(kit.sign(kit.valid()))),
            *((401, ("signature_invalid",)) if kit.body_signed else malformed),
        )
        # oversized
        for name, size in {"limit-plus-one": MAX_BODY + 1, "1-mib": 1024 * 1024, "5-mib": 5 * 1024 * 1024}.items():
            add(
                "oversized",
                kit,
                name,
                (lambda size=size, kit=kit: kit.sign(padded(kit.valid(), size))),
                413,
                ("payload_too_large",),
            )
        # wrong content type
        other_family = {
            "json": {"xml": "application/xml", "json-patch": "application/json-patch+json"},
            "xml": {"json": JSON, "soap12": "application/soap+xml"},
        }[kit.format]
        for name, content_type in {**CONTENT_TYPES, **other_family}.items():
            add(
                "wrong-content-type",
                kit,
                name,
                (lambda ct=content_type, kit=kit: kit.sign(kit.valid(), content_type=ct)),
                415,
                ("unsupported_media_type",),
            )
        # malformed
        for name, body in (MALFORMED_JSON if kit.format == "json" else MALFORMED_XML).items():
            add("malformed", kit, name, (lambda body=body, kit=kit: kit.sign(body)), *malformed)
        if kit.format == "xml":
            for name, body in XML_ENTITY_ATTACKS.items():
                add("malformed", kit, name, (lambda body=body, kit=kit: kit.sign(body)), *malformed)
        # deep nesting
        if kit.format == "json":
            nested = {
                "list-33": nested_json(33),
                "list-1000": nested_json(1000),
                "list-100000": nested_json(100_000),
                "dict-40": nested_json(40, "dict"),
                "dict-5000": nested_json(5000, "dict"),
            }
        else:
            nested = {
                "xml-33": nested_xml(33),
                "xml-1000": nested_xml(1000),
                "xml-10000": nested_xml(10_000),
                "xml-in-soap": senders.salesforce_message(c.salesforce_org).replace(
                    b"<sf:Name>", b"<sf:Name>" + nested_xml(40)
                ),
            }
        for name, body in nested.items():
            add("deep-nesting", kit, name, (lambda body=body, kit=kit: kit.sign(body)), *malformed)
        # unicode edge cases
        for name, body in (UNICODE_JSON if kit.format == "json" else UNICODE_XML).items():
            add("unicode", kit, name, (lambda body=body, kit=kit: kit.sign(body)), *malformed)
        # injection strings where the schema refuses them
        for name, (body, status, codes) in injection_bodies(kit, c).items():
            add("injection", kit, name, (lambda body=body, kit=kit: kit.sign(body)), status, codes)
        # integers no field needs (Python cannot even convert the longest: a 500 before)
        if kit.format == "json":
            for name, digits in HUGE_INTEGER_DIGITS.items():
                add(
                    "oversized-integer",
                    kit,
                    name,
                    (lambda digits=digits, kit=kit: kit.sign(huge_integer(digits))),
                    *malformed,
                )
        # lone surrogates outside the body
        for name, spoil in SURROGATES.items():
            add(
                "surrogate",
                kit,
                name,
                (lambda spoil=spoil, kit=kit: spoil(kit.sign(kit.valid()))),
                400,
                ("malformed_request",),
            )
        # control characters in canonical names and ids
        if kit.scheme == "standard-webhooks":
            for name, fields in CONTROL_CHARACTERS.items():
                add(
                    "control-characters",
                    kit,
                    name,
                    (lambda fields=fields, kit=kit: kit.sign(with_account(fields))),
                    422,
                    ("invalid_event",),
                )
        # under the custom domain's base path
        for name, (make, path, status, codes) in base_path_requests(kit, c, url_of).items():
            add("base-path", kit, name, make, status, codes, path)
    # injection into the source path: an unknown source, or no route at all
    some = kits(c, url_of)[0]
    for name, path in {
        "dot-dot": "/webhooks/..%2Fcrm",
        "upper-case": "/webhooks/CRM",
        "semicolon": "/webhooks/crm;rm%20-rf",
        "script": "/webhooks/%3Cscript%3E",
        "nul": "/webhooks/crm%00",
        "long": "/webhooks/" + "a" * 300,
        "sql": "/webhooks/crm'%20OR%20'1'='1",
        "unicode": "/webhooks/cr\u0131m",
    }.items():
        cases.append(
            Case(
                f"any/injection/path-{name}",
                "injection",
                "any",
                (lambda some=some: some.sign(some.valid())),
                404,
                ("unknown_source", "not_found"),
                path,
            )
        )
    return cases


def replay_cases() -> list[str]:
    """Stateful replay cases (see test_ingress_bad_input.py::test_replayed)."""
    return [
        "standard-webhooks/identical",
        "standard-webhooks/same-id-other-body",
        "standard-webhooks/after-tolerance",
        "hubspot/identical",
        "hubspot/retry-attempt-number",
        "hubspot/after-tolerance",
        "xero/identical",
        "xero/modified-body-old-signature",
        "quickbooks/identical",
        "quickbooks/modified-body-old-signature",
        "salesforce/identical",
        "salesforce/new-session-id",
        "business-central/identical",
    ]
