"""Do the three systems agree about a deal? Read straight from each system (not through the
fault proxy): what an operator would check by hand after quote-to-cash and billing."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..connectors.tryton import TrytonCrm, TrytonErp, TrytonPsa
from ..connectors.tryton.names import CONCORD_REF, Model
from ..domain import ErpCustomer, FinancialStatus, ProjectRecord
from ..sync.ids import canonical_id
from .scenarios.tryton import user_client
from .systems import LocalSystems


@dataclass(frozen=True)
class Row:
    what: str
    crm: str
    erp: str
    psa: str
    agree: bool


# The local stack's configured default legal entity (its DEFAULT_LEGAL_ENTITY).
LEGAL_ENTITY = "us-01"


@dataclass
class SystemsView:
    crm: TrytonCrm
    psa: TrytonPsa
    erp: TrytonErp

    @classmethod
    def direct(cls, systems: LocalSystems) -> SystemsView:
        # An operator's (or the demo's users') sessions: what they write is announced.
        return cls(
            TrytonCrm(user_client(systems, "crm"), legal_entity=LEGAL_ENTITY),
            TrytonPsa(user_client(systems, "psa")),
            TrytonErp(user_client(systems, "erp")),
        )

    def _party_active(self, customer_id: str) -> bool:
        (row,) = self.erp.client.search_read(
            Model.PARTY, [["id", "=", int(customer_id)], ["active", "in", [True, False]]], ["active"]
        )
        return bool(row["active"])

    def _customer_by_ref(self, customer_ref: str) -> ErpCustomer | None:
        """The ERP party Concord created for the customer (concord_ref), else None: the
        operator's check reads Tryton, not Concord's registry."""
        rows = self.erp.client.search_read(
            Model.PARTY, [[CONCORD_REF, "=", customer_ref], ["active", "in", [True, False]]], ["id"]
        )
        return self.erp.get_customer(str(rows[0]["id"])) if rows else None

    def project(self, project_ref: str) -> ProjectRecord | None:
        """The PSA project Concord created for `project_ref` (concord_ref), with its tasks."""
        rows = self.psa.client.search_read(
            Model.WORK, [[CONCORD_REF, "=", project_ref], ["type", "=", "project"]], ["party"]
        )
        if not rows:
            return None
        tasks = self.psa.client.search_read(Model.WORK, [["parent", "=", rows[0]["id"]]], ["name"])
        return ProjectRecord(
            project_id=str(rows[0]["id"]),
            client_id=str(rows[0]["party"]),
            task_ids={t["name"]: str(t["id"]) for t in tasks},
        )

    def _project_status(self, project_id: str) -> str:
        (row,) = self.psa.client.search_read(Model.WORK, [["id", "=", int(project_id)]], ["status.name"])
        status: Any = row.get("status.") or {}
        return str(status.get("name", "?"))

    def deal(self, opportunity_id: str) -> list[Row]:
        """Customer and project of one won opportunity, as each system holds them."""
        opportunity = self.crm.get_opportunity(opportunity_id)
        customer = self.crm.get_customer(opportunity.account_id)
        customer_ref = canonical_id("customer", "crm", customer.account_id)
        erp_customer = self._customer_by_ref(customer_ref) or self.erp.find_customer(
            tax_id=customer.tax_id, name=customer.name
        )
        project_ref = canonical_id("project", "crm", opportunity.opportunity_id)
        project = self.project(project_ref)

        rows = [
            Row(
                "opportunity",
                f"#{opportunity.opportunity_id} {'won' if opportunity.won else 'open'} "
                f"{opportunity.amount.amount} {opportunity.amount.currency}",
                "",
                "",
                opportunity.won,
            )
        ]
        if erp_customer is None:
            rows.append(Row("customer", customer.name, "missing", "", False))
        else:
            active = self._party_active(erp_customer.customer_id)
            rows.append(
                Row(
                    "customer",
                    f"{customer.name} ({customer.tax_id})",
                    f"#{erp_customer.customer_id} {erp_customer.name} ({erp_customer.tax_id})"
                    + ("" if active else " DEACTIVATED"),
                    "",
                    erp_customer.name == customer.name and erp_customer.tax_id == customer.tax_id and active,
                )
            )
        planned = sorted(line.description for line in opportunity.lines)
        if project is None:
            rows.append(Row("project + tasks", ", ".join(planned), "", "missing", False))
        else:
            status = self._project_status(project.project_id)
            rows.append(
                Row(
                    "project + tasks",
                    ", ".join(planned),
                    "",
                    f"#{project.project_id} [{status}] " + ", ".join(sorted(project.task_ids)),
                    sorted(project.task_ids) == planned and status == "Open",
                )
            )
            rows.extend(self._billing(opportunity.opportunity_id, project.project_id, project_ref))
        return rows

    def _billing(self, opportunity_id: str, project_id: str, project_ref: str) -> list[Row]:
        """Approved hours against billed hours, and the invoices' status in all three systems."""
        approved = [t for t in self.psa.approved_time(project_id) if t.billable]
        hours = sum((t.hours for t in approved), Decimal(0))
        billed = self.erp.billed_refs([f"time:{t.time_entry_id}" for t in approved]) if approved else {}
        billed_hours = sum((Decimal(str(q)) for q in billed.values()), Decimal(0))
        rows = [
            Row("approved → billed hours", "", f"{billed_hours} h billed", f"{hours} h approved", billed_hours == hours)
        ]
        invoices = self.erp.client.search_read(
            Model.INVOICE,
            [["reference", "=", project_ref], ["state", "in", ["posted", "paid"]]],
            ["number", "state", "total_amount", "amount_to_pay"],
            order=[("id", "ASC")],
        )
        if not invoices:
            return rows
        due = [Decimal(str(i["amount_to_pay"])) for i in invoices]
        if all(d == 0 for d in due):
            expected = FinancialStatus.PAID
        elif any(d < Decimal(str(i["total_amount"])) for d, i in zip(due, invoices, strict=True)):
            expected = FinancialStatus.PARTIALLY_PAID
        else:
            expected = FinancialStatus.INVOICED
        crm, psa = self.crm.financial_status(opportunity_id), self.psa.billing_status(project_id)
        rows.append(
            Row(
                "invoices → status",
                crm.value if crm else "none",
                "; ".join(
                    f"{i['number']} {i['state']} {i['total_amount']}, due {i['amount_to_pay']}" for i in invoices
                ),
                psa.value if psa else "none",
                crm == psa == expected,
            )
        )
        return rows
