"""`concord trace` (concord.operator.trace): the entity references an operator writes."""

from __future__ import annotations

import pytest

from concord.operator import trace as ops


def test_entity_references() -> None:
    assert ops.parse_entity_reference("crm:opportunity:31") == ops.EntityReference("project", None, "crm", "31")
    assert ops.parse_entity_reference("ERP:customer:5").object_type == "customer"
    assert ops.parse_entity_reference("project-1234").canonical_id == "project-1234"
    for bad in ("crm:invoice:1", "nothing", "crm:opportunity:"):
        with pytest.raises(ValueError):
            ops.parse_entity_reference(bad)
