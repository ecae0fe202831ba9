"""Salesforce record ids: 15 case-sensitive base-62 characters whose first three are the
object's key prefix, plus a 3-character suffix that encodes the case of the first 15 (the
18-character, case-insensitive form the REST API returns).

https://help.salesforce.com/s/articleView?id=000385008 (15- and 18-character record ids)
"""

from __future__ import annotations

import re
import string

# Digits, then upper, then lower case: ASCII order, so ids sort in creation order.
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_SUFFIX = string.ascii_uppercase + "012345"
_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$")
_INSTANCE = "Sb0"  # the two pod characters and the reserved one; constant in a sandbox


def _base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 62)
        digits = _BASE62[digit] + digits
    return digits.rjust(width, "0")


def case_suffix(id15: str) -> str:
    """Each 5-character chunk becomes one letter: bit i set when its i-th character is upper case."""
    return "".join(
        _SUFFIX[sum(1 << i for i, char in enumerate(id15[start : start + 5]) if char.isupper())] for start in (0, 5, 10)
    )


def new_id(key_prefix: str, sequence: int) -> str:
    id15 = key_prefix + _INSTANCE + _base62(sequence, 9)
    return id15 + case_suffix(id15)


def to_18(record_id: str) -> str | None:
    """The 18-character form of a well-formed id, or None if it is malformed."""
    if not _ID.match(record_id):
        return None
    if len(record_id) == 15:
        return record_id + case_suffix(record_id)
    return record_id if record_id[15:] == case_suffix(record_id[:15]) else None


def key_prefix(record_id: str) -> str:
    return record_id[:3]
