"""Change feed by polling: records whose `lastModifiedDateTime` is at or after the cursor,
oldest first (`$orderby=lastModifiedDateTime,id`), `$top` bounded; the cursor is the kit's
TimeCursor (a time and the ids already read at it), opaque to sync logic.

Webhook subscriptions (subscriptions.py) push the same changes; polling closes their gaps.
https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/webservices/use-filter-expressions-in-odata-uris
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from itertools import islice

from concord.domain import ChangePage, RecordChange
from concord.errors import ConfigurationError

from ..kit.cursors import TimeCursor
from .client import BATCH_LIMIT, BatchRequest, BusinessCentralClient
from .payloads import BcRecord

# record type -> entity set
ENTITY_SETS: Mapping[str, str] = {"customer": "customers", "invoice": "salesInvoices", "payment": "customerPayments"}
# The standard API shows no creation time, and once-per-record events (InvoicePosted,
# PaymentReceived) name a record by id and creation time, the same from push and polling.
# Business Central ids are GUIDs, never reused: the id alone names a record, so every change
# reports this fixed stand-in as created_at (both paths read it here, so the ids agree).
ID_NAMES_THE_RECORD = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Business Central stamps a record when its transaction writes it, not when it commits: a run
# resumes this far behind its checkpoint to catch a late commit (the cursor never goes back).
RESUME_OVERLAP = dt.timedelta(seconds=60)


def odata_time(moment: dt.datetime) -> str:
    """A DateTimeOffset literal for $filter (UTC, milliseconds)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ModifiedPoller:
    def __init__(self, client: BusinessCentralClient) -> None:
        self._client = client

    def start_cursor(self, record_type: str, now: dt.datetime) -> str:
        _entity_set(record_type)
        return TimeCursor.at(now).encode()

    def resume_cursor(self, record_type: str, saved: str) -> str:
        _entity_set(record_type)
        return TimeCursor.decode(saved).rewound(RESUME_OVERLAP).encode()

    def changes_since(self, record_type: str, cursor: str, limit: int) -> ChangePage:
        entity_set = _entity_set(record_type)
        position = TimeCursor.decode(cursor)
        limit = max(1, limit)
        # Records at the cursor's own time that were read already come again (ge): ask for them too.
        top = limit + len(position.ids_at) + 1
        params = {"$filter": f"lastModifiedDateTime ge {odata_time(position.written_at)}",
                  "$orderby": "lastModifiedDateTime asc,id asc", "$top": top, "$select": "id,lastModifiedDateTime"}
        # https://learn.microsoft.com/en-us/dynamics365/business-central/dev-itpro/api-reference/v2.0/api/dynamics_customer_get
        # The service may page below $top (server-driven paging): read on until `top` rows.
        listed = self._client.listed(f"poll {entity_set}", entity_set, params)
        rows = [BcRecord.model_validate(row) for row in islice(listed, top)]
        # Rows the cursor has read (at its time, or in a re-read overlap) are passed over.
        return position.page([_change(record_type, row) for row in rows], more=len(rows) == top, limit=limit)

    def changes_of(self, record_type: str, record_ids: Sequence[str]) -> list[RecordChange]:
        """The stamps of the named records: one `$batch` of reads per BATCH_LIMIT ids; a record
        that does not exist (404) is left out."""
        entity_set = _entity_set(record_type)
        ids = list(dict.fromkeys(record_ids))
        changes: list[RecordChange] = []
        for start in range(0, len(ids), BATCH_LIMIT):
            chunk = ids[start:start + BATCH_LIMIT]
            reads = [BatchRequest("GET", self._client.path(f"{entity_set}({record_id})?$select=id,lastModifiedDateTime"))
                     for record_id in chunk]
            for answer in self._client.batch(f"read {entity_set}", reads, atomic=False):
                if answer.status == 404 or (answer.status == 400 and _is_malformed_id(answer.body)):
                    continue
                error = answer.error(self._client.errors, f"read {entity_set}")
                if error is not None:
                    raise error
                changes.append(_change(record_type, BcRecord.model_validate(answer.body)))
        return changes


def _is_malformed_id(body: object) -> bool:
    """Business Central answers 400 BadRequest_InvalidToken for an id that is no GUID."""
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and str(error.get("code", "")).startswith("BadRequest")


def _entity_set(record_type: str) -> str:
    if record_type not in ENTITY_SETS:
        raise ConfigurationError(f"business central change capture: no record type {record_type!r}; "
                                 f"known: {sorted(ENTITY_SETS)}")
    return ENTITY_SETS[record_type]


def _change(record_type: str, row: BcRecord) -> RecordChange:
    return RecordChange(record_type=record_type, record_id=row.id, written_at=row.lastModifiedDateTime,
                        created_at=ID_NAMES_THE_RECORD)
