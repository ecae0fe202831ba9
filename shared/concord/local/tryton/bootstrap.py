"""Install Tryton 8.2 and build the crm, psa and erp databases of the local default.

Used by `concord local up` and the Tryton integration tests:

    python = ensure_installed(home)   # separate venv, pinned, + concord_sync; no-op when done
    ensure_databases(home)            # activated + seeded databases, from a snapshot when valid
    server = start_server(home, port, webhook_url=..., webhook_secrets=...)  # see server.py
    restore_snapshot(home)            # back to the freshly seeded state (restarts the server)

Every step is idempotent and logs `tryton step=<name> seconds=<n>`. Nothing prompts: the admin
password comes from home/admin-password (see `admin_password`), passed via TRYTONPASSFILE.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from datetime import date
from pathlib import Path

from .errors import TrytonLocalError
from .layout import (
    CONCORD_MODULE,
    CONCORD_MODULE_SOURCE,
    DATABASE_MODULES,
    DATABASES,
    DEFAULT_PORT,
    TrytonHome,
    admin_password,
    configured_push,
    write_config,
)
from .server import TrytonServer, running_server, start_server, stop_server

__all__ = [
    "REQUIREMENTS",
    "TrytonServer",
    "ensure_databases",
    "ensure_installed",
    "restore_snapshot",
    "start_server",
    "stop_server",
]

logger = logging.getLogger(__name__)

TRYTON_SERIES = "8.2"
REQUIREMENTS: tuple[str, ...] = (
    f"trytond=={TRYTON_SERIES}.*",
    f"proteus=={TRYTON_SERIES}.*",
    *(
        f"trytond-{module}=={TRYTON_SERIES}.*"
        for module in (
            "party",
            "company",
            "currency",
            "account",
            "account-invoice",
            "project",
            "project-invoice",
            "project-revenue",
            "timesheet",
            "sale",
            "sale-opportunity",
        )
    ),
)
ADMIN_EMAIL = "admin@example.com"
SEED_SCRIPT = Path(__file__).with_name("seed_script.py")


def ensure_installed(home: Path) -> Path:
    """Create home/venv with the pinned Tryton packages and Concord's concord_sync module;
    return that venv's python.

    A stamp file holding the requirement list makes a second call a no-op; changing
    REQUIREMENTS re-runs pip on the same venv. concord_sync is copied into the venv's
    trytond/modules whenever its source changed (a hash stamp; milliseconds otherwise).
    """
    with _exclusive(home):
        return _install(home)


def _install(home: Path) -> Path:
    layout = TrytonHome(home)
    wanted = "\n".join(REQUIREMENTS) + "\n"
    if not (layout.python.exists() and _read(layout.install_stamp) == wanted):
        with _timed("install"):
            if not layout.python.exists():
                _run([sys.executable, "-m", "venv", str(layout.venv)], "create the Tryton venv")
            _run(
                [str(layout.python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *REQUIREMENTS],
                "pip install Tryton",
            )
            freeze = _run([str(layout.python), "-m", "pip", "freeze"], "pip freeze")
            layout.freeze.write_text(freeze)
            layout.install_stamp.write_text(wanted)
    _install_concord_module(layout)
    return layout.python


def _install_concord_module(layout: TrytonHome) -> None:
    """Copy the connector's concord_sync module into the venv's trytond/modules (a copy, not a symlink: the
    venv keeps working if the checkout moves; the hash stamp keeps it current)."""
    digest = _module_digest()
    target = layout.tryton_modules_dir() / CONCORD_MODULE
    if _read(layout.module_stamp) == digest and target.is_dir():
        return
    with _timed("install_module"):
        staging = target.with_name(f".{CONCORD_MODULE}.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(CONCORD_MODULE_SOURCE, staging, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        layout.module_stamp.write_text(digest)


def _module_digest() -> str:
    """Hash of concord_sync's files (names and contents): part of the snapshot key."""
    digest = hashlib.sha256()
    for path in sorted(CONCORD_MODULE_SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(CONCORD_MODULE_SOURCE)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def ensure_databases(home: Path, port: int = DEFAULT_PORT) -> None:
    """Make home/db hold the activated and seeded crm, psa and erp databases.

    Already current (same snapshot key): nothing happens, data added since is kept.
    Otherwise they come from the snapshot when its key matches (seconds), else they are built:
    trytond-admin activates each database's modules and seed_script.py seeds it (~35 s on two
    cores, the three databases in parallel), and the result is snapshotted for next time.
    A running server is stopped for the change and restarted on its port with the push
    settings it had; when none runs, the configuration is written with `port`. Building and
    seeding always run with push disabled (the seed announces nothing).
    """
    with _exclusive(home):
        _install(home)
        _ensure_databases(home, port)


def _ensure_databases(home: Path, port: int) -> None:
    layout = TrytonHome(home)
    key = _snapshot_key(home)
    if _read(layout.db_stamp) == key and _all_db_files(layout, layout.db_dir):
        logger.info("tryton step=ensure_databases state=current")
        return
    with _server_paused(home) as running_port:
        write_config(home, running_port or port)
        if _read(layout.snapshot_stamp) == key and _all_db_files(layout, layout.snapshot_dir):
            _restore_files(layout)
        else:
            _build_databases(layout)
            _take_snapshot(layout, key)
        layout.db_stamp.write_text(key)


def restore_snapshot(home: Path) -> None:
    """Reset the three databases to the snapshot taken right after seeding.

    trytond keeps the SQLite files open and caches records, so a running server is stopped
    and restarted on the same port (clients re-login: their sessions are gone with the data).
    """
    layout = TrytonHome(home)
    if not _all_db_files(layout, layout.snapshot_dir):
        raise TrytonLocalError(f"no snapshot in {layout.snapshot_dir}: run ensure_databases first")
    with _exclusive(home), _timed("restore_snapshot"), _server_paused(home):
        _restore_files(layout)
        layout.db_stamp.write_text(layout.snapshot_stamp.read_text())


def _build_databases(layout: TrytonHome) -> None:
    """Create, activate and seed the three databases, in parallel (each is one CPU-bound
    process; on two cores this takes ~60% of running them one after another)."""
    admin_password(layout.root)  # create it before the workers race for it
    for database in DATABASES:
        for stale in _sqlite_files(layout.db_file(database)):
            stale.unlink(missing_ok=True)
    with _timed("build_databases"), ThreadPoolExecutor(len(DATABASES)) as pool:
        for future in [pool.submit(_build_database, layout, db) for db in DATABASES]:
            future.result()


def _build_database(layout: TrytonHome, database: str) -> None:
    # trytond-admin refuses to initialise a SQLite database whose file does not exist yet,
    # and prompts for the admin's email unless given one.
    layout.db_file(database).touch()
    env = {**os.environ, "TZ": "UTC", "TRYTONPASSFILE": str(layout.password_file)}
    trytond_admin = layout.venv / "bin" / "trytond-admin"
    with _timed(f"activate_modules db={database}"):
        _run(
            [
                str(trytond_admin),
                "-c",
                str(layout.config),
                "-d",
                database,
                "--email",
                ADMIN_EMAIL,
                "--activate-dependencies",
                "-u",
                *DATABASE_MODULES[database],
            ],
            f"activate the modules of {database}",
            env,
        )
    with _timed(f"seed db={database}"):
        _run([str(layout.python), str(SEED_SCRIPT), str(layout.config), database], f"seed {database}", env)


def _take_snapshot(layout: TrytonHome, key: str) -> None:
    with _timed("snapshot"):
        staging = layout.snapshot_dir.with_name("snapshot.tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for database in DATABASES:
            # SQLite's backup API: a consistent copy even if a WAL file is still around.
            with (
                closing(sqlite3.connect(layout.db_file(database))) as source,
                closing(sqlite3.connect(layout.db_file(database, staging))) as target,
            ):
                source.backup(target)
        (staging / layout.snapshot_stamp.name).write_text(key)
        shutil.rmtree(layout.snapshot_dir, ignore_errors=True)
        staging.rename(layout.snapshot_dir)


def _restore_files(layout: TrytonHome) -> None:
    for database in DATABASES:
        live = layout.db_file(database)
        # A leftover write-ahead log would be replayed onto the restored file: remove it.
        for stale in _sqlite_files(live):
            stale.unlink(missing_ok=True)
        partial = live.with_suffix(".restoring")
        shutil.copyfile(layout.db_file(database, layout.snapshot_dir), partial)
        partial.replace(live)


@contextmanager
def _exclusive(home: Path) -> Iterator[None]:
    """One process at a time installs, seeds or restores a home: stacks and test sessions
    started together (two `concord local up`, parallel test workers) share the cache home,
    and two seeds writing one SQLite file corrupt it. The others wait, then find it current."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def _server_paused(home: Path) -> Iterator[int | None]:
    """Stop a running server for the block, yield its port, restart it after a success
    (same port, same push settings)."""
    server = running_server(home)
    push = configured_push(home) if server else None
    if server:
        stop_server(home)
    yield server.port if server else None
    if server:
        start_server(
            home, server.port, webhook_url=push.url if push else None, webhook_secrets=push.secrets if push else None
        )


def _snapshot_key(home: Path) -> str:
    """Changes whenever the seeded databases would differ: installed packages, modules (and
    concord_sync's source), seed script, admin password, and the year (the seeded fiscal years
    are relative to it)."""
    layout = TrytonHome(home)
    digest = hashlib.sha256()
    for part in (
        _read(layout.freeze) or "",
        repr(sorted(DATABASE_MODULES.items())),
        _module_digest(),
        SEED_SCRIPT.read_text(),
        admin_password(home),
        str(date.today().year),
    ):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _all_db_files(layout: TrytonHome, directory: Path) -> bool:
    return all(layout.db_file(db, directory).is_file() for db in DATABASES)


def _sqlite_files(db_file: Path) -> list[Path]:
    return [db_file, *(db_file.with_name(db_file.name + s) for s in ("-wal", "-shm"))]


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def _run(command: list[str], what: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise TrytonLocalError(
            f"could not {what} (exit {result.returncode}): {' '.join(command)}\n" + "\n".join(output[-30:])
        )
    return result.stdout


@contextmanager
def _timed(step: str) -> Iterator[None]:
    started = time.monotonic()
    yield
    logger.info("tryton step=%s seconds=%.2f", step, time.monotonic() - started)
