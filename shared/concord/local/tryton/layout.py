"""Where the local Tryton systems keep their state under one home directory."""

from __future__ import annotations

import configparser
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Concord's own Tryton module, activated in every database. It ships with the connector
# (concord/connectors/tryton/module/concord_sync): production Trytons need it too.
CONCORD_MODULE = "concord_sync"
CONCORD_MODULE_SOURCE = Path(__file__).parents[2] / "connectors" / "tryton" / "module" / CONCORD_MODULE

# Which Tryton database plays which business system, and the modules it activates
# (trytond-admin adds their dependencies). See docs/tryton.md for why each module is there.
DATABASE_MODULES: dict[str, tuple[str, ...]] = {
    "crm": ("sale_opportunity", CONCORD_MODULE),
    "psa": ("project_revenue", "project_invoice", "timesheet", CONCORD_MODULE),
    "erp": ("account_invoice", "project_invoice", "timesheet", "sale", CONCORD_MODULE),
}
DATABASES: tuple[str, ...] = tuple(DATABASE_MODULES)
ADMIN_LOGIN = "admin"
DEFAULT_PORT = 8765
CONCORD_SECTION = "concord"  # concord_sync's section of trytond.conf


@dataclass(frozen=True)
class WebhookPush:
    """Where concord_sync POSTs its events: `<url>/<database>`, signed with that database's
    secret. A database without a secret does not push."""

    url: str
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)  # database -> whsec_


@dataclass(frozen=True)
class TrytonHome:
    """The files of one local Tryton installation, all below `root`."""

    root: Path

    def __post_init__(self) -> None:
        # Absolute, so that paths recorded in a process's command line (see server.py) and in
        # the configuration compare equal whatever the caller's working directory.
        object.__setattr__(self, "root", self.root.resolve())

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def install_stamp(self) -> Path:
        return self.venv / "concord-requirements.txt"

    @property
    def freeze(self) -> Path:
        """`pip freeze` of the venv, written at install: part of the snapshot key."""
        return self.venv / "concord-freeze.txt"

    @property
    def module_stamp(self) -> Path:
        """Hash of the concord_sync copy installed in the venv."""
        return self.venv / "concord-module.txt"

    def tryton_modules_dir(self) -> Path:
        """trytond/modules of the venv, where Tryton looks for modules."""
        found = sorted(self.venv.glob("lib/python3*/site-packages/trytond/modules"))
        if not found:
            raise FileNotFoundError(f"no trytond/modules below {self.venv}")
        return found[-1]

    @property
    def config(self) -> Path:
        return self.root / "trytond.conf"

    @property
    def db_dir(self) -> Path:
        return self.root / "db"

    @property
    def db_stamp(self) -> Path:
        """Snapshot key the live databases were built or restored from."""
        return self.db_dir / "concord-key.txt"

    @property
    def snapshot_dir(self) -> Path:
        return self.root / "snapshot"

    @property
    def snapshot_stamp(self) -> Path:
        return self.snapshot_dir / "concord-key.txt"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    @property
    def server_log(self) -> Path:
        return self.log_dir / "trytond.log"

    @property
    def pid_file(self) -> Path:
        return self.root / "trytond.pid"

    @property
    def password_file(self) -> Path:
        return self.root / "admin-password"

    def db_file(self, database: str, directory: Path | None = None) -> Path:
        """trytond's SQLite backend names a database's file `<path>/<name>.sqlite`."""
        return (directory or self.db_dir) / f"{database}.sqlite"


def admin_password(home: Path) -> str:
    """The admin password of all three databases, generated once per home (mode 0600)."""
    path = TrytonHome(home).password_file
    if not path.exists():
        home.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(18))
    return path.read_text().strip()


def write_config(home: Path, port: int, push: WebhookPush | None = None) -> Path:
    """Write trytond's configuration: SQLite files under home/db, HTTP on 127.0.0.1:port,
    and concord_sync's push settings (section [concord]; None: push disabled).
    Mode 0600, replaced atomically: it may hold signing secrets."""
    layout = TrytonHome(home)
    layout.db_dir.mkdir(parents=True, exist_ok=True)
    text = (
        "[database]\n"
        "uri = sqlite://\n"
        f"path = {layout.db_dir}\n"
        "\n[web]\n"
        f"listen = 127.0.0.1:{port}\n"
        # Posting invoices and the pay wizard need a session used within `timeout`
        # (default 5 min): a day keeps an idle integration from re-logging in all the time.
        "\n[session]\n"
        "timeout = 86400\n"
    )
    if push is not None:
        text += f"\n[{CONCORD_SECTION}]\nwebhook_url = {push.url}\n" + "".join(
            f"secret_{database} = {secret}\n" for database, secret in sorted(push.secrets.items())
        )
    partial = layout.config.with_name(layout.config.name + ".tmp")
    partial.unlink(missing_ok=True)
    with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
        out.write(text)
    partial.replace(layout.config)
    return layout.config


def configured_push(home: Path) -> WebhookPush | None:
    """The push settings the configuration holds (so a running server uses), if any."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(TrytonHome(home).config)
    if not parser.has_option(CONCORD_SECTION, "webhook_url"):
        return None
    section = parser[CONCORD_SECTION]
    return WebhookPush(
        url=section["webhook_url"],
        secrets={key.removeprefix("secret_"): value for key, value in section.items() if key.startswith("secret_")},
    )


def configured_port(home: Path) -> int:
    """The port the configuration (and so a running server) listens on."""
    parser = configparser.ConfigParser()
    parser.read(TrytonHome(home).config)
    return int(parser.get("web", "listen").rsplit(":", 1)[1])
