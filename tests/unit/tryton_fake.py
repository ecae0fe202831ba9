"""An in-memory Tryton PSA for read counts: timesheet lines and project works answered by
search_read with the domain operators the connector uses (a domain is ANDed; "OR" lists)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Row = dict[str, Any]
PROJECT, TASK = 1, 2


def matches(row: Row, clause: Sequence[Any], rows: dict[int, Row]) -> bool:
    if not clause:
        return True
    if clause[0] == "OR":
        return any(matches(row, part, rows) for part in clause[1:])
    if isinstance(clause[0], list):
        return all(matches(row, part, rows) for part in clause)
    name, operator, value = clause
    if operator == "parent_of":  # the row is one of the works or above them
        return any(row["id"] in ancestry(rows, work) for work in value)
    have = row.get(name)
    return {
        "=": lambda: have == value,
        "!=": lambda: have != value,
        ">=": lambda: have is not None and have >= value,
        "in": lambda: have in value,
        "not in": lambda: have not in value,
    }[operator]()


def ancestry(works: dict[int, Row], work_id: int) -> set[int]:
    found: set[int] = set()
    while work_id in works and work_id not in found:
        found.add(work_id)
        work_id = works[work_id]["parent"]
    return found


@dataclass
class FakeTrytonPsa:
    """`client` of a TrytonPsa: a project (invoiced on timesheets) with one task, and its lines."""

    lines: dict[int, Row] = field(default_factory=dict)
    works: dict[int, Row] = field(
        default_factory=lambda: {
            PROJECT: {"id": PROJECT, "parent": None, "project_invoice_method": "timesheet"},
            TASK: {"id": TASK, "parent": PROJECT, "project_invoice_method": "manual"},
        }
    )
    calls: Counter[str] = field(default_factory=Counter)

    def approve(self, line_id: int, at: dt.datetime) -> None:
        """A line approved at `at` (naive UTC, as Tryton stamps), committed now."""
        self.lines[line_id] = {
            "id": line_id,
            "approved_at": at,
            "create_date": at - dt.timedelta(hours=1),
            "approval_state": "approved",
            "work.": {"origin": f"project.work,{TASK}"},
            "employee": 7,
            "date": at.date(),
            "duration": dt.timedelta(hours=2),
        }

    def call(
        self,
        method: str,
        domain: list[Any],
        offset: int,
        limit: int | None,
        order: Any,
        fields: Any,
        context: Any = None,
    ) -> list[Row]:
        model = method.removeprefix("model.").removesuffix(".search_read")
        self.calls[model] += 1
        table = self.works if model == "project.work" else self.lines
        found = [row for row in table.values() if matches(row, domain, table)]
        if order:
            found.sort(key=lambda row: tuple(row[name] for name, _ in order))
        return [self._with_works(dict(row), fields) for row in found[offset:][:limit]]

    def _with_works(self, row: Row, fields: Sequence[str]) -> Row:
        """Dotted names through a line's timesheet work to its task and the task's parent, as
        Tryton answers them: `{"work.": {"origin": ..., "origin.": {..., "parent.": {...}}}}`."""
        if "work.origin.parent" not in fields or "work." not in row:
            return row
        task = self.works[int(row["work."]["origin"].partition(",")[2])]
        parent = self.works.get(task["parent"]) if task["parent"] else None
        row["work."] = {**row["work."], "origin.": {**task, "parent.": dict(parent) if parent else None}}
        return row
