"""Salesforce's error answer: a list of `{"message", "errorCode"[, "fields"]}` with a status.

https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..kit import Response


@dataclass
class ApiError(Exception):
    status: int
    code: str
    message: str
    fields: list[str] = field(default_factory=list)

    def response(self) -> Response:
        body: dict[str, object] = {"message": self.message, "errorCode": self.code}
        if self.fields:
            body["fields"] = self.fields
        return Response(self.status, [body])


def not_found(message: str = "The requested resource does not exist") -> ApiError:
    return ApiError(404, "NOT_FOUND", message)


def malformed_query(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_QUERY", message)
