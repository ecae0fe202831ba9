"""OData `$batch` in its multipart/mixed form: one change set (all or nothing) of requests, and
the answers read back from the batch response, in the order of their Content-ID.
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part1-protocol.html#sec_MultipartBatchFormat
"""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import Message
from typing import Any

CRLF = "\r\n"


@dataclass(frozen=True)
class BatchRequest:
    method: str
    path: str  # relative to the service root, e.g. "FreeTextInvoiceLines"
    body: Any = None


@dataclass(frozen=True)
class BatchAnswer:
    status: int
    body: Any
    content_id: str | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def change_set_body(requests: Sequence[BatchRequest], boundary: str | None = None) -> tuple[str, bytes]:
    """(the batch Content-Type, the body) of a batch holding one change set of `requests`."""
    batch = boundary or f"batch_{uuid.uuid4()}"
    change_set = f"changeset_{uuid.uuid4()}"
    lines = [f"--{batch}", f"Content-Type: multipart/mixed; boundary={change_set}", ""]
    for number, request in enumerate(requests, start=1):
        lines += [
            f"--{change_set}",
            "Content-Type: application/http",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: {number}",
            "",
            f"{request.method} {request.path} HTTP/1.1",
            "Content-Type: application/json",
            "Accept: application/json",
            "",
        ]
        lines.append(json.dumps(request.body) if request.body is not None else "")
    lines += [f"--{change_set}--", f"--{batch}--", ""]
    return f"multipart/mixed; boundary={batch}", CRLF.join(lines).encode()


def answers(content_type: str, body: bytes) -> list[BatchAnswer]:
    """Every HTTP answer in a batch response, change sets unfolded, in document order."""
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body, policy=email.policy.HTTP
    )
    return list(_answers_in(message))


def _answers_in(message: Message) -> list[BatchAnswer]:
    found: list[BatchAnswer] = []
    for part in message.get_payload() if message.is_multipart() else []:
        assert isinstance(part, Message)
        if part.is_multipart():
            found += _answers_in(part)
        else:
            found.append(_http_answer(part))
    return found


def _http_answer(part: Message) -> BatchAnswer:
    raw = part.get_payload(decode=True) or b""
    assert isinstance(raw, bytes)
    head, _, content = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    status_line = head.split(b"\n", 1)[0].decode()
    status = int(status_line.split(" ")[1])
    text = content.strip()
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = text.decode(errors="replace")
    return BatchAnswer(status, body, part.get("Content-ID"))
