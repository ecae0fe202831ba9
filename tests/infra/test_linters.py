"""The offline linters AWS users rely on: cfn-lint on the template, asl-validator on the ASL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from concord.local.template import read_topology, synthesize

from ..conftest import REPO_ROOT

# CDK's redundant DependsOn is harmless and cannot be turned off in CDK (docs/infra.md).
CFN_LINT_IGNORED = "W3005"


def test_cfn_lint_is_clean_on_every_stage(synthesized: dict[str, Any]) -> None:
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    templates = [str(Path(outdir) / f"concord-{stage}.template.json") for stage, (_, _, outdir) in synthesized.items()]
    # One run for every stage (cfn-lint loads its rules and specs once); findings name their template.
    result = subprocess.run(
        [str(cfn_lint), "--ignore-checks", CFN_LINT_IGNORED, "--", *templates], capture_output=True, text=True
    )
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"


def _checkov() -> Path:
    """checkov from its own venv (make install builds it; CHECKOV names another)."""
    return Path(os.environ.get("CHECKOV", REPO_ROOT / ".venv-checkov" / "bin" / "checkov"))


def test_checkov_finds_nothing_unexplained_on_every_stage(synthesized: dict[str, Any]) -> None:
    checkov = _checkov()
    assert checkov.exists(), f"{checkov} is missing: run `make install` (or set CHECKOV)"
    templates = [Path(outdir) / f"concord-{stage}.template.json" for stage, (_, _, outdir) in synthesized.items()]
    result = subprocess.run(
        [str(checkov), "--framework", "cloudformation", "--compact", "--output", "json",
         *[arg for template in templates for arg in ("--file", str(template))]],
        capture_output=True, text=True,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [(f["check_id"], f["resource"], Path(f["file_path"]).name)
              for report in reports for f in report["results"]["failed_checks"]]
    assert failed == [], failed
    skipped = [s for report in reports for s in report["results"]["skipped_checks"]]
    assert skipped and all(len(s["check_result"].get("suppress_comment", "")) > 20 for s in skipped)


def test_asl_validator_accepts_the_state_machines(tmp_path: Path, local_synth_cache: Path) -> None:
    # The local stage's definitions, with function ARNs resolved as on AWS.
    topology = read_topology(synthesize(local_synth_cache), "concord-local")
    assert topology.state_machines
    validator = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
    for machine in topology.state_machines:
        definition = tmp_path / f"{machine.name}.json"
        definition.write_text(machine.definition)
        result = subprocess.run([str(validator), "--json-path", str(definition)], capture_output=True, text=True)
        assert result.returncode == 0, f"{machine.name}:\n{result.stdout}{result.stderr}"
