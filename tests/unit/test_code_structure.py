"""Static checks of the code's shape (read with ast, nothing imported): no import cycles among
Concord's and the infrastructure's modules, no module over the size limit, one wall clock."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"concord": REPO_ROOT / "shared", "concord_infra": REPO_ROOT / "infra"}

MAX_MODULE_LINES = 500
# Not the project's Python: tools' environments, build output, vendors' test vectors.
NOT_OURS = {"node_modules", "cdk.out", "build", "dist", "__pycache__"}
NOT_OURS_PATHS = {"tests/fixtures"}

# Reading the wall clock is concord.clock's job (utc_now, injected as `clock: Clock`). Left out:
# the local stack (it plays vendors' servers and operators' scripts) and Concord's Tryton module
# (it runs inside Tryton's server, which cannot import concord).
CLOCK_MODULE = "shared/concord/clock.py"
CLOCK_EXEMPT_DIRS = ("shared/concord/local/", "shared/concord/connectors/tryton/module/")
# Modules that still read the clock themselves, owned by other work in progress (none now).
CLOCK_READERS_ALLOWED: set[str] = set()
WALL_CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"), ("date", "today"),
                    ("time", "time")}


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path, root): path
        for package, root in PACKAGES.items()
        for path in (root / package).rglob("*.py")
    }


def _imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports anywhere in it: at the top, in functions, under
    TYPE_CHECKING (a cycle only for the type checker is still two modules that need each other)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            submodules = {f"{module}.{alias.name}" for alias in node.names} & known
            found |= submodules
            if module in known and len(submodules) < len(node.names):  # names from the module itself
                found.add(module)
    found.discard(name)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


def test_the_cycle_finder_finds_a_cycle_and_only_the_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_are_resolved_relative_to_the_module(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "sub" / "mod.py").write_text(
        "from typing import TYPE_CHECKING\nfrom .. import other\nfrom ..base import thing\n"
        "if TYPE_CHECKING:\n    from .sibling import Type\n"
    )
    known = {"pkg", "pkg.other", "pkg.base", "pkg.sub", "pkg.sub.mod", "pkg.sub.sibling"}
    assert _imported("pkg.sub.mod", package / "sub" / "mod.py", known) == {"pkg.other", "pkg.base", "pkg.sub.sibling"}


def test_no_import_cycles_among_concord_and_infra_modules() -> None:
    modules = _modules()
    graph = {name: _imported(name, path, set(modules)) for name, path in modules.items()}
    assert _cycles(graph) == []


def _our_python_files() -> Iterator[tuple[str, Path]]:
    for path in REPO_ROOT.rglob("*.py"):
        relative = path.relative_to(REPO_ROOT)
        if any(part.startswith(".") or part in NOT_OURS for part in relative.parts[:-1]):
            continue
        if any(relative.as_posix().startswith(f"{prefix}/") for prefix in NOT_OURS_PATHS):
            continue
        head = path.read_text(errors="replace")[:300]
        if "@generated" in head or "DO NOT EDIT" in head:
            continue
        yield relative.as_posix(), path


def test_no_module_is_over_the_size_limit() -> None:
    sizes = {name: len(path.read_text().splitlines()) for name, path in _our_python_files()}
    assert "shared/concord/clock.py" in sizes  # the walk sees the project
    oversized = {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES}
    assert oversized == {}, f"modules over {MAX_MODULE_LINES} lines"


def _wall_clock_reads(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (owner_name, node.func.attr) in WALL_CLOCK_CALLS:
                lines.append(node.lineno)
    return lines


def test_the_clock_reader_recognises_the_ways_of_reading_the_time(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "import datetime as dt, time\nfrom datetime import datetime\n"
        "a = dt.datetime.now(dt.UTC)\nb = datetime.now()\nc = time.time()\nd = dt.date.today()\n"
        "e = time.monotonic()\nf = dt.datetime.fromisoformat('2026-01-01')\n"
    )
    assert _wall_clock_reads(source) == [3, 4, 5, 6]


def test_only_concord_clock_reads_the_wall_clock() -> None:
    readers = {
        name: reads
        for name, path in _our_python_files()
        if name.startswith("shared/concord/") and name != CLOCK_MODULE and not name.startswith(CLOCK_EXEMPT_DIRS)
        and (reads := _wall_clock_reads(path))
    }
    assert set(readers) <= CLOCK_READERS_ALLOWED, f"read the time through concord.clock instead: {readers}"
