"""The repository stands alone: every markdown document a file names is in the repository, and
no file names a path outside it (a sibling checkout, the machine it was written on).

A pure scan of the working tree's text files; URLs are left out (a vendor's page may well end
in `.md`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

from .conftest import REPO_ROOT

# What the tree holds but the repository does not (.gitignore), and version control itself
# (`.git` is a file in a git worktree).
IGNORED_DIRS = {".git", "node_modules", "cdk.out", "__pycache__", "build", ".local-stack", ".hypothesis"}
IGNORED_PATHS = {Path("benchmarks", "results")}
MAX_BYTES = 2_000_000

URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")
# A markdown link's target: [text](target), the target up to a `#fragment` or a title.
MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s#>]+\.md)(?:#[^)\s]*)?>?(?:\s+\"[^\"]*\")?\s*\)")
# A document named in prose or code: `docs/tryton.md`, `README.md`, a relative `../` path.
DOCUMENT_NAME = re.compile(r"(?<![\w./-])((?:\.{1,2}/)?(?:[\w.-]+/)*[\w-][\w.-]*\.md)(?![\w-])")
# Spelled in pieces so that this file does not name what it forbids.
OUTSIDE_PATHS = (
    re.compile(re.escape("..") + "/" + "shared" + r"\b"),
    re.compile(r"(?<![\w.~-])/" + "work" + r"(?![\w-])"),
)


def _ignored(relative: Path) -> bool:
    return any(
        part in IGNORED_DIRS or part.startswith(".venv") or part.endswith((".egg-info", "_cache"))
        for part in relative.parts
    ) or any(relative.is_relative_to(ignored) for ignored in IGNORED_PATHS)


def text_files(root: Path) -> Iterator[tuple[Path, str]]:
    """(path relative to root, text) of every text file the repository holds."""
    for directory, subdirectories, files in os.walk(root):
        here = Path(directory).relative_to(root)
        # Pruned, not just skipped: the venvs and node_modules hold most of the tree's files.
        subdirectories[:] = sorted(name for name in subdirectories if not _ignored(here / name))
        for name in sorted(files):
            relative = here / name
            path = root / relative
            if _ignored(relative) or not path.is_file() or path.stat().st_size > MAX_BYTES:
                continue
            content = path.read_bytes()
            if b"\0" in content:
                continue
            yield relative, content.decode("utf-8", errors="replace")


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _document_exists(root: Path, source: Path, name: str, basenames: set[str], *, link: bool) -> bool:
    """A markdown link resolves from its own file, as GitHub renders it. A name in prose may also
    be given from the repository root, and a bare file name may name a file anywhere in it."""
    candidates = [root / source.parent / name]
    if not link:
        candidates.append(root / name)
    if any(
        candidate.resolve().is_file() and candidate.resolve().is_relative_to(root.resolve()) for candidate in candidates
    ):
        return True
    return not link and "/" not in name and name in basenames


def missing_documents(root: Path) -> list[str]:
    """`file:line: name` for each markdown document named but not in the repository."""
    files = list(text_files(root))
    basenames = {path.name for path, _ in files}
    problems = []
    for path, text in files:
        without_urls = URL.sub(lambda match: " " * len(match.group()), text)
        links = {match.start(1) for match in MARKDOWN_LINK.finditer(without_urls)} if path.suffix == ".md" else set()
        for match in DOCUMENT_NAME.finditer(without_urls):
            name, is_link = match.group(1), match.start(1) in links
            if not _document_exists(root, path, name, basenames, link=is_link):
                problems.append(f"{path}:{_line_of(text, match.start(1))}: {name}")
    return problems


def outside_paths(root: Path) -> list[str]:
    """`file:line: path` for each path that points outside the repository."""
    problems = []
    for path, text in text_files(root):
        without_urls = URL.sub(lambda match: " " * len(match.group()), text)
        for pattern in OUTSIDE_PATHS:
            problems.extend(
                f"{path}:{_line_of(text, match.start())}: {match.group()}" for match in pattern.finditer(without_urls)
            )
    return problems


def test_every_document_a_file_names_is_in_the_repository() -> None:
    assert missing_documents(REPO_ROOT) == []


def test_no_file_names_a_path_outside_the_repository() -> None:
    assert outside_paths(REPO_ROOT) == []


# The checks themselves, on small trees.


def _md(text: str) -> str:
    """The examples write `{MD}` for the suffix, so that this file names no document itself."""
    return text.replace("{MD}", "." + "md")


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / _md(name)).parent.mkdir(parents=True, exist_ok=True)
        (root / _md(name)).write_text(_md(text))
    return root


def test_a_named_document_that_is_absent_is_reported_with_its_line(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "docs/present{MD}": "# here\n",
            "pkg/module.py": '"""Doc.\n\nSee docs/present{MD} and DESIGN{MD}.\n"""\n',
        },
    )
    assert missing_documents(root) == [_md("pkg/module.py:3: DESIGN{MD}")]


def test_markdown_links_resolve_from_their_own_file(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "README{MD}": "[flows](docs/flows{MD}) and [gone](docs/gone{MD}#top)\n",
            "docs/flows{MD}": '[back](../README{MD}), [wrong](docs/flows{MD}), [ops](ops{MD} "Ops")\n',
            "docs/ops{MD}": "docs/flows{MD} in prose is named from the root\n",
        },
    )
    assert missing_documents(root) == [_md("README{MD}:1: docs/gone{MD}"), _md("docs/flows{MD}:1: docs/flows{MD}")]


def test_a_bare_name_may_be_any_file_of_the_repository_and_urls_are_not_names(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "tests/fixtures/vendor/NOTICE{MD}": "licence\n",
            "tests/conftest.py": "# copied with their licence (NOTICE{MD} beside each)\n"
            "# https://github.com/owner/repo/blob/main/SPEC{MD}\n",
        },
    )
    assert missing_documents(root) == []


def test_paths_outside_the_repository_are_reported(tmp_path: Path) -> None:
    machine, sibling = "/" + "work", ".." + "/shared"
    root = _tree(
        tmp_path,
        {
            "a.py": f"# see {machine}/shared/design\n",
            "b.txt": f"read {sibling}/notes.txt\n",
            "c.txt": f"a network, {machine}space and https://example.com{machine}/x are fine\n",
        },
    )
    assert outside_paths(root) == [f"a.py:1: {machine}", f"b.txt:1: {sibling}"]


def test_what_the_repository_ignores_is_not_scanned(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            ".venv/lib/site.py": "# GONE{MD}\n",
            "node_modules/pkg/index.js": "// GONE{MD}\n",
            "benchmarks/results/run.json": '{"doc": "GONE{MD}"}\n',
            "kept.py": "# GONE{MD}\n",
        },
    )
    assert missing_documents(root) == [_md("kept.py:1: GONE{MD}")]
