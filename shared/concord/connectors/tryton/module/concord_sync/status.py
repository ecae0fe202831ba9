"""Statuses Concord keeps on records as ir.notes, set for many records in one RPC call.

Tryton has no field for a deal's financial status or a project's billing status, so Concord
notes them ("Concord financial status: paid (set by Concord <time>)"). Done from outside, a
batch took three calls (which records exist, the newest status note of each, the create);
`concord.status_notes.note_statuses` does the same in one transaction on the server.
"""

from trytond.model import Model
from trytond.pool import Pool
from trytond.rpc import RPC
from trytond.transaction import Transaction


def _status_of(message, prefix):
    """The status word a note records after `prefix` (None: not such a note)."""
    if not message or not message.startswith(prefix):
        return None
    return message[len(prefix) :].split(" ", 1)[0]


class StatusNotes(Model):
    "Concord Status Notes"

    __name__ = "concord.status_notes"

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__["note_statuses"] = RPC(readonly=False)

    @classmethod
    def note_statuses(cls, model, domain, prefix, messages):
        """Note `messages[id]` on each record of `model` (with id, matching `domain`, archived
        ones too) unless its newest note starting with `prefix` records the same status;
        return the ids that are no such record, which get no note."""
        pool = Pool()
        Target = pool.get(model)
        Note = pool.get("ir.note")
        wanted = {int(id_): message for id_, message in messages.items()}
        with Transaction().set_context(active_test=False):
            found = {r.id for r in Target.search([("id", "in", list(wanted)), *domain], order=[])}
        resources = {f"{model},{id_}": id_ for id_ in found}
        newest = {}
        if resources:
            # Ascending ids: the last note seen for a resource is its newest.
            for note in Note.search(
                [("resource", "in", list(resources)), ("message", "like", f"{prefix}%")], order=[("id", "ASC")]
            ):
                newest[resources[str(note.resource)]] = note.message
        Note.create(
            [
                {"resource": f"{model},{id_}", "message": wanted[id_]}
                for id_ in sorted(found)
                if _status_of(newest.get(id_), prefix) != _status_of(wanted[id_], prefix)
            ]
        )
        return sorted(set(wanted) - found)
