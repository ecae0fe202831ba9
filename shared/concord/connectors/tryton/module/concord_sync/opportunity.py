"""CRM opportunities: concord_ref, and OpportunityClosedWon when one becomes won.

Tryton has no "win" button: an opportunity is won when the sale it was converted into is
confirmed (sale.opportunity.process -> won).
"""

from trytond.pool import PoolMeta

from . import push
from .common import ConcordRefMixin


class SaleOpportunity(ConcordRefMixin, metaclass=PoolMeta):
    __name__ = "sale.opportunity"

    @classmethod
    def won(cls, opportunities):
        before = {o.id: o.state for o in opportunities}
        super().won(opportunities)
        if push.enabled("OpportunityClosedWon"):
            push.safely(cls._concord_queue_won, before)

    @classmethod
    def _concord_queue_won(cls, before):
        for opportunity in cls.browse(list(before)):
            if opportunity.state == "won" and before[opportunity.id] != "won":
                push.enqueue("OpportunityClosedWon", opportunity.id)
