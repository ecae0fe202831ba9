"""For tests that talk to a server they run in-process (a vendor sandbox, a fault proxy): they
may connect to 127.0.0.1 and nowhere else. Import `loopback_only` into a conftest: it replaces
the suite's no-network fixture of the same name for the tests below it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_socket import _remove_restrictions, socket_allow_hosts


@pytest.fixture(autouse=True, name="_no_network")
def loopback_only() -> Iterator[None]:
    socket_allow_hosts(["127.0.0.1"], allow_unix_socket=True)
    yield
    _remove_restrictions()
