"""Where an operator command acts (a deployed stage or the local stack), and how it fails.

Every operator command takes the same target options; `Target` hands out boto3 clients for
it. Exit codes: 0 all well, 1 an operational problem was found or an AWS call failed,
2 a usage error (bad option, bad filter, unknown record form).
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ...naming import Names
from ...operator.actor import Actor, caller_identity
from ...operator.calls import OperationsError
from ...operator.stores import StageStores
from .filters import FilterSyntaxError

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2

console = Console()
errors = Console(stderr=True)

Local = Annotated[bool, typer.Option("--local", help="Act on the local stack instead of AWS.")]
StateDir = Annotated[Path | None, typer.Option(help="Where the local stack keeps its state (env CONCORD_LOCAL_DIR).")]
Stage = Annotated[
    str | None,
    typer.Option(
        help="Deployed stage: resources are named concord-<stage>-… (env CONCORD_STAGE; default dev).",
        envvar="CONCORD_STAGE",
        show_envvar=False,
    ),
]
Profile = Annotated[str | None, typer.Option(help="AWS profile (default: the usual credential chain).")]
Region = Annotated[str | None, typer.Option(help="AWS region (default: the profile's or AWS_REGION).")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of tables.")]


class UsageError(ValueError):
    """A bad option value: exit code 2."""


@dataclass
class Target:
    names: Names
    local: bool
    label: str
    _factory: Callable[[str], Any]
    _clients: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self._factory(service)
        return self._clients[service]

    def stores(self) -> StageStores:
        """The stage's audit trail, registry and checkpoints."""
        return StageStores.of(self.client("dynamodb"), self.names)

    def actor(self) -> Actor:
        os_user = _os_user()
        if self.local:
            return Actor(who=f"{os_user} (local stack)", os_user=os_user)
        try:
            return Actor(who=caller_identity(self.client("sts")), os_user=os_user)
        except OperationsError as error:
            errors.print(f"[yellow]could not read the AWS caller identity ({error}); recording the OS user[/]")
            return Actor(who=os_user, os_user=os_user)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def target(local: bool, state_dir: Path | None, stage: str | None, profile: str | None, region: str | None) -> Target:
    if local:
        if stage not in (None, "local"):
            raise UsageError(f"--local acts on the local stack (stage local), not stage {stage}: drop one of them")
        if profile:
            raise UsageError("--profile applies to AWS, not to the local stack (--local)")
        from ...local.stack import aws_client
        from ...local.state import StackState, state_dir_from_env

        directory = state_dir or state_dir_from_env()
        if not StackState.exists(directory):
            raise OperationsError(
                f"the local stack is not running (no state in {directory}): start it with `concord local up`"
            )
        state = StackState.load(directory)
        return Target(Names("local"), True, f"local stack ({state.aws_endpoint})", lambda s: aws_client(state, s))

    import boto3
    from botocore.config import Config
    from botocore.exceptions import ProfileNotFound

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except ProfileNotFound as error:
        raise UsageError(str(error)) from None
    if not session.region_name:
        raise UsageError("no AWS region: pass --region or set AWS_REGION (or a region in the profile)")
    config = Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
    make_client: Callable[..., Any] = session.client  # typed per service where it is used
    chosen = stage or "dev"
    label = f"stage {chosen} in {session.region_name}" + (f" (profile {profile})" if profile else "")
    return Target(Names(chosen), False, label, lambda service: make_client(service, config=config))


@contextmanager
def failures() -> Iterator[None]:
    """Turn the errors an operator can act on into a message and an exit code."""
    try:
        yield
    except OperationsError as error:
        errors.print(f"[bold red]error:[/] {error}")
        raise typer.Exit(EXIT_PROBLEM) from None
    except (UsageError, FilterSyntaxError) as error:
        errors.print(f"[bold red]usage:[/] {error}")
        raise typer.Exit(EXIT_USAGE) from None


_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(value: str | None, now: dt.datetime) -> dt.datetime | None:
    """`--since`: a duration back from now (90s, 30m, 2h, 7d, 1w) or an ISO date/time (UTC if naive)."""
    if value is None:
        return None
    return parse_moment(value, now, "--since")


def parse_moment(value: str, now: dt.datetime, option: str) -> dt.datetime:
    """A moment as an operator gives it: a duration back from now (90s, 30m, 2h, 7d, 1w), `now`,
    or an ISO date/time (UTC if naive)."""
    text = value.strip()
    if text.lower() == "now":
        return now
    match = _DURATION.match(text.lower())
    if match:
        return now - dt.timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {value!r}: expected a duration (30m, 2h, 7d) or an ISO date/time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
