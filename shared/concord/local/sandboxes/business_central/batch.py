"""JSON `$batch`: `{"requests": [{"id", "method", "url", "headers"?, "body"?}]}` answered
`{"responses": [{"id", "status", "headers", "body"?}]}`, at most 100 operations. With
`Isolation: snapshot` the batch is one transaction: when an operation fails, every change is
undone and the operations that had succeeded are answered 424 (Failed Dependency).
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/webservices/use-odata-batch
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

from ..kit import Request, Response
from .errors import BcError, invalid

MAX_OPERATIONS = 100


class _RolledBack(Exception):
    def __init__(self, answers: list[dict[str, Any]]) -> None:
        super().__init__("batch rolled back")
        self.answers = answers


def _inner(request: Request, item: Any, api_prefix: str) -> Request:
    if not isinstance(item, dict) or not {"id", "method", "url"} <= set(item):
        raise invalid("Each batch request needs id, method and url.")
    target = urlsplit(str(item["url"]))
    path = target.path
    marker = "/api/v2.0/"
    if marker in path:  # an absolute URL: keep what follows the API root
        path = path.split(marker, 1)[1]
    path = f"{api_prefix}/{path.lstrip('/')}"
    body = item.get("body")
    headers = {**dict(request.headers), **{str(k): str(v) for k, v in (item.get("headers") or {}).items()}}
    return replace(
        request,
        method=str(item["method"]).upper(),
        path=path,
        query_string=target.query,
        headers=headers,
        body=b"" if body is None else json.dumps(body).encode(),
    )


def run_batch(
    request: Request, api_prefix: str, answer: Callable[[Request], Response], transaction: Callable[[], Any]
) -> Response:
    """Each operation answered by `answer`, its path under `api_prefix` as a direct call's is."""
    payload = request.json()
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise invalid('A JSON batch body is {"requests": [...]}.')
    if len(items) > MAX_OPERATIONS:
        raise BcError(400, "BadRequest", f"The batch has {len(items)} operations; the maximum is {MAX_OPERATIONS}.")
    inner = [_inner(request, item, api_prefix) for item in items]
    atomic = (request.header("Isolation") or "").lower() == "snapshot"
    try:
        with transaction() if atomic else nullcontext():
            answers = []
            for item, call in zip(items, inner, strict=True):
                response = answer(call)
                answers.append(_answer(item["id"], response))
                if atomic and response.status >= 400:
                    raise _RolledBack(
                        [a if a["status"] >= 400 else {**a, "status": 424, "body": None} for a in answers]
                        + [{"id": str(rest["id"]), "status": 424, "headers": {}} for rest in items[len(answers) :]]
                    )
    except _RolledBack as rolled_back:
        answers = rolled_back.answers
    return Response(200, {"responses": answers})


def _answer(request_id: Any, response: Response) -> dict[str, Any]:
    item: dict[str, Any] = {"id": str(request_id), "status": response.status, "headers": dict(response.headers)}
    if response.body is not None:
        item["headers"].setdefault("content-type", "application/json; odata.metadata=minimal")
        item["body"] = response.body
    return item
