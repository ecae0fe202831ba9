"""`erp_token_write_back` (an ERP whose OAuth refresh tokens rotate: QuickBooks Online, Xero): the
functions that connect to the ERP, and only they, may put a new version of the ERP connection secret
and take or release the refresh lock items of the rate-budget table; off, nobody may."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from app import build_app

from .conftest import _context, of_type
from .test_hardening import EXPECTED_ACCESS, _actions, _functions, _statements

LOCK_CONDITION = {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["lock#*"]}}


@pytest.fixture(scope="module")
def writing_back(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    context = _context("dev")
    dev = context["concord:stages"]["dev"]
    context["concord:stages"] = {**context["concord:stages"], "dev": {**dev, "erp_token_write_back": True}}
    app, stack = build_app(context, outdir=str(tmp_path_factory.mktemp("cdk-token-write-back")))
    assembly = app.synth()
    return assembly.get_stack_by_name(stack.stack_name).template, Path(assembly.directory)


def _resources(statement: dict[str, Any]) -> list[Any]:
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


def _secrets_written(template: dict[str, Any], function: dict[str, Any]) -> set[str]:
    names = {lid: s["Properties"]["Name"] for lid, s in of_type(template, "AWS::SecretsManager::Secret").items()}
    return {
        names[resource["Ref"]]
        for statement in _statements(template, function)
        if "secretsmanager:PutSecretValue" in _actions(statement)
        for resource in _resources(statement)
    }


def _rate_budget_writes(template: dict[str, Any], function: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements letting the function put or delete items of the rate-budget table."""
    tables = {lid: t["Properties"]["TableName"] for lid, t in of_type(template, "AWS::DynamoDB::Table").items()}
    return [
        statement
        for statement in _statements(template, function)
        if {"dynamodb:PutItem", "dynamodb:DeleteItem"} & set(_actions(statement))
        and any(tables.get(r.get("Fn::GetAtt", [""])[0]) == "concord-dev-rate-budget" for r in _resources(statement))
    ]


def _calls_erp(folder: str) -> bool:
    return "erp" in EXPECTED_ACCESS.get(folder, (set(), set()))[0]


def test_off_no_function_writes_a_secret_or_a_lock(dev: dict[str, Any]) -> None:
    for folder, (_, function) in _functions(dev).items():
        assert _secrets_written(dev, function) == set(), folder
        assert _rate_budget_writes(dev, function) == [], folder


def test_on_the_functions_calling_the_erp_write_its_secret_and_nothing_else(
    writing_back: tuple[dict[str, Any], Path],
) -> None:
    template, _ = writing_back
    functions = _functions(template)
    writers = {folder for folder, (_, function) in functions.items() if _secrets_written(template, function)}

    assert writers == {folder for folder in functions if _calls_erp(folder)}
    assert {"billing", "change_capture", "reconciliation", "quote_to_cash_upsert_erp_customer"} <= writers
    assert "financial_status" not in writers  # it calls CRM and PSA only
    for folder in writers:
        assert _secrets_written(template, functions[folder][1]) == {"concord/dev/systems/erp"}, folder


def test_on_the_erp_callers_may_take_and_release_only_lock_items(writing_back: tuple[dict[str, Any], Path]) -> None:
    template, _ = writing_back
    for folder, (_, function) in _functions(template).items():
        writes = _rate_budget_writes(template, function)
        if not _calls_erp(folder):
            assert writes == [], folder
            continue
        (statement,) = writes
        assert sorted(_actions(statement)) == ["dynamodb:DeleteItem", "dynamodb:PutItem"], folder
        assert statement["Condition"] == LOCK_CONDITION, folder


def test_on_the_stack_stays_cdk_nag_clean(writing_back: tuple[dict[str, Any], Path]) -> None:
    _, outdir = writing_back
    report = json.loads((outdir / "validation-report.json").read_text())
    assert [v["ruleName"] for p in report["pluginReports"] for v in p["violations"]] == []
