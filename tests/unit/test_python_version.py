"""The tests run on the Python the functions deploy on, and every tool is told that version.

pyproject.toml's tool.concord.python is the one place it is written; the CDK app derives the
Lambda runtime from it (tests/infra/test_runtime.py checks the synthesized functions).
"""

from __future__ import annotations

import sys
import tomllib
from typing import Any

import pytest

from ..conftest import REPO_ROOT


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


@pytest.fixture(scope="module")
def version(pyproject: dict[str, Any]) -> str:
    return str(pyproject["tool"]["concord"]["python"])


def test_the_tests_run_on_the_deploy_python(version: str) -> None:
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert running == version, f"tests run on Python {running}, the functions deploy on {version}: run `make install`"


def test_the_package_and_the_gates_target_that_python(pyproject: dict[str, Any], version: str) -> None:
    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == version
