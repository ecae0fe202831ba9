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
from rich.table import Table

from ..ingress.schemes import scheme_for
from ..ingress.sources import WebhookSecret, secret_name
from ..ingress.standard_webhooks import is_valid_secret
from ..local.roles import SystemsChoiceError, parse_systems, saas_roles
from ..local.stack import LocalStack, LocalStackError, aws_client
from ..local.state import DEFAULT_PORTS, StackState, state_dir_from_env
from ..local.template import REPO_ROOT

STANDARD_WEBHOOKS = "standard-webhooks"
from .ops import register as register_operator_commands

app = typer.Typer(help="Concord: keep CRM, PSA and ERP consistent.", no_args_is_help=True)
local_app = typer.Typer(help="The local stack: emulated AWS running Concord's own handlers.", no_args_is_help=True)
secrets_app = typer.Typer(help="Webhook signing secrets in Secrets Manager.", no_args_is_help=True)
app.add_typer(local_app, name="local")
app.add_typer(secrets_app, name="secrets")
register_operator_commands(app)  # exceptions, dlq, trace, status, replay, saga (cli/ops)

console = Console()
errors = Console(stderr=True)

SystemsOption = Annotated[Optional[str], typer.Option(
    "--systems", help="Which vendor plays each role, e.g. crm=salesforce,psa=certinia[,erp=tryton]; "
                      "a role not named is Tryton (default: Tryton for all three).")]
StateDir = Annotated[Optional[Path], typer.Option(help="Where the local stack keeps its state [env CONCORD_LOCAL_DIR].")]


def _stack(state_dir: Path | None, systems: str | None = None, **ports: int | bool | None) -> LocalStack:
    chosen = {k: v for k, v in ports.items() if v is not None}
    try:
        choice = parse_systems(systems) if systems is not None else None
    except SystemsChoiceError as error:
        errors.print(f"[red]--systems {systems}:[/] {error}")
        raise typer.Exit(2) from None
    return LocalStack(state_dir=state_dir or state_dir_from_env(), systems_choice=choice, **chosen)


def _print_status(status: dict) -> None:
    table = Table(title="Concord local stack", show_header=False)
    table.add_row("state", "[green]running[/]" if status["running"] else "[red]not running[/]")
    for name, url in status.get("endpoints", {}).items():
        table.add_row(f"{name} endpoint", url)
    if "runtime" in status:
        for name, fn in status["runtime"].get("functions", {}).items():
            table.add_row(f"λ {name}", f"{fn['invocations']} invocations, {fn['cold_starts']} cold starts")
        for name, poller in status["runtime"].get("pollers", {}).items():
            table.add_row(f"poller {name}", f"{poller['batches']} batches, {'alive' if poller['alive'] else 'DEAD'}")
    roles = status.get("roles")
    if roles:
        table.add_row("roles", ", ".join(f"{role.upper()} = {kind}" for role, kind in roles.items()))
    systems = status.get("systems")
    if systems:
        tryton = systems["tryton"]
        table.add_row("Tryton", f"{tryton['url']}/{{{','.join(tryton['databases'])}}}/rpc/ "
                      f"({'alive' if tryton['alive'] else 'DOWN'})")
        table.add_row("fault proxy", f"{systems['fault_proxy']['url']}/_faults "
                      f"({'alive' if systems['fault_proxy']['alive'] else 'DOWN'})")
    vendors = status.get("vendors")
    if vendors:
        sandbox, proxy = vendors["sandbox"], vendors["fault_proxy"]
        table.add_row(f"{sandbox['vendor']} sandbox", f"{sandbox['url']}/{{{','.join(sandbox['tenants'])}}} "
                      f"(users; control API /_sandbox; {'alive' if sandbox['alive'] else 'DOWN'})")
        table.add_row("vendor fault proxy", f"{proxy['url']}/{{{','.join(sandbox['tenants'])}}} (Concord), "
                      f"/_faults/<role> ({'alive' if proxy['alive'] else 'DOWN'})")
    table.add_row("logs", status.get("logs", status["state_dir"]))
    console.print(table)


