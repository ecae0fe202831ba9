"""Architecture boundaries: sync logic and the canonical model never import a vendor module; the
Lambda layer and the functions never import the operator package."""

from __future__ import annotations

import ast
from pathlib import Path

from ..conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "shared" / "concord"
# concord.connectors.registry is the composition root that picks a connector by configuration.
VENDORS = (
    "tryton",
    "salesforce",
    "certinia",
    "hubspot",
    "kantata",
    "netsuite",
    "business_central",
    "xero",
    "quickbooks",
    "workday",
)
VENDOR_PACKAGES = (*(f"concord.connectors.{vendor}" for vendor in VENDORS), "concord.local.sandboxes")
# Modules allowed to know vendors: the connectors themselves, the webhook ingress's vendor
# schemes, the local stack (which plays the vendors; the CLI reaches them only through it), and
# the mapping renderers (each renders what its connector's own mappers build).
MAY_IMPORT_VENDORS = ("connectors", "local", "ingress", "mappings")
# Sync logic, the AWS adapters and the operator CLI work the same whatever the vendors.
VENDOR_NEUTRAL = ("sync", "aws", "cli", "operator")
# Packages the layer bundler leaves out (infra/concord_infra/constructs/functions.py): they run
# on an operator's machine, not in Lambda.
NOT_IN_LAYER = ("local", "cli", "operator")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    inside = path.is_relative_to(PACKAGE.parent)
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]) if inside else ""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.add(node.module)
    return found


def test_only_connectors_and_local_wiring_import_vendor_code() -> None:
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        top = path.relative_to(PACKAGE).parts[0]
        if top in MAY_IMPORT_VENDORS:
            continue
        bad = {m for m in imported_modules(path) if m.startswith(VENDOR_PACKAGES)}
        if bad:
            offenders[str(path.relative_to(REPO_ROOT))] = sorted(bad)
    assert offenders == {}


def _code_words(path: Path) -> list[str]:
    """Identifiers, imported names and string constants of a module, docstrings and comments left out."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    words: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            words.append(node.value)
        elif isinstance(node, ast.Name):
            words.append(node.id)
        elif isinstance(node, ast.Attribute):
            words.append(node.attr)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            words += [alias.name for alias in node.names] + [getattr(node, "module", None) or ""]
    return words


def test_sync_logic_aws_adapters_and_the_operator_cli_name_no_vendor() -> None:
    found = {}
    for top in VENDOR_NEUTRAL:
        for path in (PACKAGE / top).rglob("*.py"):
            named = sorted({vendor for word in _code_words(path) for vendor in VENDORS if vendor in word.lower()})
            if named:
                found[str(path.relative_to(REPO_ROOT))] = named
    assert found == {}


def test_handlers_import_no_vendor_code_and_no_boto3_directly() -> None:
    for handler in (REPO_ROOT / "functions").glob("*/handler.py"):
        modules = imported_modules(handler)
        assert not {m for m in modules if m.startswith(VENDOR_PACKAGES)}, handler
        assert "boto3" not in modules, f"{handler}: AWS access belongs in concord.aws"


def test_neither_the_layer_nor_a_function_imports_the_operator_package() -> None:
    in_layer = [path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] not in NOT_IN_LAYER]
    handlers = list((REPO_ROOT / "functions").rglob("*.py"))
    assert in_layer and handlers
    offenders = {
        str(path.relative_to(REPO_ROOT)): sorted(m for m in imported_modules(path) if m.startswith("concord.operator"))
        for path in [*in_layer, *handlers]
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_layer_bundler_leaves_out_what_is_not_in_the_layer() -> None:
    bundler = (REPO_ROOT / "infra" / "concord_infra" / "constructs" / "functions.py").read_text()
    assert all(f'"{package}"' in bundler.split("ignore_patterns(", 1)[1].split(")", 1)[0] for package in NOT_IN_LAYER)
