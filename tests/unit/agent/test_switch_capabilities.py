"""The eswitch driver is offered only to a process holding CAP_NET_ADMIN and CAP_SYS_ADMIN."""

from pathlib import Path

import pytest

from vfnet.agent.main import can_build_switches


@pytest.mark.parametrize(
    ("cap_eff", "expected"),
    [
        ("000001fffeffffff", True),  # root with every capability
        ("0000000000201000", True),  # exactly CAP_NET_ADMIN and CAP_SYS_ADMIN
        ("0000000000001000", False),  # CAP_NET_ADMIN only: no namespaces
        ("0000000000200000", False),  # CAP_SYS_ADMIN only: no links
        ("0000000000000000", False),  # root with a dropped bounding set, or a plain user
    ],
)
def test_the_switch_needs_both_capabilities(tmp_path: Path, cap_eff: str, expected: bool) -> None:
    status = tmp_path / "status"
    status.write_text(f"Name:\tvfnet-agent\nCapInh:\t0000000000000000\nCapEff:\t{cap_eff}\n")
    assert can_build_switches(status) is expected
