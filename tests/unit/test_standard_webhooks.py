"""Standard Webhooks signatures: the reference vector, replay window, rotation, malformed headers."""

from __future__ import annotations

import base64
import datetime as dt
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from concord.ingress import standard_webhooks as sw
from concord.ingress.errors import SignatureInvalid, SignatureMissing, TimestampOutOfTolerance

OTHER_SECRET = "whsec_" + base64.b64encode(b"another secret, 32 bytes long!!!").decode()


def _at(unix_seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(unix_seconds, tz=dt.UTC)


@pytest.fixture
def vector(webhook_vector):
    """The reference vector as (secret, headers, body, signing time)."""
    headers = {
        "webhook-id": webhook_vector["webhook_id"],
        "webhook-timestamp": str(webhook_vector["webhook_timestamp"]),
        "webhook-signature": webhook_vector["expected_signature"],
    }
    return (
        webhook_vector["secret"],
        headers,
        webhook_vector["payload"].encode(),
        webhook_vector["webhook_timestamp"],
    )


# --------------------------------------------------------------------------- the reference vector


def test_signature_matches_the_reference_vector(webhook_vector) -> None:
    assert (
        sw.signature(
            webhook_vector["secret"],
            webhook_vector["webhook_id"],
            webhook_vector["webhook_timestamp"],
            webhook_vector["payload"].encode(),
        )
        == webhook_vector["expected_signature"]
    )


def test_sign_headers_carry_the_reference_signature(webhook_vector, vector) -> None:
    secret, expected_headers, body, timestamp = vector
    assert sw.sign_headers(secret, webhook_vector["webhook_id"], timestamp, body) == expected_headers


def test_reference_tolerance_is_the_default(webhook_vector) -> None:
    assert dt.timedelta(seconds=webhook_vector["tolerance_seconds"]) == sw.DEFAULT_TOLERANCE


def test_verify_accepts_the_reference_delivery_at_its_timestamp(vector) -> None:
    secret, headers, body, timestamp = vector

    verified = sw.verify([secret], headers, body, now=_at(timestamp))

    assert verified.delivery_id == headers["webhook-id"]
    assert verified.timestamp == _at(timestamp)


def test_verify_rejects_a_tampered_body(vector) -> None:
    secret, headers, body, timestamp = vector
    with pytest.raises(SignatureInvalid):
        sw.verify([secret], headers, body.replace(b"2432232314", b"2432232315"), now=_at(timestamp))


def test_verify_rejects_a_tampered_delivery_id(vector) -> None:
    secret, headers, body, timestamp = vector
    with pytest.raises(SignatureInvalid):
        sw.verify([secret], {**headers, "webhook-id": "msg_other"}, body, now=_at(timestamp))


def test_verify_rejects_a_wrong_secret(vector) -> None:
    _, headers, body, timestamp = vector
    with pytest.raises(SignatureInvalid):
        sw.verify([OTHER_SECRET], headers, body, now=_at(timestamp))


# --------------------------------------------------------------------------- replay window


@pytest.mark.parametrize("offset", [-300, 300], ids=["300s-after", "300s-before"])
def test_verify_accepts_a_timestamp_exactly_at_the_tolerance(vector, offset: int) -> None:
    secret, headers, body, timestamp = vector
    sw.verify([secret], headers, body, now=_at(timestamp + offset))


@pytest.mark.parametrize("offset", [301, -301], ids=["301s-in-the-past", "301s-in-the-future"])
def test_verify_rejects_a_timestamp_beyond_the_tolerance(vector, offset: int) -> None:
    secret, headers, body, timestamp = vector
    with pytest.raises(TimestampOutOfTolerance):
        sw.verify([secret], headers, body, now=_at(timestamp + offset))


def test_verify_honours_a_custom_tolerance(vector) -> None:
    secret, headers, body, timestamp = vector
    tolerance = dt.timedelta(seconds=10)
    sw.verify([secret], headers, body, now=_at(timestamp + 10), tolerance=tolerance)
    with pytest.raises(TimestampOutOfTolerance):
        sw.verify([secret], headers, body, now=_at(timestamp + 11), tolerance=tolerance)


def test_a_stale_timestamp_is_refused_even_with_a_valid_signature() -> None:
    # Signed properly, but long ago: a captured request replayed later.
    headers = sw.sign_headers(OTHER_SECRET, "msg_1", 1_000_000_000, b"{}")
    with pytest.raises(TimestampOutOfTolerance):
        sw.verify([OTHER_SECRET], headers, b"{}", now=_at(1_700_000_000))


@pytest.mark.parametrize("timestamp", ["999999999999", "253402300800"], ids=["12-digits", "year-10000"])
def test_a_timestamp_beyond_the_calendar_is_out_of_tolerance_not_a_crash(vector, timestamp: str) -> None:
    secret, headers, body, now = vector
    with pytest.raises(TimestampOutOfTolerance):
        sw.verify([secret], {**headers, "webhook-timestamp": timestamp}, body, now=_at(now))


# --------------------------------------------------------------------------- malformed headers


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_verify_requires_all_three_headers(vector, header: str) -> None:
    secret, headers, body, timestamp = vector
    missing = {name: value for name, value in headers.items() if name != header}
    empty = {**headers, header: ""}

    for incomplete in (missing, empty):
        with pytest.raises(SignatureMissing):
            sw.verify([secret], incomplete, body, now=_at(timestamp))


def test_verify_expects_lower_case_header_names(vector) -> None:
    secret, headers, body, timestamp = vector
    with pytest.raises(SignatureMissing):
        title_case = {name.title(): value for name, value in headers.items()}
        sw.verify([secret], title_case, body, now=_at(timestamp))


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "-1614265330", "1614265330.0", " 1614265330", "1e9", "١٦١٤٢٦٥٣٣٠", "1234567890123"],
    ids=["letters", "negative", "fraction", "space", "exponent", "arabic-indic-digits", "13-digits"],
)
def test_verify_rejects_a_timestamp_that_is_not_unix_seconds(vector, timestamp: str) -> None:
    secret, headers, body, now = vector
    with pytest.raises(SignatureInvalid, match="unix seconds"):
        sw.verify([secret], {**headers, "webhook-timestamp": timestamp}, body, now=_at(now))


