"""Every function and the shared layer run on the Python the tests run on."""

from __future__ import annotations

import sys
from typing import Any

from .conftest import of_type


def test_functions_and_layer_use_the_python_of_the_tests(synthesized: dict[str, Any]) -> None:
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for stage, (template, _, _) in synthesized.items():
        functions = of_type(template, "AWS::Lambda::Function")
        layers = of_type(template, "AWS::Lambda::LayerVersion")
        assert functions and layers, stage
        assert {f["Properties"].get("Runtime") for f in functions.values()} == {runtime}, stage
        assert all(layer["Properties"]["CompatibleRuntimes"] == [runtime] for layer in layers.values()), stage
