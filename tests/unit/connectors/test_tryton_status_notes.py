"""Status notes on Tryton records, for a batch in one call (against a recording stand-in for
the RPC client that answers concord_sync's note_statuses as the module does: the records it
holds, the notes it keeps)."""

from __future__ import annotations

from typing import Any

from concord.connectors.tryton import status_notes
from concord.connectors.tryton.crm import FINANCIAL_STATUS
from concord.connectors.tryton.names import FINANCIAL_STATUS_NOTE, Model, RecordNotFound
from concord.connectors.tryton.rpc import TrytonPermanentError
from concord.domain import FinancialStatus


class RecordingClient:
    database = "crm"

    def __init__(self, opportunities: set[int], notes: list[tuple[str, str]]) -> None:
        self.opportunities, self.notes = opportunities, notes
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def call(self, method: str, *params: Any, context: Any = None) -> list[int]:
        self.calls.append((method, params))
        model, _domain, prefix, messages = params
        missing = sorted(int(i) for i in messages if int(i) not in self.opportunities)
        for id_, message in messages.items():
            resource = f"{model},{id_}"
            newest = [m for r, m in self.notes if r == resource and m.startswith(prefix)][-1:]
            if int(id_) in self.opportunities and [m.split(" (")[0] for m in newest] != [message.split(" (")[0]]:
                self.notes.append((resource, message))
        return missing


def test_a_batch_is_one_call_naming_the_model_prefix_and_each_records_note() -> None:
    client = RecordingClient({1, 2, 3}, [(f"{Model.OPPORTUNITY},2", f"{FINANCIAL_STATUS_NOTE}paid (set by Concord)")])
    paid = FinancialStatus.PAID
    statuses = {"1": FinancialStatus.INVOICED, "2": paid, "3": paid, "9": paid, "x": paid}
    failed = status_notes.write_statuses(client, FINANCIAL_STATUS, statuses)  # type: ignore[arg-type]

    assert sorted(failed) == ["9", "x"] and all(isinstance(e, RecordNotFound) for e in failed.values())
    [(method, (model, domain, prefix, messages))] = client.calls
    assert method == f"model.{Model.STATUS_NOTES}.note_statuses"
    assert (model, domain, prefix) == (Model.OPPORTUNITY, [], FINANCIAL_STATUS_NOTE)
    # "x" is no Tryton id: it is not sent
    assert {i: m.split(" (")[0] for i, m in messages.items()} == {
        "1": f"{FINANCIAL_STATUS_NOTE}invoiced",
        "2": f"{FINANCIAL_STATUS_NOTE}paid",
        "3": f"{FINANCIAL_STATUS_NOTE}paid",
        "9": f"{FINANCIAL_STATUS_NOTE}paid",
    }
    assert [(r, m.split(" (")[0]) for r, m in client.notes[1:]] == [
        (f"{Model.OPPORTUNITY},1", f"{FINANCIAL_STATUS_NOTE}invoiced"),
        (f"{Model.OPPORTUNITY},3", f"{FINANCIAL_STATUS_NOTE}paid"),
    ]


def test_no_call_when_no_record_id_is_a_tryton_id() -> None:
    client = RecordingClient({1}, [])
    failed = status_notes.write_statuses(client, FINANCIAL_STATUS, {"x": FinancialStatus.PAID})  # type: ignore[arg-type]
    assert list(failed) == ["x"] and client.calls == []


def test_a_failed_call_fails_every_record_it_carried() -> None:
    class Refusing(RecordingClient):
        def call(self, method: str, *params: Any, context: Any = None) -> list[int]:
            raise TrytonPermanentError("refused", method=method)

    client = Refusing({1, 2}, [])
    paid = {"1": FinancialStatus.PAID, "2": FinancialStatus.PAID}
    failed = status_notes.write_statuses(client, FINANCIAL_STATUS, paid)  # type: ignore[arg-type]
    assert sorted(failed) == ["1", "2"] and all(isinstance(e, TrytonPermanentError) for e in failed.values())