@pytest.mark.parametrize("delivery_id", ["x" * 257, "msg\n1", "msg\x00"], ids=["too-long", "newline", "nul"])
def test_verify_rejects_an_unusable_delivery_id(delivery_id: str) -> None:
    headers = sw.sign_headers(OTHER_SECRET, delivery_id, 1_700_000_000, b"{}")
    with pytest.raises(SignatureInvalid, match="delivery id"):
        sw.verify([OTHER_SECRET], headers, b"{}", now=_at(1_700_000_000))


def test_a_delivery_id_of_the_maximum_length_is_accepted() -> None:
    delivery_id = "x" * sw.MAX_DELIVERY_ID_LENGTH
    headers = sw.sign_headers(OTHER_SECRET, delivery_id, 1_700_000_000, b"{}")
    assert sw.verify([OTHER_SECRET], headers, b"{}", now=_at(1_700_000_000)).delivery_id == delivery_id


# --------------------------------------------------------------------------- several signatures, rotation


def test_verify_accepts_when_one_of_several_signatures_is_valid(vector) -> None:
    secret, headers, body, timestamp = vector
    other = sw.signature(OTHER_SECRET, headers["webhook-id"], timestamp, body)
    header = f"{other} v1,bm90IGEgc2lnbmF0dXJl {headers['webhook-signature']}"

    sw.verify([secret], {**headers, "webhook-signature": header}, body, now=_at(timestamp))


def test_verify_ignores_signatures_of_other_versions(vector) -> None:
    secret, headers, body, timestamp = vector
    as_v2 = "v2," + headers["webhook-signature"].removeprefix("v1,")
    with pytest.raises(SignatureInvalid):
        sw.verify([secret], {**headers, "webhook-signature": as_v2}, body, now=_at(timestamp))


def test_verify_accepts_a_delivery_signed_with_the_second_active_secret(vector) -> None:
    old_secret, headers, body, timestamp = vector
    # While rotating, the new secret is first and the sender still signs with the old one.
    sw.verify([OTHER_SECRET, old_secret], headers, body, now=_at(timestamp))


def test_verify_accepts_a_delivery_signed_with_the_first_active_secret(vector) -> None:
    old_secret, headers, body, timestamp = vector
    sw.verify([old_secret, OTHER_SECRET], headers, body, now=_at(timestamp))


def test_verify_with_no_secrets_accepts_nothing(vector) -> None:
    _, headers, body, timestamp = vector
    with pytest.raises(SignatureInvalid):
        sw.verify([], headers, body, now=_at(timestamp))


# --------------------------------------------------------------------------- secrets


@pytest.mark.parametrize(
    ("secret", "valid"),
    [
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", True),
        ("whsec_" + base64.b64encode(bytes(16)).decode(), True),
        ("whsec_" + base64.b64encode(bytes(15)).decode(), False),
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", False),
        ("WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", False),
        ("whsec_not base64 at all!", False),
        ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS", False),
        ("whsec_", False),
        ("", False),
    ],
    ids=[
        "reference",
        "16-bytes",
        "15-bytes",
        "no-prefix",
        "upper-case-prefix",
        "not-base64",
        "bad-padding",
        "empty-key",
        "empty",
    ],
)
def test_is_valid_secret(secret: str, valid: bool) -> None:
    assert sw.is_valid_secret(secret) is valid


# --------------------------------------------------------------------------- properties

_KEYS = st.binary(min_size=16, max_size=64).map(lambda key: "whsec_" + base64.b64encode(key).decode())
_DELIVERY_IDS = st.text(alphabet=string.ascii_letters + string.digits + "_-.:", min_size=1, max_size=256)
_TIMESTAMPS = st.integers(min_value=0, max_value=4_000_000_000)


@settings(max_examples=150, deadline=None, database=None)
@given(secret=_KEYS, delivery_id=_DELIVERY_IDS, timestamp=_TIMESTAMPS, body=st.binary(max_size=2048))
def test_whatever_is_signed_verifies(secret: str, delivery_id: str, timestamp: int, body: bytes) -> None:
    headers = sw.sign_headers(secret, delivery_id, timestamp, body)

    verified = sw.verify([secret], headers, body, now=_at(timestamp))

    assert verified.delivery_id == delivery_id


@settings(max_examples=150, deadline=None, database=None)
@given(
    secret=_KEYS,
    delivery_id=_DELIVERY_IDS,
    timestamp=_TIMESTAMPS,
    body=st.binary(min_size=1, max_size=2048),
    data=st.data(),
)
def test_flipping_any_byte_of_the_body_breaks_the_signature(
    secret: str, delivery_id: str, timestamp: int, body: bytes, data: st.DataObject
) -> None:
    headers = sw.sign_headers(secret, delivery_id, timestamp, body)
    position = data.draw(st.integers(min_value=0, max_value=len(body) - 1), label="position")
    mask = data.draw(st.integers(min_value=1, max_value=255), label="mask")
    tampered = bytearray(body)
    tampered[position] ^= mask

    with pytest.raises(SignatureInvalid):
        sw.verify([secret], headers, bytes(tampered), now=_at(timestamp))
