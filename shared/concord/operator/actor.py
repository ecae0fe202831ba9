"""Who acts: recorded with every redrive and replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .calls import aws_call


@dataclass(frozen=True)
class Actor:
    """The AWS caller identity (or the local stack) and the OS user behind it."""

    who: str
    os_user: str


def caller_identity(sts: Any) -> str:
    with aws_call("the caller identity", "sts:GetCallerIdentity"):
        return str(sts.get_caller_identity()["Arn"])
