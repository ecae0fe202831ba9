"""Projects and tasks (PSA work breakdown): concord_ref."""

from trytond.pool import PoolMeta

from .common import ConcordRefMixin


class Work(ConcordRefMixin, metaclass=PoolMeta):
    __name__ = "project.work"
