"""HubSpot's error answer: `{"status": "error", "message", "correlationId", "category"[, "errors", "context"]}`.

https://developers.hubspot.com/docs/api-reference/error-handling
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..kit import Response


@dataclass
class ApiError(Exception):
    status: int
    category: str
    message: str
    errors: list[dict[str, Any]] = field(default_factory=list)
    context: dict[str, list[str]] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "status": "error",
            "message": self.message,
            "correlationId": str(uuid.uuid4()),
            "category": self.category,
        }
        if self.errors:
            body["errors"] = self.errors
        if self.context:
            body["context"] = self.context
        return body

    def response(self) -> Response:
        return Response(self.status, self.body())


def not_found(object_id: str) -> ApiError:
    return ApiError(404, "OBJECT_NOT_FOUND", "resource not found", context={"ids": [object_id]})


def invalid_properties(problems: list[tuple[str, str, str]]) -> ApiError:
    """(code, property, message) per bad property, as a write's 400 names them."""
    return ApiError(
        400,
        "VALIDATION_ERROR",
        "Property values were not valid",
        errors=[
            {"message": message, "code": code, "context": {"propertyName": [name]}} for code, name, message in problems
        ],
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", message)
