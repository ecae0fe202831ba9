"""HMAC-SHA256 of webhook bodies, keyed once per key: a source has one or two signing keys, so
the key schedule is done once and copied per delivery instead of for every delivery."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache


@lru_cache(maxsize=32)
def _keyed(key: bytes) -> hmac.HMAC:
    return hmac.new(key, digestmod=hashlib.sha256)


def hmac_sha256(key: bytes, *parts: bytes) -> bytes:
    """The HMAC-SHA256 digest of the parts, in order, as of their concatenation."""
    mac = _keyed(key).copy()
    for part in parts:
        mac.update(part)
    return mac.digest()
