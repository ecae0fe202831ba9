"""The catalog is the one place a flow is named (issue #17): no flow name written anywhere else in
the code, every function folder a catalog entry, the docs' flow table the catalog's."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from concord import catalog
from concord.events.types import Severity
from concord.sync.quote_to_cash import SagaState

REPO_ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("shared", "functions", "infra", "benchmarks")
NOT_SCANNED = {
    "shared/concord/catalog.py",  # where the names are written
}
# The names the flows had before the catalog: none may come back.
OLD_NAMES = (
    "post_billable",
    "propagate_financials",
    "sync_customer",
    "sync_project_terms",
    "enrich_changes",
    "poll_changes",
    "q2c_start",
    "q2c",
)
# Strings equal to a flow's one-word name (`billing`, ...) that are not that flow, with why.
NOT_FLOWS = {
    ("shared/concord/sync/reconcile.py", "financial_status"),  # the deal's field, compared across systems
    # memory.py measures each function against a floor interpreter without Concord's code, so
    # it names the functions it invokes rather than import the catalog.
    ("benchmarks/memory.py", "audit_trail"),
    ("benchmarks/memory.py", "quote_to_cash"),
    # the Dynamics 365 Finance connection's key for its service items' accounts and prices
    ("shared/concord/local/vendors.py", "service_items"),
}


def _multiword(name: str) -> bool:
    return "_" in name


def _forms() -> tuple[set[str], set[str]]:
    """(names never to be written outside the catalog in any position, one-word flow names that
    are only a flow in a flow's context)."""
    names = [flow.name for flow in catalog.FLOWS] + [catalog.SAGA.folder(s) for s in catalog.SAGA.all_steps]
    names += list(OLD_NAMES)
    anywhere = {
        form for name in names if _multiword(name) or name in OLD_NAMES for form in (name, name.replace("_", "-"))
    }
    return anywhere, {name for name in names if not _multiword(name) and name not in OLD_NAMES}


ANYWHERE, ONE_WORD = _forms()


# A physical name (`concord-dev-billing-dlq`, an f-string's `-billing`) or a path (`functions/billing`).
def _alternatives(names: set[str]) -> str:
    return "|".join(map(re.escape, sorted(names)))


_PHYSICAL = re.compile(
    rf"(?:(?:^|[-/])(?:{_alternatives(ANYWHERE)})|[-/](?:{_alternatives(ONE_WORD)}))(?:-dlq)?(?:$|/)"
)
# Where a bare string means a flow: these keyword arguments, targets and callees.
FLOW_KEYWORDS = {"flow", "consumer", "service", "name", "folder"}
FLOW_TARGET = re.compile(r"(FLOW|CONSUMER|FUNCTION|FOLDER)S?$")
FLOW_CALLEES = {"invoke", "load_handler", "make_function", "function", "FlowRun", "flow_of_queue", "severity_of"}


def _python_files() -> Iterator[tuple[str, ast.Module]]:
    for top in SCANNED:
        for path in sorted((REPO_ROOT / top).rglob("*.py")):
            relative = path.relative_to(REPO_ROOT).as_posix()
            if relative not in NOT_SCANNED and "node_modules" not in path.parts and "cdk.out" not in path.parts:
                yield relative, ast.parse(path.read_text(), relative)


def _strings(node: ast.AST) -> list[str]:
    """The string constants of a node, an f-string's literal parts included."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)]


def _flow_contexts(tree: ast.Module) -> Iterator[ast.AST]:
    """Expressions in positions where a string names a flow."""
    for node in ast.walk(tree):
        if (isinstance(node, ast.keyword) and node.arg in FLOW_KEYWORDS) or (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and FLOW_TARGET.search(t.id) for t in node.targets)
        ):
            yield node.value
        elif isinstance(node, ast.Call) and node.args:
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if callee in FLOW_CALLEES:
                yield node.args[0]
        elif isinstance(node, ast.Dict) and any(s in ANYWHERE for k in node.keys if k for s in _strings(k)):
            # a map keyed by flows: its other keys are flows too
            yield from (k for k in node.keys if k)
        elif isinstance(node, ast.Dict) and any(
            isinstance(k, ast.Constant) and k.value in {"flow", "consumer"} for k in node.keys
        ):
            yield from (
                v
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and k.value in {"flow", "consumer"}
            )


def flow_names_outside_the_catalog() -> list[str]:
    found = []
    for relative, tree in _python_files():
        for value in _strings(tree):
            if (value in ANYWHERE or _PHYSICAL.search(value)) and (relative, value) not in NOT_FLOWS:
                found.append(f"{relative}: {value!r}")
        for context in _flow_contexts(tree):
            found += [
                f"{relative}: {value!r} (as a flow)"
                for value in _strings(context)
                if value in ONE_WORD and (relative, value) not in NOT_FLOWS
            ]
    return sorted(set(found))


def test_no_flow_is_named_outside_the_catalog() -> None:
    assert flow_names_outside_the_catalog() == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('x = "concord-local-billing-dlq"', True),  # a physical name
        ('x = f"{prefix}-financial-status"', True),
        ('x = "customer_master"', True),
        ('x = "functions/change_capture"', True),
        ('x = "q2c-start"', True),  # an old name
        ('consume(consumer="billing")', True),  # a one-word name where a flow goes
        ('FLOW = "enrichment"', True),
        ('ASSUMED = {"audit_trail": 1, "billing": 2}', True),
        ('contact_role = "billing"', False),  # the English word
        ('domain = [["reconciliation", "!=", None]]', False),
        ('x = "the quote-to-cash saga"', False),  # prose
        ('x = "erp-billing-terms"', False),
    ],
)
def test_the_guard_tells_flow_names_from_the_same_words(
    source: str, expected: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "module.py").write_text(source)
    monkeypatch.setattr(sys.modules[__name__], "REPO_ROOT", tmp_path)
    assert bool(flow_names_outside_the_catalog()) is expected


def test_every_function_folder_is_a_flow_a_saga_step_or_the_ingress() -> None:
    folders = {path.name for path in (REPO_ROOT / "functions").iterdir() if (path / "handler.py").is_file()}
    assert folders == set(catalog.function_folders())


def test_the_docs_flow_table_is_the_catalogs() -> None:
    assert catalog.markdown_table() in (REPO_ROOT / "docs" / "sync-flows.md").read_text()


def test_each_flow_has_one_name_and_physical_names_derive_from_it() -> None:
    names = [flow.name for flow in catalog.FLOWS]
    assert len(names) == len(set(names)) == 12
    assert catalog.BILLING.physical_name("concord-dev") == "concord-dev-billing"
    assert catalog.SAGA.physical_name("concord-dev") == "concord-dev-quote-to-cash"
    assert catalog.SAGA.folder(catalog.SAGA.step("validate_customer")) == "quote_to_cash_validate_customer"
    assert catalog.INGRESS not in names


@pytest.mark.parametrize(
    ("queue", "flow", "severity"),
    [
        ("billing", catalog.BILLING, Severity.HIGH),
        ("billing-dlq", catalog.BILLING, Severity.HIGH),
        ("financial-status-dlq", catalog.FINANCIAL_STATUS, Severity.HIGH),
        ("change-capture-dlq", catalog.CHANGE_CAPTURE, Severity.WARNING),  # a schedule's DLQ
        ("subscription-renewal-dlq", catalog.SUBSCRIPTION_RENEWAL, Severity.WARNING),
        ("audit-trail", catalog.AUDIT_TRAIL, Severity.WARNING),
        ("someone-elses-queue", None, Severity.WARNING),
    ],
)
def test_operators_read_a_queues_flow_and_severity_from_the_catalog(
    queue: str, flow: catalog.Flow | None, severity: Severity
) -> None:
    assert catalog.flow_of_queue(queue) is flow
    assert catalog.severity_of(queue) is severity


def test_the_saga_state_has_a_field_for_each_steps_result() -> None:
    results = {step.result for step in catalog.SAGA.all_steps}
    assert results <= set(SagaState.model_fields)
    assert catalog.SAGA.steps[0].state == "ValidateCustomer"


def test_every_saga_step_handler_runs_its_own_step() -> None:
    for step in catalog.SAGA.all_steps:
        source = (REPO_ROOT / "functions" / catalog.SAGA.folder(step) / "handler.py").read_text()
        assert f'SAGA.step("{step.name}")' in source and "run_saga_step(" in source, step.name
