"""`concord` — the operator CLI (typer + rich)."""

from __future__ import annotations

import json
import secrets as random_secrets
import sys
from base64 import b64encode
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.console import Console

from ..ingress.schemes import scheme_for
from ..ingress.sources import WebhookSecret, secret_name
from ..ingress.standard_webhooks import is_valid_secret
from ..local.cli import demo, local_app, stack_for
from ..local.stack import aws_client
from ..local.state import StackState
from ..local.template import REPO_ROOT

STANDARD_WEBHOOKS = "standard-webhooks"
from .ops import register as register_operator_commands

app = typer.Typer(help="Concord: keep CRM, PSA and ERP consistent.", no_args_is_help=True)
secrets_app = typer.Typer(help="Webhook signing secrets in Secrets Manager.", no_args_is_help=True)
app.add_typer(local_app, name="local")
app.command("demo")(demo)
app.add_typer(secrets_app, name="secrets")
register_operator_commands(app)  # exceptions, dlq, trace, status, replay, saga (cli/ops)

console = Console()
errors = Console(stderr=True)

StateDir = Annotated[Optional[Path], typer.Option(help="Where the local stack keeps its state [env CONCORD_LOCAL_DIR].")]


def _source_scheme(stage: str, source: str) -> str:
    """The signature scheme cdk.json configures for `source` in `stage`."""
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]
    sources = stages.get(stage, {}).get("webhook_sources", {})
    if source not in sources:
        errors.print(f"[red]no webhook source {source!r} in stage {stage!r}[/] (cdk.json: {', '.join(sorted(sources))})")
        raise typer.Exit(2)
    return str(sources[source].get("scheme", STANDARD_WEBHOOKS))


@secrets_app.command("set")
def secrets_set(
    source: Annotated[str, typer.Argument(help="Webhook source as cdk.json names it, e.g. crm.")],
    generate: Annotated[bool, typer.Option(help="Generate a new secret and print it once (give it to the sender).")] = False,
    rotate: Annotated[bool, typer.Option(help="Keep the current secret active beside the new one.")] = False,
    local: Annotated[bool, typer.Option("--local", help="Write to the local stack instead of AWS.")] = False,
    stage: Annotated[str, typer.Option(help="Deployed stage (names concord/<stage>/webhooks/<source>).")] = "dev",
    state_dir: StateDir = None,
) -> None:
    """Set a source's secret. Standard Webhooks sources: the whsec_ secret from standard input
    (or --generate). Vendor sources: the secret's whole JSON from standard input, in the
    shape docs/ingress.md gives for the vendor (rotate by listing the old and new values)."""
    scheme = _source_scheme("local" if local else stage, source)
    if scheme != STANDARD_WEBHOOKS and (generate or rotate):
        errors.print(f"[red]--generate and --rotate are for Standard Webhooks sources;[/] {source} uses {scheme}: "
                     "its vendor issues the secret, and a rotation lists both values in the JSON")
        raise typer.Exit(2)

    if local:
        stack = stack_for(state_dir)
        if not StackState.exists(stack.state_dir):
            errors.print("[red]the local stack is not running:[/] start it with `concord local up`")
            raise typer.Exit(1)
        client = aws_client(StackState.load(stack.state_dir), "secretsmanager")
        name = secret_name("concord/local/webhooks", source)
    else:
        import boto3

        client = boto3.client("secretsmanager")
        name = secret_name(f"concord/{stage}/webhooks", source)

    from ..aws.secrets import put_secret

    if scheme != STANDARD_WEBHOOKS:
        try:
            value = scheme_for(scheme).secret_model.model_validate_json(sys.stdin.read())
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}"
                                 for e in error.errors(include_input=False))
            errors.print(f"[red]not a valid {scheme} secret:[/] {problems}")
            raise typer.Exit(2) from None
        arn = put_secret(client, name, value.model_dump_json())
        console.print(f"set {name} ({scheme}): {arn}")
        return

    if generate:
        new_secret = "whsec_" + b64encode(random_secrets.token_bytes(32)).decode()
    else:
        new_secret = sys.stdin.readline().strip()
    if not is_valid_secret(new_secret):
        errors.print("[red]not a valid signing secret:[/] expected whsec_ followed by base64 of at least 16 bytes")
        raise typer.Exit(2)
    active = [new_secret]
    if rotate:
        current = json.loads(client.get_secret_value(SecretId=name)["SecretString"])
        active.append(WebhookSecret.model_validate(current).signing_secrets[0])
    arn = put_secret(client, name, WebhookSecret(signing_secrets=active).model_dump_json())
    console.print(f"set {name} ({len(active)} active secret{'s' if len(active) > 1 else ''}): {arn}")
    if generate:
        console.print(f"new signing secret (shown once): {new_secret}")


def main() -> None:
    app()
