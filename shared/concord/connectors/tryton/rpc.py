"""JSON-RPC client for one Tryton database (trytond 8.2), over a synchronous httpx.Client.

Protocol (trytond's doc/topics/rpc.rst; code in trytond/protocols/dispatcher.py and jsonrpc.py):
`POST /<database>/rpc/` with `{"id", "method", "params"}`; the answer is `{"id", "result"}` or
`{"id", "error": [kind, details]}` with HTTP 200. Transport-level refusals are HTTP statuses:
401 for a missing or expired session, 503 when the database is busy or failing, 504 on a
server-side timeout. Model, wizard and report methods take the context as their last parameter.
"""

from __future__ import annotations

import base64
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

import httpx

from concord.connectors.kit.urls import redacted
from concord.errors import ConcordError, PermanentError, TransientError

from . import codec

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
# Of the user's preferences, what a server-side call needs in its context. `employees` is left
# out on purpose: with it, timesheet.work durations only count those employees' lines.
CONTEXT_KEYS = ("company", "companies", "employee", "language")
_CONTEXT_METHOD_PREFIXES = ("model.", "wizard.", "report.")
# Context key of Concord's Tryton module (concord_sync/push.py): False = announce nothing of
# this call. Concord's own writes must not come back to it as new changes (echo suppression).
PUSH_CONTEXT_KEY = "concord_push"
_RETRYABLE_STATUSES = {408, 429}


class TrytonError(ConcordError):
    """A call to a Tryton database failed."""

    def __init__(self, message: str, *, method: str, status_code: int | None = None, kind: str | None = None) -> None:
        super().__init__(message)
        self.method = method
        self.status_code = status_code
        self.kind = kind  # Tryton's exception name, e.g. "UserError"; None for HTTP/transport


class TrytonTransientError(TrytonError, TransientError):
    """Timeout, connection failure, HTTP 408/429/5xx: the same call may succeed later.

    A timed-out write may still have been committed: retry it only if it is idempotent.
    """


class TrytonPermanentError(TrytonError, PermanentError):
    """Tryton refused the call (UserError, unknown field or method, bad credentials, other 4xx)."""


class TrytonLoginRefused(TrytonPermanentError):
    """The database refused the login and password (after a re-read of rotated ones, if any)."""


class _SessionExpired(Exception):
    """HTTP 401 on an authenticated call: log in again."""


