"""Architecture boundaries: sync logic and the canonical model never import a vendor module."""

from __future__ import annotations

import ast
from pathlib import Path

from ..conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "shared" / "concord"
# concord.connectors.registry is the composition root that picks a connector by configuration.
VENDOR_PACKAGES = ("concord.connectors.tryton", "concord.local")
# Modules allowed to know vendors: the connectors themselves and the local wiring.
MAY_IMPORT_VENDORS = ("connectors", "local", "cli")


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


def test_handlers_import_no_vendor_code_and_no_boto3_directly() -> None:
    for handler in (REPO_ROOT / "functions").glob("*/handler.py"):
        modules = imported_modules(handler)
        assert not {m for m in modules if m.startswith(VENDOR_PACKAGES)}, handler
        assert "boto3" not in modules, f"{handler}: AWS access belongs in concord.aws"
