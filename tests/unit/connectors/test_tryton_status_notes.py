"""Status notes on Tryton records, for a batch in three calls (against a recording stand-in for
the RPC client: the calls it is asked, and the records and notes it holds)."""

from __future__ import annotations

from typing import Any

from concord.connectors.tryton import status_notes
from concord.connectors.tryton.crm import FINANCIAL_STATUS
from concord.connectors.tryton.names import FINANCIAL_STATUS_NOTE, Model, RecordNotFound
from concord.domain import FinancialStatus


class RecordingClient:
    database = "crm"

    def __init__(self, opportunities: set[int], notes: list[tuple[str, str]]) -> None:
        self.opportunities, self.notes = opportunities, notes
        self.methods: list[str] = []

    def call(self, method: str, domain: list[Any], *_: Any, context: Any = None) -> list[dict[str, Any]]:
        self.methods.append(method)
        if method == f"model.{Model.OPPORTUNITY}.search_read":
            (_, _, ids), *_ = domain
            return [{"id": i} for i in ids if i in self.opportunities]
        assert method == f"model.{Model.NOTE}.search_read"
        (_, _, resources), _ = domain
        return [{"resource": r, "message": m} for r, m in self.notes if r in resources]

    def create(self, model: str, values: list[dict[str, Any]]) -> list[int]:
        self.methods.append(f"model.{model}.create")
        self.notes += [(v["resource"], v["message"]) for v in values]
        return list(range(len(values)))


def test_a_batch_costs_three_calls_and_notes_only_what_is_new() -> None:
    client = RecordingClient({1, 2, 3}, [(f"{Model.OPPORTUNITY},2", f"{FINANCIAL_STATUS_NOTE}paid (set by Concord)")])
    paid = FinancialStatus.PAID
    statuses = {"1": FinancialStatus.INVOICED, "2": paid, "3": paid, "9": paid, "x": paid}
    failed = status_notes.write_statuses(client, FINANCIAL_STATUS, statuses)  # type: ignore[arg-type]

    assert sorted(failed) == ["9", "x"] and all(isinstance(e, RecordNotFound) for e in failed.values())
    assert len(client.methods) == 3
    noted = [(r, m.split(" (")[0]) for r, m in client.notes[1:]]
    assert noted == [
        (f"{Model.OPPORTUNITY},1", f"{FINANCIAL_STATUS_NOTE}invoiced"),
        (f"{Model.OPPORTUNITY},3", f"{FINANCIAL_STATUS_NOTE}paid"),
    ]

    again = status_notes.write_statuses(client, FINANCIAL_STATUS, {"1": FinancialStatus.INVOICED})  # type: ignore[arg-type]
    reads = [f"model.{Model.OPPORTUNITY}.search_read", f"model.{Model.NOTE}.search_read"]
    assert again == {} and client.methods[3:] == reads
