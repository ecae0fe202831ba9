"""Invoices (ERP): concord_ref (on invoices and their lines), InvoicePosted, PaymentReceived.

An invoice line's concord_ref is Concord's id of what the line bills (e.g. "time:<PSA time
entry id>"): unique where set, so a retried batch of lines adds no second line.

A customer invoice's amount to pay goes down when a move line is added to its payment lines
(the pay wizard, Invoice.pay_invoice / add_payment_lines, the move line's "invoice payment")
or when its receivable line is reconciled with another move line (e.g. a bank statement
line). Both are watched; each payment move line is announced once, as PaymentReceived with
payment_id = the move line id.
"""

from trytond.model import fields
from trytond.pool import Pool, PoolMeta

from . import push
from .common import ConcordRefMixin

_POSTABLE_STATES = {"draft", "validated"}


class Invoice(ConcordRefMixin, metaclass=PoolMeta):
    __name__ = "account.invoice"

    @classmethod
    def _post(cls, invoices):
        # post (the button) and post_batch both end here.
        before = {i.id: i.state for i in invoices}
        super()._post(invoices)
        if push.enabled("InvoicePosted"):
            push.safely(cls._concord_queue_posted, before)

    @classmethod
    def _concord_queue_posted(cls, before):
        for invoice in cls.browse(list(before)):
            if invoice.type == "out" and invoice.state == "posted" and before[invoice.id] in _POSTABLE_STATES:
                push.enqueue("InvoicePosted", invoice.id)

    @classmethod
    def on_write(cls, invoices, values):
        callbacks = super().on_write(invoices, values)
        if values.get("payment_lines") and push.enabled("PaymentReceived"):
            push.safely(cls._concord_queue_payment_lines, invoices, values["payment_lines"])
        return callbacks

    @classmethod
    def _concord_queue_payment_lines(cls, invoices, actions):
        added = [int(line_id) for action in actions if action[0] == "add" for line_id in action[1]]
        for invoice in invoices:
            if invoice.type == "out":
                for line_id in added:
                    push.enqueue("PaymentReceived", (invoice.id, line_id), sources={"payment_lines"})


class InvoiceLine(ConcordRefMixin, metaclass=PoolMeta):
    __name__ = "account.invoice.line"

    # The modules activated here have no cost centre on a line (analytic_invoice is not one of
    # them): Concord writes the ERP's id of the cost centre the PSA booked the work to.
    concord_cost_centre = fields.Char(
        "Cost Centre", strip=True, help="The cost centre Concord booked this line to (from the PSA's entry)."
    )


class Reconciliation(metaclass=PoolMeta):
    __name__ = "account.move.reconciliation"

    @classmethod
    def on_modification(cls, mode, reconciliations, field_names=None):
        super().on_modification(mode, reconciliations, field_names=field_names)
        if mode == "create" and push.enabled("PaymentReceived"):
            push.safely(_queue_reconciled_payments, reconciliations)


def _queue_reconciled_payments(reconciliations):
    """Lines reconciled with a customer invoice's receivable line that pay it: not part of
    an invoice's own move, not a write-off."""
    pool = Pool()
    Invoice = pool.get("account.invoice")
    lines = [line for r in reconciliations for line in r.lines]
    move_ids = {line.move.id for line in lines}
    invoices = Invoice.search(
        [
            ("type", "=", "out"),
            [
                "OR",
                ("move", "in", list(move_ids)),
                ("additional_moves", "in", list(move_ids)),
            ],
        ]
    )
    if not invoices:
        return
    invoice_moves = {i.move.id for i in Invoice.search([("move", "in", list(move_ids))])}
    for invoice in invoices:
        own_moves = {invoice.move.id} | {m.id for m in invoice.additional_moves}
        reconciled = {line.reconciliation.id for line in invoice.lines_to_pay if line.reconciliation}
        for line in lines:
            if (
                line.reconciliation
                and line.reconciliation.id in reconciled
                and line.account == invoice.account
                and line.move.id not in own_moves
                and line.move.id not in invoice_moves
                and line.move.journal.type != "write-off"
            ):
                push.enqueue("PaymentReceived", (invoice.id, line.id), sources={"reconciliation"})
