"""The control API of a sandbox (`/_sandbox/...`, JSON in and out; never counted or logged)
and `SandboxController`, its typed client:

    GET    /_sandbox                          tenants, and the vendor playing each
    POST   /_sandbox/<tenant>/reset           forget records, cursors, calls; refill the budget
    POST   /_sandbox/<tenant>/records/<table> seed a list of records as given -> records stored
    GET    /_sandbox/<tenant>/budget          {"used", "allocation", "window_seconds"}
    PUT    /_sandbox/<tenant>/budget          {"allocation": N, "window_seconds": S}
    GET    /_sandbox/<tenant>/calls           [{"method", "path", "status"}, ...]
    DELETE /_sandbox/<tenant>/calls           clear the call log
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from .http import Request, Response, Router
from .tenant import Call, Tenant, Vendor

CONTROL_PREFIX = "_sandbox"


class BudgetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    allocation: int = Field(ge=0)
    window_seconds: float | None = Field(default=None, gt=0)


def control_router(vendors: dict[str, Vendor], tenants: dict[str, Tenant]) -> Router:
    """The control routes over `tenants`, each seeded through `vendors[tenant]`."""
    router = Router()

    def with_tenant(action: Callable[..., Response]) -> Callable[..., Response]:
        def run(request: Request, tenant: str, **params: str) -> Response:
            if tenant not in tenants:
                return Response(404, {"error": f"no tenant {tenant!r}"})
            try:
                return action(request, tenants[tenant], **params)
            except (ValueError, TypeError) as exc:  # bad JSON, bad spec, unknown table
                return Response(400, {"error": str(exc)})

        return run

    def budget_of(tenant: Tenant) -> Response:
        usage = tenant.budget.usage()
        return Response(
            200, {"used": usage.used, "allocation": usage.allocation, "window_seconds": tenant.budget.window_seconds}
        )

    def set_budget(request: Request, tenant: Tenant) -> Response:
        spec = BudgetSpec.model_validate(request.json())
        tenant.budget.configure(spec.allocation, spec.window_seconds)
        return budget_of(tenant)

    def seed(request: Request, tenant: Tenant, table: str) -> Response:
        records = request.json()
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise TypeError("the body must be a list of records (JSON objects)")
        return Response(201, vendors[tenant.name].seed(tenant, table, records))

    def reset(_: Request, tenant: Tenant) -> Response:
        tenant.reset()
        return Response(204)

    def calls(_: Request, tenant: Tenant) -> Response:
        return Response(200, [asdict(call) for call in tenant.calls.calls()])

    def clear_calls(_: Request, tenant: Tenant) -> Response:
        tenant.calls.clear()
        return Response(204)

    def overview(_: Request) -> Response:
        names = sorted({vendor.name for vendor in vendors.values()})
        return Response(
            200,
            {
                "vendor": "+".join(names),
                "tenants": sorted(tenants),
                "vendors": {name: vendor.name for name, vendor in sorted(vendors.items())},
            },
        )

    router.add("GET", "/", overview)
    router.add("POST", "/{tenant}/reset", with_tenant(reset))
    router.add("POST", "/{tenant}/records/{table}", with_tenant(seed))
    router.add("GET", "/{tenant}/budget", with_tenant(lambda _, t: budget_of(t)))
    router.add("PUT", "/{tenant}/budget", with_tenant(set_budget))
    router.add("GET", "/{tenant}/calls", with_tenant(calls))
    router.add("DELETE", "/{tenant}/calls", with_tenant(clear_calls))
    return router


class SandboxController:
    """Typed client of a sandbox's control API (tests, demo, benchmarks)."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, transport: httpx.BaseTransport | None = None) -> None:
        self._http = httpx.Client(
            base_url=f"{base_url.rstrip('/')}/{CONTROL_PREFIX}", timeout=timeout, transport=transport
        )

    def reset(self, tenant: str) -> None:
        self._http.post(f"/{tenant}/reset").raise_for_status()

    def seed(self, tenant: str, table: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        response = self._http.post(f"/{tenant}/records/{table}", json=records)
        response.raise_for_status()
        created: list[dict[str, Any]] = response.json()
        return created

    def set_budget(self, tenant: str, allocation: int, window_seconds: float | None = None) -> dict[str, Any]:
        body = BudgetSpec(allocation=allocation, window_seconds=window_seconds)
        response = self._http.put(f"/{tenant}/budget", json=body.model_dump(exclude_none=True))
        response.raise_for_status()
        budget: dict[str, Any] = response.json()
        return budget

    def budget(self, tenant: str) -> dict[str, Any]:
        response = self._http.get(f"/{tenant}/budget")
        response.raise_for_status()
        budget: dict[str, Any] = response.json()
        return budget

    def calls(self, tenant: str) -> list[Call]:
        response = self._http.get(f"/{tenant}/calls")
        response.raise_for_status()
        return [Call(**call) for call in response.json()]

    def clear_calls(self, tenant: str) -> None:
        self._http.delete(f"/{tenant}/calls").raise_for_status()

    def close(self) -> None:
        self._http.close()
