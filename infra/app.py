"""CDK entry point: `npx cdk synth -c concord:stage=dev` (see docs/infra.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# jsii runs on this machine's Node 20 and would print its end-of-life banner on every synth,
# however the app is started (make synth, npx cdk synth, tests).
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import aws_cdk as cdk  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

from concord_infra.config import load_config  # noqa: E402
from concord_infra.nag import add_nag_checks  # noqa: E402
from concord_infra.stack import ConcordStack  # noqa: E402


def build_app(context: dict | None = None, outdir: str | None = None) -> tuple[cdk.App, ConcordStack]:
    app = cdk.App(context=context, outdir=outdir)
    config = load_config({key: app.node.try_get_context(key) for key in _CONTEXT_KEYS if app.node.try_get_context(key) is not None})
    stack = ConcordStack(
        app,
        config.names.prefix,
        config=config,
        env=cdk.Environment(account=config.stage.account, region=config.stage.region),
        description=f"Concord integration layer ({config.name})",
    )
    add_nag_checks(app)
    return app, stack


_CONTEXT_KEYS = ("concord:stage", "concord:stages", "concord:bundle")

if __name__ == "__main__":
    build_app()[0].synth()
