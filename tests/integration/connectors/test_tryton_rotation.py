"""A rotated Tryton password (issue #18, item 4) against the real server: trytond ends the
user's sessions when its password is written, the connector's next call is refused, the
connector re-reads its secret, logs in with the new password and the call succeeds."""

from __future__ import annotations

import secrets
from pathlib import Path

from concord.connectors.registry import ConnectorContext, Role
from concord.connectors.tryton import TrytonErp, TrytonRpcClient, connect
from concord.local.tryton import ADMIN_LOGIN, TrytonServer, admin_password


def test_a_rotated_password_is_read_at_once_and_the_call_retried(
    fresh_databases: TrytonServer, tryton_home: Path
) -> None:
    old, new = admin_password(tryton_home), secrets.token_urlsafe(18)
    secret = {"kind": "tryton", "url": fresh_databases.url, "database": "erp", "login": ADMIN_LOGIN, "password": old}
    reads: list[str] = []

    def reload_connection() -> dict[str, str]:
        reads.append(secret["password"])
        return dict(secret)

    erp = connect(
        Role.ERP, dict(secret), ConnectorContext(default_legal_entity="us-01", reload_connection=reload_connection)
    )
    assert isinstance(erp, TrytonErp)
    before = erp.client.search_read("res.user", [["login", "=", ADMIN_LOGIN]], ["id"])
    (admin_id,) = [user["id"] for user in before]

    with TrytonRpcClient(fresh_databases.url, "erp", ADMIN_LOGIN, old) as operator:
        operator.write("res.user", [admin_id], {"password": new})  # the rotation, as an operator does it
    secret["password"] = new
    try:
        assert erp.client.search_read("res.user", [["login", "=", ADMIN_LOGIN]], ["id"]) == before
        assert reads == [new] and erp.client.login_count == 2
    finally:
        with TrytonRpcClient(fresh_databases.url, "erp", ADMIN_LOGIN, new) as operator:
            operator.write("res.user", [admin_id], {"password": old})
