"""The `concord_ref` field shared by the models Concord finds-or-creates records in."""

from trytond.model import Unique, fields


class ConcordRefMixin:
    """Concord's canonical id of the record: set by Concord when it creates or first links the
    record, searched (`[('concord_ref', '=', id)]`) to make create idempotent.

    Unique when set (a duplicate create fails instead of forking the record), not copied on
    duplicate, and writable over RPC: a field-level `readonly` would make Tryton 8.2 refuse
    RPC writes too (ModelStorage.check_modification), so the views show it read-only instead.
    """

    __slots__ = ()

    concord_ref = fields.Char(
        "Concord Reference", strip=True, help="Concord's canonical id of this record (set by the integration)."
    )

    @classmethod
    def __setup__(cls):
        super().__setup__()
        table = cls.__table__()
        # A unique index (SQLite and PostgreSQL both allow many NULLs): also the index
        # the find-or-create search uses.
        cls._sql_constraints.append(
            ("concord_ref_unique", Unique(table, table.concord_ref), "concord_sync.msg_concord_ref_unique")
        )

    @classmethod
    def copy(cls, records, default=None):
        default = {} if default is None else default.copy()
        default.setdefault("concord_ref", None)
        return super().copy(records, default=default)
