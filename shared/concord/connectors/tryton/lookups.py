"""The Tryton look-ups every connector makes (search_read with a context, a record by id,
products by code, a party's addresses and tax identifiers, Concord's notes on a record).

Rows are what `TrytonRpcClient.search_read` returns: dicts keyed by field name, dotted fields
as nested dicts (`{"country.": {"code": "US"}}`), Decimal/date/datetime already decoded,
datetimes naive and in UTC (the local server runs with TZ=UTC; see docs/tryton.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from concord.errors import PermanentError, ValidationFailed

from .mapping import identifier_domain
from .names import CONCORD_REF, Model, not_found
from .rpc import TrytonRpcClient

Row = dict[str, Any]

# --------------------------------------------------------------------------------------------
# Look-ups shared by the connectors


def search_read(
    client: TrytonRpcClient,
    model: str,
    domain: Sequence[Any],
    fields: Sequence[str],
    *,
    order: Sequence[tuple[str, str]] | None = None,
    limit: int | None = None,
    active_test: bool = True,
) -> list[Row]:
    """`search_read` that can include inactive (archived) records (context active_test)."""
    # https://docs.tryton.org/server/ref/models.html#trytond.model.ModelStorage.search_read
    context = None if active_test else {"active_test": False}
    return client.call(  # type: ignore[no-any-return]
        f"model.{model}.search_read",
        list(domain),
        0,
        limit,
        [list(o) for o in order] if order else None,
        list(fields),
        context=context,
    )


def read_one(
    client: TrytonRpcClient, model: str, id_: int, fields: Sequence[str], what: str, domain: Sequence[Any] = ()
) -> Row:
    """The record `id_` of `model` (active or not) or RecordNotFound."""
    rows = search_read(client, model, [["id", "=", id_], *domain], fields, active_test=False)
    if not rows:
        raise not_found(what, id_, client.database)
    return rows[0]


def has_field(client: TrytonRpcClient, model: str, field: str) -> bool:
    """Whether `model` has `field` in this database (e.g. concord_sync's concord_ref): Tryton
    registers every field of the activated modules as an ir.model.field record."""
    return bool(search_read(client, Model.MODEL_FIELD, [["model", "=", model], ["name", "=", field]], ["id"], limit=1))


def product_by_code(client: TrytonRpcClient, codes: Iterable[str]) -> dict[str, Row]:
    """The products with these codes (Concord's service items), by code; all must exist."""
    wanted = sorted(set(codes))
    rows = search_read(
        client,
        Model.PRODUCT,
        [["code", "in", wanted]],
        ["code", "default_uom", "list_price_used", "type", "account_category"],
    )
    found = {r["code"]: r for r in rows}
    if missing := [c for c in wanted if c not in found]:
        raise ValidationFailed(
            f"no product with code {', '.join(map(repr, missing))} in Tryton database "
            f"{client.database!r}: every service item must exist as a product code"
        )
    return found


def company_currency(client: TrytonRpcClient) -> str:
    """ISO code of the company's currency (the context's company)."""
    company = client.context.get("company")
    rows = search_read(client, Model.COMPANY, [["id", "=", company]], ["currency.code"])
    if not rows:
        raise PermanentError(f"no company in Tryton database {client.database!r}")
    return str(rows[0]["currency."]["code"])


def party_addresses(client: TrytonRpcClient, party_id: int) -> list[Row]:
    """A party's addresses, invoice addresses first, then in the party's own order."""
    rows = search_read(
        client,
        Model.ADDRESS,
        [["party", "=", party_id]],
        ["street", "city", "postal_code", "country.code", "subdivision.code", "invoice"],
        order=[("sequence", "ASC"), ("id", "ASC")],
    )
    return sorted(rows, key=lambda r: not r.get("invoice"))


def party_identifiers(client: TrytonRpcClient, party_ids: Sequence[int]) -> dict[int, str]:
    """Each party's tax identifier code: its first tax-type identifier (Tryton's own
    `tax_identifier`), else its first identifier without a type (see to_tryton_identifier_values)."""
    rows = search_read(client, Model.PARTY, [["id", "in", list(party_ids)]], ["tax_identifier.code"], active_test=False)
    codes = {r["id"]: r["tax_identifier."]["code"] for r in rows if r.get("tax_identifier.")}
    if missing := [p for p in party_ids if p not in codes]:
        for row in search_read(
            client,
            Model.IDENTIFIER,
            [["party", "in", missing], ["type", "=", None]],
            ["party", "code"],
            order=[("sequence", "ASC"), ("id", "ASC")],
        ):
            codes.setdefault(row["party"], row["code"])
    return codes


def parties_by_tax_id(client: TrytonRpcClient, tax_id: str, *, active_test: bool = True) -> list[Row]:
    """Parties (active ones, unless active_test is False) with an identifier equal to tax_id
    (see identifier_domain)."""
    identifiers = search_read(client, Model.IDENTIFIER, identifier_domain(tax_id), ["party"], active_test=active_test)
    if not identifiers:
        return []
    return search_read(
        client,
        Model.PARTY,
        [["id", "in", sorted({i["party"] for i in identifiers})]],
        ["name", CONCORD_REF],
        order=[("id", "ASC")],
        active_test=active_test,
    )


def latest_note(client: TrytonRpcClient, resource: str, prefix: str) -> str | None:
    """The message of the newest ir.note on `resource` starting with `prefix`."""
    # ir.note: notes attached to any record ("model,id"), shown in the client's Notes sidebar.
    rows = search_read(
        client,
        Model.NOTE,
        [["resource", "=", resource], ["message", "like", f"{prefix}%"]],
        ["message"],
        order=[("id", "DESC")],
        limit=1,
    )
    return str(rows[0]["message"]) if rows else None


def add_note(client: TrytonRpcClient, resource: str, message: str) -> None:
    client.create(Model.NOTE, [{"resource": resource, "message": message}])


def resource(model: str, id_: int) -> str:
    """A Tryton Reference value: "model,id"."""
    return f"{model},{id_}"
