"""Xero's error answers.

- 400 ValidationException: `{"ErrorNumber": 10, "Type": "ValidationException", "Message":
  "A validation exception occurred", "Elements": [{..., "ValidationErrors": [{"Message"}]}]}`
- 401/403/404/429: a problem body `{"Type", "Title", "Status", "Detail"}`.
https://developer.xero.com/documentation/api/accounting/responsecodes/
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..kit import Response


@dataclass
class XeroError(Exception):
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return Response(self.status, self.body, dict(self.headers))


def validation(messages: list[str], element: dict[str, Any] | None = None) -> XeroError:
    """A 400 ValidationException naming the element at fault (by its ids) with its messages."""
    ids = {key: value for key, value in (element or {}).items() if key.endswith("ID") and isinstance(value, str)}
    elements = [{**ids, "ValidationErrors": [{"Message": message} for message in messages]}]
    return XeroError(
        400,
        {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": elements,
        },
    )


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None) -> XeroError:
    return XeroError(status, {"Type": None, "Title": title, "Status": status, "Detail": detail}, headers or {})


def not_found(what: str) -> XeroError:
    return problem(404, "NotFound", f"The resource you're looking for cannot be found ({what})")


class ItemInvalid(Exception):
    """One element of an array is refused: its ValidationErrors (the others are saved)."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages
