"""Timesheet approval: Tryton 8.2 has none, a PSA's "approved time" is modelled here.

A line starts as `draft`; the `approve` button (or RPC `model.timesheet.line.approve` with
the line ids) sets `approval_state = approved` and `approved_at` (UTC), once: approving an
approved line does nothing. An approved line's duration, work and date can no longer be
changed. Approving queues TimeApproved (psa only, see push.py).
"""

from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import PoolMeta
from trytond.pyson import Eval

from . import push


class ApprovedLineError(UserError):
    "A change to what an approved timesheet line says was refused."


class Line(metaclass=PoolMeta):
    __name__ = "timesheet.line"

    approval_state = fields.Selection(
        [
            ("draft", "Draft"),
            ("approved", "Approved"),
        ],
        "Approval State",
        required=True,
        readonly=True,
        sort=False,
        help="Approved time is final: its duration, work and date are locked.",
    )
    approved_at = fields.DateTime("Approved At", readonly=True)

    # What an approval freezes.
    _approval_locked_fields = ("duration", "work", "date")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # No 'invisible'/'readonly' state on the button: Tryton would then refuse an RPC
        # click on an approved line, and approve must be safe to retry.
        cls._buttons.update(
            {
                "approve": {"depends": ["approval_state"]},
            }
        )
        approved = Eval("approval_state") == "approved"
        for name in cls._approval_locked_fields:
            field = getattr(cls, name)
            field.states = dict(field.states)
            readonly = field.states.get("readonly")
            field.states["readonly"] = (readonly | approved) if readonly else approved

    @classmethod
    def default_approval_state(cls):
        return "draft"

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        if mode == "write" and values:
            locked = [n for n in cls._approval_locked_fields if n in values]
            if locked:
                for line in lines:
                    if line.approval_state == "approved":
                        raise ApprovedLineError(
                            gettext(
                                "concord_sync.msg_timesheet_line_approved", line=line.rec_name, fields=", ".join(locked)
                            )
                        )
        super().check_modification(mode, lines, values=values, external=external)

    @classmethod
    @ModelView.button
    def approve(cls, lines):
        to_approve = [line for line in lines if line.approval_state != "approved"]
        if not to_approve:
            return
        approved_at = push.now().replace(microsecond=0)
        cls.write(
            to_approve,
            {
                "approval_state": "approved",
                # Tryton stores naive UTC datetimes.
                "approved_at": approved_at.replace(tzinfo=None),
            },
        )
        for line in to_approve:
            push.enqueue("TimeApproved", line.id, occurred_at=approved_at)

    @classmethod
    def copy(cls, lines, default=None):
        default = {} if default is None else default.copy()
        default.setdefault("approval_state", "draft")
        default.setdefault("approved_at", None)
        return super().copy(lines, default=default)
