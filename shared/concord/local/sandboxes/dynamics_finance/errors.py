"""The OData error body finance and operations apps answer with:
{"error": {"code": "", "message": "An error has occurred.", "innererror": {"message", "type", "stacktrace"}}}.
https://learn.microsoft.com/en-us/dynamics365/fin-ops-core/dev-itpro/data-entities/odata
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..kit import Response


@dataclass
class ODataError(Exception):
    status: int
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        return {
            "error": {
                "code": "",
                "message": "An error has occurred.",
                "innererror": {
                    "message": self.message,
                    "type": "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataException",
                    "stacktrace": "",
                },
            }
        }

    def response(self) -> Response:
        return Response(self.status, self.body(), dict(self.headers))


def bad_request(message: str) -> ODataError:
    return ODataError(400, message)


def not_found(what: str) -> ODataError:
    return ODataError(404, f"Resource not found for the segment '{what}'.")
