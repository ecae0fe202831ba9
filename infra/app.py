"""CDK entry point: `npx cdk synth -c concord:stage=dev` (see README)."""

from __future__ import annotations

import sys
from pathlib import Path

import aws_cdk as cdk

sys.path.insert(0, str(Path(__file__).resolve().parent))

from concord_infra.config import load_config  # noqa: E402
from concord_infra.nag import add_nag_checks  # noqa: E402
from concord_infra.stack import ConcordStack  # noqa: E402


def build_app(context: dict | None = None, outdir: str | None = None) -> tuple[cdk.App, ConcordStack]:
    app = cdk.App(context=context, outdir=outdir)
    config = load_config({key: app.node.try_get_context(key) for key in _CONTEXT_KEYS if app.node.try_get_context(key) is not None})
    stack = ConcordStack(
        app,
        config.prefix,
        config=config,
        env=cdk.Environment(account=config.stage.account, region=config.stage.region),
        description=f"Concord integration layer ({config.name})",
    )
    add_nag_checks(app)
    return app, stack


_CONTEXT_KEYS = ("concord:stage", "concord:stages", "concord:bundle")

if __name__ == "__main__":
    build_app()[0].synth()
