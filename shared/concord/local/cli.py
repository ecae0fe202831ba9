"""`concord local up | status | down` and `concord demo`: the local embedded default.

The local stack plays the business systems with real software (Tryton) or with vendor
sandboxes (`--systems`), so what these commands print names them; the operator commands in
concord.cli work the same against any vendor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from .roles import SystemsChoiceError, parse_systems, saas_roles
from .stack import LocalStack, LocalStackError
from .state import DEFAULT_PORTS, state_dir_from_env

local_app = typer.Typer(help="The local stack: emulated AWS running Concord's own handlers.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)

StateDir = Annotated[Optional[Path], typer.Option(help="Where the local stack keeps its state [env CONCORD_LOCAL_DIR].")]
SystemsOption = Annotated[Optional[str], typer.Option(
    "--systems", help="Which vendor plays each role, e.g. crm=salesforce,psa=certinia[,erp=tryton]; "
                      "a role not named is Tryton (default: Tryton for all three).")]


def stack_for(state_dir: Path | None, systems: str | None = None) -> LocalStack:
    """The stack in `state_dir` (or the environment's), with its default ports."""
    return LocalStack(state_dir=state_dir or state_dir_from_env(), systems_choice=_systems_choice(systems))


def _systems_choice(systems: str | None) -> dict[str, str] | None:
    try:
        return parse_systems(systems) if systems is not None else None
    except SystemsChoiceError as error:
        errors.print(f"[red]--systems {systems}:[/] {error}")
        raise typer.Exit(2) from None


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
        plays = ", ".join(f"/{tenant}: {vendor}" for tenant, vendor in sandbox["tenants"].items())
        table.add_row(f"{sandbox['vendor']} sandbox", f"{sandbox['url']}/{{{','.join(sandbox['tenants'])}}} "
                      f"({plays}; users; control API /_sandbox; {'alive' if sandbox['alive'] else 'DOWN'})")
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
    stack = LocalStack(
        state_dir=state_dir or state_dir_from_env(),
        systems_choice=_systems_choice(roles),
        aws_port=aws_port,
        webhook_port=webhook_port,
        lambda_port=lambda_port,
        tryton_port=tryton_port,
        faults_port=faults_port,
        sandbox_port=sandbox_port,
        vendor_faults_port=vendor_faults_port,
        with_systems=systems,
        visibility_timeout_cap=visibility_timeout_cap,
    )
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
    status = stack_for(state_dir).status()
    if as_json:
        print(json.dumps(status, indent=2))
    else:
        _print_status(status)
    raise typer.Exit(0 if status["running"] else 1)


@local_app.command("down")
def local_down(state_dir: StateDir = None) -> None:
    """Stop the local stack (its AWS state is in memory and goes with it)."""
    stopped = stack_for(state_dir).down()
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")



def demo(state_dir: StateDir = None, roles: SystemsOption = None) -> None:
    """Run Concord's main job on the local stack and show what happened."""
    stack = stack_for(state_dir, roles)
    if saas_roles(stack.systems_choice or stack.current_state().systems or {}):
        from .demo.saas import run_saas_demo

        raise typer.Exit(run_saas_demo(stack, console))
    from .demo.tryton import run_demo

    raise typer.Exit(run_demo(stack, console))
