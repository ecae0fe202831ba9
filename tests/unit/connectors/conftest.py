"""Connector tests talk to in-process vendor sandboxes on loopback."""

from ..loopback import loopback_only  # noqa: F401 - the fixture
