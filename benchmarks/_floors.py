"""The vendor-call floor of each sync flow in flow_throughput: the fewest calls to a system a
correct implementation needs for the events of a run, given the connector's batch limits, and
a run's calls read against it.

  billing            ERP: ceil(N / the ERP's invoice-line batch limit) batched writes
  financial status   CRM and PSA: 1 write per system per change of the project's status
  customer master    CRM: 1 read of the source per record; ERP: 1 write per target that differs
  project terms      ERP: 1 write per record

A warm function is measured (each flow's first event is put alone and not counted): opening a
session and reading reference data is a cost per function instance, not per record.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Floor:
    system: str  # "crm", "psa", "erp"
    calls: int
    rule: str  # how it was counted, as the output shows it


def billing(n: int, line_limit: int) -> list[Floor]:
    return [Floor("erp", math.ceil(n / line_limit), f"ceil({n} / {line_limit}) batched writes")]


def status_changes(total: Decimal, dues: Iterable[Decimal], before: Decimal) -> int:
    """How often an invoice's status (invoiced, partially paid, paid) changes as payments
    leaving `dues` arrive in order, from `before` due. What is left to pay only goes down."""

    def status(due: Decimal) -> str:
        return "paid" if due <= 0 else "partially_paid" if due < total else "invoiced"

    changes, due = 0, before
    for reported in dues:
        after = min(due, reported)
        changes += status(after) != status(due)
        due = after
    return changes


def financial_status(changes: int) -> list[Floor]:
    rule = f"{changes} status change(s) x 1 write"
    return [Floor("crm", changes, rule), Floor("psa", changes, rule)]


def customer_master(n: int, differing_targets: int) -> list[Floor]:
    return [
        Floor("crm", n, f"{n} records x 1 read of the source"),
        Floor("erp", differing_targets, f"{differing_targets} target write(s): only what differs"),
    ]


def project_terms(n: int) -> list[Floor]:
    return [Floor("erp", n, f"{n} records x 1 write")]


def against(floors: list[Floor], calls: Mapping[str, int]) -> list[dict[str, Any]]:
    """Each floor with the calls the run made to its system and their ratio (None: a floor of
    0 calls, met only by making none)."""
    return [
        {
            "system": floor.system,
            "calls": calls.get(floor.system, 0),
            "floor": floor.calls,
            "rule": floor.rule,
            "ratio": calls.get(floor.system, 0) / floor.calls if floor.calls else None,
            "met": calls.get(floor.system, 0) <= floor.calls * 1.1,
        }
        for floor in floors
    ]
