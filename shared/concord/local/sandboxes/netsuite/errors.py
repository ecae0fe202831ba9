"""NetSuite's REST error shape: {"type", "title", "status", "o:errorDetails": [{"detail", "o:errorCode"}]}.
https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html
"""

from __future__ import annotations

from dataclasses import dataclass

from ..kit import Response

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
}
SECTIONS = {400: "15.5.1", 401: "15.5.2", 403: "15.5.4", 404: "15.5.5", 405: "15.5.6", 429: "6", 500: "15.6.1"}


@dataclass
class NetSuiteError(Exception):
    status: int
    code: str
    detail: str

    def response(self) -> Response:
        section = SECTIONS.get(self.status, "15")
        where = (
            "https://www.rfc-editor.org/rfc/rfc6585.html#section-4"
            if self.status == 429
            else f"https://www.rfc-editor.org/rfc/rfc9110.html#section-{section}"
        )
        return Response(
            self.status,
            {
                "type": where,
                "title": TITLES.get(self.status, "Error"),
                "status": self.status,
                "o:errorDetails": [{"detail": self.detail, "o:errorCode": self.code}],
            },
        )


def user_error(detail: str) -> NetSuiteError:
    return NetSuiteError(400, "USER_ERROR", detail)


def invalid_reference(field: str, value: object) -> NetSuiteError:
    return NetSuiteError(
        400, "USER_ERROR", f"Error while accessing a resource. Invalid reference key {value} for {field}."
    )


def not_found(record_type: str, record_id: str) -> NetSuiteError:
    return NetSuiteError(
        404,
        "NONEXISTENT_ID",
        f"The record instance does not exist. Provide a valid record instance ID. ({record_type} {record_id})",
    )
