"""docs/governance.md shows the system-of-record table as it is configured."""

from __future__ import annotations

from concord.ownership import load_system_of_record

from .conftest import REPO_ROOT


def test_the_governance_document_shows_the_configured_system_of_record() -> None:
    table = load_system_of_record(REPO_ROOT / "config" / "system_of_record.json").markdown()
    document = (REPO_ROOT / "docs" / "governance.md").read_text(encoding="utf-8")
    assert table in document, f"docs/governance.md's 'Who owns what' table differs; as configured:\n{table}"


def test_the_table_names_each_object_its_authority_and_the_fields_owned_elsewhere() -> None:
    table = load_system_of_record(
        {"objects": _every_object(customer={"authority": "crm", "fields": {"tax_id": "erp"}})}
    )
    rows = table.markdown().splitlines()
    assert "| customer | crm | `tax_id`: erp |" in rows
    assert "| invoice | erp | none |" in rows


def _every_object(**overrides: dict[str, object]) -> dict[str, object]:
    from concord.ownership.rules import OBJECT_TYPES

    return {name: overrides.get(name, {"authority": "erp"}) for name in OBJECT_TYPES}