class TrytonRpcClient:
    """Calls one Tryton database as one user; logs in lazily once and reuses the session.

    Not thread-safe (it holds one session): use one client per thread.

    reload_credentials: re-reads (login, password) from where they are kept; called when the
    login is refused, in case they were rotated. With other credentials it logs in once more.

    announce_changes: False (the default, what Concord's connectors use) sends
    `concord_push: false` in the context of every model/wizard/report call, so Concord's
    own writes are not pushed back to it as new changes by concord_sync. True for clients
    acting as the systems' users (demo scenarios, tests): their changes are announced.
    """

    def __init__(
        self,
        base_url: str,
        database: str,
        login: str,
        password: str,
        *,
        language: str = "en",
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        announce_changes: bool = False,
        reload_credentials: Callable[[], tuple[str, str]] | None = None,
    ) -> None:
        self.database = database
        self.announce_changes = announce_changes
        self._login = login
        self._password = password
        self._reload_credentials = reload_credentials
        self._language = language
        self._path = f"/{database}/rpc/"
        self._http = httpx.Client(base_url=base_url, timeout=timeout, transport=transport)
        self._ids = itertools.count(1)
        self._authorization: str | None = None
        self._context: dict[str, Any] = {}
        self.login_count = 0

    # -- session -----------------------------------------------------------------------------

    def login(self) -> None:
        """Open a session and load the user's context; when the credentials are refused and
        re-reading them gives other ones (a rotation), log in once more with those."""
        try:
            self._open_session()
        except TrytonLoginRefused:
            if not self._reload_rotated_credentials():
                raise
            logger.info("tryton login refused db=%s; logging in with the re-read credentials", self.database)
            self._open_session()

    def _reload_rotated_credentials(self) -> bool:
        """Re-read the credentials; True if they changed."""
        if self._reload_credentials is None:
            return False
        current = self._reload_credentials()
        if current == (self._login, self._password):
            return False
        self._login, self._password = current
        return True

    def _open_session(self) -> None:
        """`common.db.login`, then the user's preferences for the context."""
        method = "common.db.login"
        self._authorization = None
        try:
            user_id, token, *_ = self._post(method, [self._login, {"password": self._password}, self._language])
            session = base64.b64encode(f"{self._login}:{user_id}:{token}".encode()).decode()
            self._authorization = f"Session {session}"
            preferences = self._post("model.res.user.get_preferences", [True, {}])
        except TrytonError:
            # Without its context (company, employee) a session would write wrongly, and
            # permanently: a session whose preferences could not be read is not kept.
            self._authorization = None
            raise
        except _SessionExpired:
            self._authorization = None
            raise TrytonLoginRefused(
                f"login to {self.database!r} as {self._login!r} refused: wrong credentials",
                method=method,
                status_code=401,
            ) from None
        self._context = {k: preferences[k] for k in CONTEXT_KEYS if k in preferences}
        self.login_count += 1

    @property
    def context(self) -> dict[str, Any]:
        """The context sent with every model/wizard/report call (company, employee...)."""
        if self._authorization is None:
            self.login()
        return dict(self._context)

    # -- calls -------------------------------------------------------------------------------

    def call(self, method: str, *params: Any, context: dict[str, Any] | None = None) -> Any:
        """Call `method` (e.g. "model.party.party.create") and return its result.

        For model/wizard/report methods the session context (with `concord_push: false`
        unless the client announces changes), updated with `context`, is appended as the
        last parameter. An expired session is renewed once, transparently.
        """
        if self._authorization is None:
            self.login()
        for attempt in (1, 2):
            args = list(params)
            if method.startswith(_CONTEXT_METHOD_PREFIXES):
                silent = {} if self.announce_changes else {PUSH_CONTEXT_KEY: False}
                args.append({**self._context, **silent, **(context or {})})
            try:
                return self._post(method, args)
            except _SessionExpired:
                if attempt == 2:
                    break
                logger.info("tryton session expired db=%s; logging in again", self.database)
                self.login()
        raise TrytonPermanentError(f"{method}: unauthorized even with a fresh session", method=method, status_code=401)

    def search_read(
        self,
        model: str,
        domain: Sequence[Any],
        fields: Sequence[str],
        *,
        order: Sequence[tuple[str, str]] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Records of `model` matching `domain`, with `fields` (and "id")."""
        return self.call(  # type: ignore[no-any-return]
            f"model.{model}.search_read",
            list(domain),
            offset,
            limit,
            [list(o) for o in order] if order else None,
            list(fields),
        )

    def create(self, model: str, values_list: Sequence[dict[str, Any]]) -> list[int]:
        """Create one record per values dict; return their ids in the same order."""
        return self.call(f"model.{model}.create", list(values_list))  # type: ignore[no-any-return]

    def write(self, model: str, ids: Sequence[int], values: dict[str, Any]) -> None:
        """Set `values` on every record in `ids`."""
        self.call(f"model.{model}.write", list(ids), values)

    def button(self, model: str, name: str, ids: Sequence[int]) -> Any:
        """Click button `name` (e.g. "post" on account.invoice) on the records in `ids`."""
        return self.call(f"model.{model}.{name}", list(ids))

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> TrytonRpcClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def _post(self, method: str, params: list[Any]) -> Any:
        request_id = next(self._ids)
        headers = {"Content-Type": "application/json"}
        if self._authorization:
            headers["Authorization"] = self._authorization
        started = time.monotonic()
        try:
            response = self._http.post(
                self._path, headers=headers, content=codec.dumps({"id": request_id, "method": method, "params": params})
            )
        except httpx.TimeoutException as exc:
            raise TrytonTransientError(f"{method}: timed out ({type(exc).__name__})", method=method) from exc
        except httpx.TransportError as exc:
            raise TrytonTransientError(
                f"{method}: cannot reach Tryton at {redacted(self._http.base_url)} ({exc!r})", method=method
            ) from exc
        logger.debug(
            "tryton rpc db=%s method=%s status=%d seconds=%.3f",
            self.database,
            method,
            response.status_code,
            time.monotonic() - started,
        )
        return self._result(method, request_id, response)

    def _result(self, method: str, request_id: int, response: httpx.Response) -> Any:
        status = response.status_code
        if status == 401:
            raise _SessionExpired()
        if status >= 500 or status in _RETRYABLE_STATUSES:
            raise TrytonTransientError(
                f"{method}: HTTP {status} {response.reason_phrase}", method=method, status_code=status
            )
        if status >= 400:
            raise TrytonPermanentError(
                f"{method}: HTTP {status} {response.reason_phrase}", method=method, status_code=status
            )
        try:
            body = codec.loads(response.content)
        except ValueError as exc:
            # Tryton always answers JSON: something between us and it mangled the answer.
            raise TrytonTransientError(f"{method}: answer is not JSON", method=method, status_code=status) from exc
        if not isinstance(body, dict) or body.get("id") != request_id:
            raise TrytonTransientError(
                f"{method}: answer does not match request id {request_id}", method=method, status_code=status
            )
        if "error" in body:
            raise _rpc_error(method, body["error"])
        return body.get("result")


def _rpc_error(method: str, error: Any) -> TrytonPermanentError:
    """Map Tryton's `[kind, details]` error (see trytond.exceptions) to an exception."""
    kind, details = [*error, None][:2] if isinstance(error, list) else (str(error), None)
    if kind in ("UserError", "UserWarning", "LoginException") and isinstance(details, list):
        # UserError: [message, description, domain]; the others: [name, message, ...]
        text = details[0] if kind == "UserError" else details[1]
        description = details[1] if kind == "UserError" else details[2]
        message = f"{text} ({description})" if description else str(text)
    elif kind == "ConcurrencyException":
        message = str(details)
    else:
        # Any other server exception arrives as [str(exception), traceback].
        kind, message = "ServerError", str(kind)
    return TrytonPermanentError(f"{method}: {kind}: {message}", method=method, kind=kind)
