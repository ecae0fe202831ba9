"""What the fault proxy (faults.py) injects: the fault modes, a target's fault as the control
API takes it, the report it gives, and the thread-safe table of active faults and counters."""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field


class FaultMode(StrEnum):
    OUTAGE = "outage"
    ERROR = "error"
    THROTTLE = "throttle"
    LATENCY = "latency"
    RESET = "reset"


class FaultSpec(BaseModel):
    """One target's fault, as PUT on /_faults/<target>."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: FaultMode
    probability: float = Field(default=1.0, ge=0.0, le=1.0)
    status: int = Field(default=503, ge=400, le=599)  # error
    retry_after: int = Field(default=1, ge=0)  # throttle: seconds in Retry-After
    latency_ms: int = Field(default=0, ge=0, le=600_000)  # latency
    remaining: int | None = Field(default=None, ge=1)  # clears after this many injections


class ActiveFault(FaultSpec):
    """A fault as GET /_faults shows it: `remaining` counts down as it is injected."""

    remaining: int | None = Field(default=None, ge=0)


class FaultsReport(BaseModel):
    """GET /_faults: active faults by target, injected faults by target and mode, and how
    many requests each target forwarded to the upstream."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    faults: dict[str, ActiveFault] = Field(default_factory=dict)
    injected: dict[str, dict[FaultMode, int]] = Field(default_factory=dict)
    forwarded: dict[str, int] = Field(default_factory=dict)


def target_of(path: str) -> str:
    """The fault target of a request path: its first segment ("/erp/rpc/" -> "erp")."""
    return urlsplit(path).path.lstrip("/").split("/", 1)[0]


@dataclass
class _Entry:
    spec: FaultSpec
    remaining: int | None


@dataclass
class FaultTable:
    """Active faults per target and counters; every method is thread-safe."""

    rng: random.Random = field(default_factory=random.Random)
    _faults: dict[str, _Entry] = field(default_factory=dict)
    _injected: defaultdict[str, Counter[FaultMode]] = field(default_factory=lambda: defaultdict(Counter))
    _forwarded: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def set(self, target: str, spec: FaultSpec) -> None:
        with self._lock:
            self._faults[target] = _Entry(spec, spec.remaining)

    def clear(self, target: str | None = None) -> None:
        """Clear one target's fault, or every fault (counters are kept)."""
        with self._lock:
            if target is None:
                self._faults.clear()
            else:
                self._faults.pop(target, None)

    def decide(self, target: str) -> FaultSpec | None:
        """The fault to inject into this request to `target`, or None to forward it.

        Counts the injection, and clears the fault when its `remaining` count runs out.
        """
        with self._lock:
            entry = self._faults.get(target)
            if entry is None or self.rng.random() >= entry.spec.probability:
                return None
            self._injected[target][entry.spec.mode] += 1
            if entry.remaining is not None:
                entry.remaining -= 1
                if entry.remaining <= 0:
                    del self._faults[target]
            return entry.spec

    def forwarded(self, target: str) -> None:
        with self._lock:
            self._forwarded[target] += 1

    def report(self) -> FaultsReport:
        with self._lock:
            return FaultsReport(
                faults={
                    t: ActiveFault(**{**e.spec.model_dump(), "remaining": e.remaining}) for t, e in self._faults.items()
                },
                injected={t: dict(c) for t, c in self._injected.items() if c},
                forwarded=dict(self._forwarded),
            )
