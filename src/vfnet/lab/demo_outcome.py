"""What the lab demo checked and how each check came out, and where its words go.

A check that could not be made where the demo runs (packets need the eswitch, so root)
is kept as skipped with the reason, never counted as held.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class Reporter(Protocol):
    """Where the demo's words go: the CLI prints them."""

    def step(self, title: str, explanation: str) -> None: ...
    def line(self, text: str) -> None: ...
    def block(self, text: str) -> None: ...


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class Check:
    what: str
    verdict: Verdict
    detail: str = ""  # what was seen when it failed, or why it was skipped


@dataclass
class Outcome:
    """Every check in order; the demo passed when none failed (skips are not failures)."""

    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0

    def check(self, what: str, held: bool, detail: str = "") -> bool:
        self.checks.append(Check(what, Verdict.PASS if held else Verdict.FAIL, detail))
        return held

    def skip(self, what: str, reason: str) -> None:
        self.checks.append(Check(what, Verdict.SKIP, reason))

    def fail(self, what: str, detail: str) -> None:
        self.checks.append(Check(what, Verdict.FAIL, detail))

    @property
    def passed(self) -> bool:
        return all(c.verdict is not Verdict.FAIL for c in self.checks)

    def count(self, verdict: Verdict) -> int:
        return sum(1 for c in self.checks if c.verdict is verdict)

    def summary(self) -> list[str]:
        """One line a check, then the totals and the time taken: one screen."""
        lines = []
        for check in self.checks:
            detail = (
                f" ({check.detail})" if check.detail and check.verdict is not Verdict.PASS else ""
            )
            lines.append(f"  {check.verdict:<4}  {check.what}{detail}")
        totals = ", ".join(f"{self.count(v)} {_WORDS[v]}" for v in Verdict if self.count(v))
        lines.append(f"{len(self.checks)} checks: {totals}; {self.seconds:.0f} s in all")
        return lines


_WORDS = {Verdict.PASS: "passed", Verdict.FAIL: "failed", Verdict.SKIP: "skipped"}
