"""The one clock: what "now" is, and how code that needs it is given it.

Code that needs the time takes a `clock: Clock` parameter (default `utc_now`) and calls it;
tests pass a fixed clock instead of patching datetime. Nothing else reads the wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)
