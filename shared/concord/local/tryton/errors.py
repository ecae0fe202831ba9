"""Errors of the local Tryton tooling (install, databases, server control)."""

from __future__ import annotations


class TrytonLocalError(RuntimeError):
    """The local Tryton installation could not be brought to the requested state."""


class PortInUseError(TrytonLocalError):
    """The port asked for the Tryton server is already taken by another process."""
