"""Mappers between Tryton records and Concord's domain records, named by direction:
`to_<concord thing>(tryton row...)` reads, and `to_tryton_<thing>_values(concord record...)`
builds the values of a create or write. Rows are as lookups.py describes them. One module per
kind of record: parties, opportunities, projects (and time), invoices (and payments).

Tryton documentation: https://docs.tryton.org/server/ (server, domains, RPC) and
https://docs.tryton.org/modules-<module>/ (e.g. modules-party, modules-account-invoice).
"""

from .invoices import (
    INVOICE_FIELDS,
    INVOICE_POSTED_FIELDS,
    PAYMENT_LINE_FIELDS,
    to_invoice_record,
    to_posted_invoice,
    to_received_payment,
    to_tryton_invoice_line_values,
)
from .opportunities import (
    billing_status_note,
    financial_status_note,
    status_of_note,
    to_opportunity,
    to_opportunity_line,
)
from .parties import (
    address_differs,
    compact_tax_id,
    identifier_domain,
    tax_identifier_type,
    to_address,
    to_customer,
    to_erp_customer,
    to_tryton_address_values,
    to_tryton_identifier_values,
    to_tryton_party_values,
)
from .projects import (
    MAX_ENTRY_HOURS,
    append_line,
    last_state_comment,
    state_comment,
    state_comment_key,
    timesheet_hours,
    to_approved_time,
    to_project_record,
    to_tryton_project_values,
)

__all__ = [
    "INVOICE_FIELDS",
    "INVOICE_POSTED_FIELDS",
    "MAX_ENTRY_HOURS",
    "PAYMENT_LINE_FIELDS",
    "address_differs",
    "append_line",
    "billing_status_note",
    "compact_tax_id",
    "financial_status_note",
    "identifier_domain",
    "last_state_comment",
    "state_comment",
    "state_comment_key",
    "status_of_note",
    "tax_identifier_type",
    "timesheet_hours",
    "to_address",
    "to_approved_time",
    "to_customer",
    "to_erp_customer",
    "to_invoice_record",
    "to_opportunity",
    "to_opportunity_line",
    "to_posted_invoice",
    "to_project_record",
    "to_received_payment",
    "to_tryton_address_values",
    "to_tryton_identifier_values",
    "to_tryton_invoice_line_values",
    "to_tryton_party_values",
    "to_tryton_project_values",
]
