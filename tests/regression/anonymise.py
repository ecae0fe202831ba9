"""Stable fakes for what identifies a person or a client in a recorded payload.

A value under a sensitive field name becomes `<kind>-<8 hex>`, the hex being the start of
SHA-256 over the value with a fixed salt: the same value always gets the same fake, so an account's
name still matches across the events and records that carry it, and the original cannot be read
back from the corpus (a fixed salt is no secret: the fakes protect the originals, not the salt).
Tax ids keep their shape (each digit replaced by one from the hash, separators kept), so mappers
that read a tax id's format still see one; e-mail addresses anywhere become user-<hex>@example.com.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

SALT = b"concord-mapping-corpus"
# Field name (lower case, as JSON keys or XML element local names) -> the fake's prefix.
SENSITIVE: dict[str, str] = {
    "name": "name",
    "customer_name": "name",
    "displayname": "name",
    "dealname": "name",
    "title": "name",
    "description": "description",
    "billing_owner": "person",
    "reason": "reason",
    "street": "street",
    "billingstreet": "street",
    "address": "street",
    "addressline1": "street",
    "addressline2": "street",
    "city": "city",
    "billingcity": "city",
    "postal_code": "postal",
    "postalcode": "postal",
    "billingpostalcode": "postal",
    "zip": "postal",
    "phone": "phone",
    "phonenumber": "phone",
    "email": "email",
    "value": "value",
}
TAX_ID_FIELDS = {"tax_id", "taxregistrationnumber", "tax_id__c", "concord_tax_id", "vatnumber"}
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _digest(value: str) -> str:
    return hashlib.sha256(SALT + value.encode()).hexdigest()


def fake(kind: str, value: str) -> str:
    return f"{kind}-{_digest(value)[:8]}"


def fake_tax_id(value: str) -> str:
    digits = iter(str(int(_digest(value), 16)))
    return "".join(next(digits) if ch.isdigit() else ("X" if ch.isalpha() else ch) for ch in value)


def fake_emails(text: str) -> str:
    """Every address not already at example.com (where the fakes are) replaced."""

    def replaced(match: re.Match[str]) -> str:
        address = match.group(0)
        return address if address.endswith("@example.com") else f"user-{_digest(address.lower())[:8]}@example.com"

    return EMAIL.sub(replaced, text)


def anonymise_value(field: str, value: Any) -> Any:
    """One field's value: faked when the field is sensitive and the value is text."""
    if not isinstance(value, str) or not value or value.startswith("<"):
        return value
    key = field.lower()
    if key in TAX_ID_FIELDS:
        return fake_tax_id(value)
    if key in SENSITIVE and not _looks_faked(value) and "@example.com" not in value:
        return fake(SENSITIVE[key], value)
    return fake_emails(value)


def _looks_faked(value: str) -> bool:
    return re.fullmatch(r"[a-z]+-[0-9a-f]{8}", value) is not None


def anonymise(data: Any, field: str = "") -> Any:
    """A JSON value with every sensitive field faked (recursively); ids, amounts, dates kept."""
    if isinstance(data, dict):
        return {key: anonymise(value, key) for key, value in data.items()}
    if isinstance(data, list):
        return [anonymise(item, field) for item in data]
    return anonymise_value(field, data)


_XML_ELEMENT = re.compile(r"<(?P<tag>(?:\w+:)?(?P<local>\w+))>(?P<text>[^<]*)</(?P=tag)>")


def anonymise_xml(body: str) -> str:
    """An XML body (a Salesforce outbound message): the text of sensitive elements faked."""
    return fake_emails(
        _XML_ELEMENT.sub(
            lambda m: f"<{m['tag']}>{anonymise_value(m['local'], m['text'])}</{m['tag']}>",
            body,
        )
    )
