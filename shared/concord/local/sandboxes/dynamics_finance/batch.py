"""OData `$batch` in the multipart/mixed format: requests outside change sets answered one by
one, each change set applied all or nothing (a failure rolls back its requests and is answered
by the failed request alone).
https://docs.oasis-open.org/odata/odata/v4.01/odata-v4.01-part1-protocol.html#sec_MultipartBatchFormat
"""

from __future__ import annotations

import email
import email.policy
import json
import uuid
from collections.abc import Callable
from email.message import Message
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from ..kit import RecordStore, Request, Response
from .errors import ODataError, bad_request

Answer = Callable[[str, str, dict[str, list[str]], bytes, dict[str, str], str], Response]


def run(request: Request, store: RecordStore, answer: Answer) -> Response:
    content_type = request.header("Content-Type") or ""
    if not content_type.startswith("multipart/mixed") or "boundary=" not in content_type:
        raise bad_request("The batch request must be multipart/mixed with a boundary.")
    message = email.message_from_bytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + request.body, policy=email.policy.HTTP
    )
    parts: list[str] = []
    for part in message.get_payload() if message.is_multipart() else []:
        assert isinstance(part, Message)
        if part.is_multipart():
            parts.append(_change_set(part, request, store, answer))
        else:
            parts.append(_answer_part(_one(part, request, answer), part.get("Content-ID")))
    boundary = f"batchresponse_{uuid.uuid4()}"
    body = "".join(f"--{boundary}\r\n{text}" for text in parts) + f"--{boundary}--\r\n"
    return Response(200, body.encode(), {"Content-Type": f"multipart/mixed; boundary={boundary}"})


def _change_set(change_set: Message, request: Request, store: RecordStore, answer: Answer) -> str:
    answered: list[tuple[Response, str | None]] = []
    try:
        with store.transaction():
            for part in change_set.get_payload():
                assert isinstance(part, Message)
                response = _one(part, request, answer)
                if response.status >= 400:
                    raise _Failed(response, part.get("Content-ID"))
                answered.append((response, part.get("Content-ID")))
    except _Failed as failed:
        return _answer_part(failed.response, failed.content_id)
    boundary = f"changesetresponse_{uuid.uuid4()}"
    inner = "".join(f"--{boundary}\r\n{_answer_part(r, cid)}" for r, cid in answered) + f"--{boundary}--\r\n"
    return f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n{inner}"


class _Failed(Exception):
    def __init__(self, response: Response, content_id: str | None) -> None:
        super().__init__(response.status)
        self.response, self.content_id = response, content_id


def _one(part: Message, request: Request, answer: Answer) -> Response:
    raw = part.get_payload(decode=True) or b""
    assert isinstance(raw, bytes)
    head, _, body = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    request_line, *header_lines = head.decode().split("\n")
    try:
        method, target, _ = request_line.split(" ")
    except ValueError:
        return ODataError(400, f"Malformed request line in the batch: {request_line!r}").response()
    headers = dict(line.split(":", 1) for line in header_lines if ":" in line)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    url = urlsplit(target)
    path = url.path if url.path.startswith("/") else "/data/" + url.path
    if "/data/" in path and not path.startswith("/data/"):
        path = "/data/" + path.split("/data/", 1)[1]
    try:
        return answer(
            method, path, parse_qs(url.query, keep_blank_values=True), body.strip(), headers, request.tenant_url
        )
    except ODataError as error:
        return error.response()


def _answer_part(response: Response, content_id: str | None) -> str:
    reason = HTTPStatus(response.status).phrase
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", f"HTTP/1.1 {response.status} {reason}"]
    lines += [f"{k}: {v}" for k, v in response.headers.items()]
    if response.body is not None:
        lines += [
            "Content-Type: application/json; odata.metadata=minimal; odata.streaming=true",
            "",
            json.dumps(response.body),
        ]
    else:
        lines.append("")
    return "\r\n".join(lines) + "\r\n"
