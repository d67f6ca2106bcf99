"""The demo's outcome: skips are not failures, and the summary fits one line a check."""

from __future__ import annotations

from vfnet.lab.demo_outcome import Outcome


def test_a_skipped_check_does_not_fail_the_demo_but_a_failed_one_does() -> None:
    outcome = Outcome()
    outcome.check("pools reported", True)
    outcome.skip("pings", "no packets flow on the memory driver")
    assert outcome.passed
    outcome.check("VF reset", False, "host-1 differs")
    assert not outcome.passed


def test_the_summary_gives_each_verdict_with_why_for_the_others_than_pass_and_totals() -> None:
    outcome = Outcome(seconds=12.4)
    outcome.check("pools reported", True, "not shown when it held")
    outcome.skip("pings", "no packets flow")
    outcome.fail("VF reset", "host-1 differs")
    assert outcome.summary() == [
        "  PASS  pools reported",
        "  SKIP  pings (no packets flow)",
        "  FAIL  VF reset (host-1 differs)",
        "3 checks: 1 passed, 1 failed, 1 skipped; 12 s in all",
    ]
