"""What the demo verifies as it goes: every failed expectation is kept and reported."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Checks:
    failures: list[str] = field(default_factory=list)

    def expect(self, condition: bool, what: str) -> bool:
        if not condition:
            self.failures.append(what)
        return condition
