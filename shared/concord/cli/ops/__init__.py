"""Operator commands: `concord exceptions | dlq show | dlq redrive | trace | status | replay | saga |
reconcile | mappings diff`.

They act on a deployed stage (--stage, --profile, --region) or on the local stack (--local);
the AWS-side logic is concord.operator, one module per command. See docs/operations.md.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from .dlq import dlq_app
    from .exceptions import exceptions
    from .mappings import mappings_app
    from .reconcile import reconcile
    from .replay import replay
    from .saga import saga_app
    from .status import status
    from .trace import trace

    app.command("exceptions")(exceptions)
    app.add_typer(dlq_app, name="dlq")
    app.command("trace")(trace)
    app.command("status")(status)
    app.command("replay")(replay)
    app.command("reconcile")(reconcile)
    app.add_typer(saga_app, name="saga")
    app.add_typer(mappings_app, name="mappings")
