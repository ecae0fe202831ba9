"""Business Central's error answer: `{"error": {"code", "message"}}` with the HTTP status.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/developer/devenv-webservices-error-codes
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..kit import Response


@dataclass
class BcError(Exception):
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> Response:
        return Response(self.status, {"error": {"code": self.code, "message": self.message}}, dict(self.headers))


def not_found(what: str) -> BcError:
    return BcError(404, "BadRequest_NotFound", f"The {what} does not exist.")


def invalid(message: str) -> BcError:
    return BcError(400, "BadRequest", message)