@local_app.command("up")
def local_up(
    state_dir: StateDir = None,
    aws_port: Annotated[int, typer.Option(help="Emulated AWS endpoint port.")] = DEFAULT_PORTS["aws_port"],
    webhook_port: Annotated[int, typer.Option(help="Webhook (API Gateway) port.")] = DEFAULT_PORTS["webhook_port"],
    lambda_port: Annotated[int, typer.Option(help="Local Lambda Invoke API port.")] = DEFAULT_PORTS["lambda_port"],
    tryton_port: Annotated[int, typer.Option(help="Tryton (CRM, PSA, ERP) port.")] = DEFAULT_PORTS["tryton_port"],
    faults_port: Annotated[int, typer.Option(help="Fault proxy port (in front of Tryton).")] = DEFAULT_PORTS["faults_port"],
    sandbox_port: Annotated[int, typer.Option(help="SaaS vendor sandbox port (--systems with a SaaS role).")] = DEFAULT_PORTS["sandbox_port"],
    vendor_faults_port: Annotated[int, typer.Option(help="Fault proxy port (in front of the vendor sandbox).")] = DEFAULT_PORTS["vendor_faults_port"],
    systems: Annotated[bool, typer.Option(help="Start the business systems (first run ~2 min).")] = True,
    roles: SystemsOption = None,
    visibility_timeout_cap: Annotated[int, typer.Option(help="Cap on queue visibility timeouts (s).")] = 20,
) -> None:
    """Start the local stack in the background (or whichever part is not running)."""
    stack = _stack(state_dir, roles, aws_port=aws_port, webhook_port=webhook_port, lambda_port=lambda_port,
                   tryton_port=tryton_port, faults_port=faults_port, sandbox_port=sandbox_port,
                   vendor_faults_port=vendor_faults_port, with_systems=systems,
                   visibility_timeout_cap=visibility_timeout_cap)
    try:
        with console.status("starting the local stack (synthesizing the CDK app, provisioning; "
                            "the first start also installs and seeds Tryton)..."):
            stack.up()
    except LocalStackError as error:
        errors.print(f"[red]concord local up failed:[/] {error}")
        raise typer.Exit(1) from None
    _print_status(stack.status())


@local_app.command("status")
def local_status(state_dir: StateDir = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Endpoints and health of the local stack; exit code 1 when it is not running."""
    status = _stack(state_dir).status()
    if as_json:
        print(json.dumps(status, indent=2))
    else:
        _print_status(status)
    raise typer.Exit(0 if status["running"] else 1)


@local_app.command("down")
def local_down(state_dir: StateDir = None) -> None:
    """Stop the local stack (its AWS state is in memory and goes with it)."""
    stopped = _stack(state_dir).down()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


def _source_scheme(stage: str, source: str) -> str:
    """The signature scheme cdk.json configures for `source` in `stage`."""
    stages = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]["concord:stages"]
    sources = stages.get(stage, {}).get("webhook_sources", {})
    if source not in sources:
        errors.print(f"[red]no webhook source {source!r} in stage {stage!r}[/] (cdk.json: {', '.join(sorted(sources))})")
        raise typer.Exit(2)
    return sources[source].get("scheme", STANDARD_WEBHOOKS)


@secrets_app.command("set")
def secrets_set(
    source: Annotated[str, typer.Argument(help="Webhook source, e.g. crm or xero.")],
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
        stack = _stack(state_dir)
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


@app.command("demo")
def demo(state_dir: StateDir = None, roles: SystemsOption = None) -> None:
    """Run Concord's main job on the local stack and show what happened."""
    stack = _stack(state_dir, roles)
    if saas_roles(stack.systems_choice or stack.current_state().systems or {}):
        from .demo_saas import run_saas_demo

        raise typer.Exit(run_saas_demo(stack, console))
    from .demo import run_demo

    raise typer.Exit(run_demo(stack, console))


def main() -> None:
    app()
