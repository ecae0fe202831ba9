"""Do the three systems agree about a deal? Read straight from each system (not through the
fault proxy): what an operator would check by hand after quote-to-cash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..connectors.tryton import TrytonCrm, TrytonErp, TrytonPsa, TrytonRpcClient
from ..connectors.tryton.mapping import Model
from ..sync.ids import canonical_id
from . import tryton
from .systems import LocalSystems


@dataclass(frozen=True)
class Row:
    what: str
    crm: str
    erp: str
    psa: str
    agree: bool


@dataclass
class SystemsView:
    crm: TrytonCrm
    psa: TrytonPsa
    erp: TrytonErp

    @classmethod
    def direct(cls, systems: LocalSystems) -> SystemsView:
        def rpc(database: str) -> TrytonRpcClient:
            # An operator's (or the demo's users') session: what it writes is announced.
            return TrytonRpcClient(
                systems.tryton_url, database, tryton.ADMIN_LOGIN, tryton.admin_password(systems.cache),
                announce_changes=True,
            )

        return cls(TrytonCrm(rpc("crm")), TrytonPsa(rpc("psa")), TrytonErp(rpc("erp")))

    def _party_active(self, customer_id: str) -> bool:
        (row,) = self.erp.client.search_read(
            Model.PARTY, [["id", "=", int(customer_id)], ["active", "in", [True, False]]], ["active"]
        )
        return bool(row["active"])

    def _project_status(self, project_id: str) -> str:
        (row,) = self.psa.client.search_read(Model.WORK, [["id", "=", int(project_id)]], ["status.name"])
        status: Any = row.get("status.") or {}
        return str(status.get("name", "?"))

    def deal(self, opportunity_id: str) -> list[Row]:
        """Customer and project of one won opportunity, as each system holds them."""
        opportunity = self.crm.get_opportunity(opportunity_id)
        customer = self.crm.get_customer(opportunity.account_id)
        customer_ref = canonical_id("customer", "crm", customer.account_id)
        erp_customer = self.erp.find_customer(external_ref=customer_ref, tax_id=customer.tax_id, name=customer.name)
        project = self.psa.find_project(canonical_id("project", "crm", opportunity.opportunity_id))

        rows = [Row("opportunity", f"#{opportunity.opportunity_id} {'won' if opportunity.won else 'open'} "
                    f"{opportunity.amount.amount} {opportunity.amount.currency}", "", "", opportunity.won)]
        if erp_customer is None:
            rows.append(Row("customer", customer.name, "missing", "", False))
        else:
            active = self._party_active(erp_customer.customer_id)
            rows.append(Row(
                "customer", f"{customer.name} ({customer.tax_id})",
                f"#{erp_customer.customer_id} {erp_customer.name} ({erp_customer.tax_id})"
                + ("" if active else " DEACTIVATED"),
                "", erp_customer.name == customer.name and erp_customer.tax_id == customer.tax_id and active,
            ))
        planned = sorted(line.description for line in opportunity.lines)
        if project is None:
            rows.append(Row("project + tasks", ", ".join(planned), "", "missing", False))
        else:
            status = self._project_status(project.project_id)
            rows.append(Row(
                "project + tasks", ", ".join(planned), "",
                f"#{project.project_id} [{status}] " + ", ".join(sorted(project.task_ids)),
                sorted(project.task_ids) == planned and status == "Open",
            ))
        return rows
