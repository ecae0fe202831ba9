"""concord_sync: Concord's own Tryton 8.2 module (see docs/tryton.md in the Concord repository).

- `concord_ref` on party.party, project.work, account.invoice, account.invoice.line and
  sale.opportunity: Concord's canonical id of the record, for idempotent find-or-create;
- concord.project.terms (erp): a project's contract terms and cost forecast, which Tryton lacks;
- timesheet approval: timesheet.line `approval_state` / `approved_at` and the `approve` button;
- push: canonical events POSTed, Standard Webhooks-signed, after the transaction commits.

Its classes are registered from tryton.cfg (Tryton 8.2's way; `register()` is deprecated).
"""
