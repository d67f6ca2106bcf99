"""Releasing: a freed VF on a host that verifies resets waits, blocked, until the reset is read."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vfnet.errors import InvalidDeviceState
from vfnet.inventory.states import BUSY, DeviceState, DeviceTable

from .hosts import pf, pf_address, vf, vf_address

A, C, L = DeviceState.AVAILABLE, DeviceState.CLAIMED, DeviceState.ALLOCATED
UA, UC, RL = DeviceState.UNAVAILABLE, DeviceState.UNCLAIMABLE, DeviceState.RELEASING

NAMES = {
    "pf": pf_address(0),
    "vf0": vf_address(0, 0),
    "vf1": vf_address(0, 1),
    "vd": vf_address(0, 2),  # a VF carrying a vDPA device
    "lone": vf_address(1, 0),  # a VF whose PF is not tracked
}
ORDER = ("pf", "vf0", "vf1", "vd", "lone")


def family_table() -> DeviceTable:
    devices = [pf(0), vf(0, 0), vf(0, 1), vf(0, 2, vdpa=True), vf(1, 0)]
    return DeviceTable.of([item.device for item in devices])


def run(steps: list[tuple[str, ...]]) -> DeviceTable:
    table = family_table()
    for action, name, *owner in steps:
        table = getattr(table, action)(NAMES[name], *owner)
    return table


def states_of(table: DeviceTable) -> tuple[DeviceState, ...]:
    return tuple(table.state(NAMES[name]) for name in ORDER)


RELEASED_VF0 = [("claim", "vf0", "i1"), ("free", "vf0", "i1"), ("await_reset", "vf0")]


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param(RELEASED_VF0, (UC, RL, A, A, A), id="a released vf waits and holds its pf"),
        pytest.param(
            [*RELEASED_VF0, ("reset_verified", "vf0")],
            (A, A, A, A, A),
            id="a verified reset frees the vf and its pf",
        ),
        pytest.param(
            [("claim", "vf1", "i2"), *RELEASED_VF0, ("reset_verified", "vf0")],
            (UC, A, C, A, A),
            id="the pf stays unclaimable while another vf is claimed",
        ),
        pytest.param(
            [("allocate", "vf1", "i2"), *RELEASED_VF0],
            (UA, RL, L, A, A),
            id="an allocated sibling keeps the pf unavailable",
        ),
        pytest.param(
            [("claim", "lone", "i1"), ("free", "lone", "i1"), ("await_reset", "lone")],
            (A, A, A, A, RL),
            id="a vf without a tracked pf waits alone",
        ),
        pytest.param(
            [*RELEASED_VF0, ("claim", "vf1", "i2"), ("free", "vf1", "i2")],
            (UC, RL, A, A, A),
            id="freeing a sibling leaves the pf held by the vf being reset",
        ),
        pytest.param(
            [*RELEASED_VF0, ("remove", "vf0")],
            (A, DeviceState.REMOVED, A, A, A),
            id="a releasing vf that leaves the host is removed",
        ),
    ],
)
def test_releasing_lifecycle(
    steps: list[tuple[str, ...]], expected: tuple[DeviceState, ...]
) -> None:
    assert states_of(run(steps)) == expected


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        pytest.param(
            [*RELEASED_VF0, ("claim", "vf0", "i2")],
            "cannot claim 0000:3b:02.0: 0000:3b:02.0 is releasing",
            id="a releasing vf cannot be claimed",
        ),
        pytest.param(
            [*RELEASED_VF0, ("claim", "pf", "i2")],
            "cannot claim 0000:3b:00.0: 0000:3b:00.0 is unclaimable",
            id="its pf cannot be claimed whole",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("await_reset", "vf0")],
            "cannot await the reset of 0000:3b:02.0: 0000:3b:02.0 is claimed by 'i1'",
            id="a claimed vf is freed before it waits",
        ),
        pytest.param(
            [*RELEASED_VF0, ("await_reset", "vf0")],
            "cannot await the reset of 0000:3b:02.0: 0000:3b:02.0 is releasing",
            id="a vf waits once",
        ),
        pytest.param(
            [("reset_verified", "vf0")],
            "cannot verify the reset of 0000:3b:02.0: 0000:3b:02.0 is available: it is not "
            "releasing",
            id="only a releasing vf is verified",
        ),
        pytest.param(
            [*RELEASED_VF0, ("allocate", "vf0", "i2")],
            "cannot allocate 0000:3b:02.0: 0000:3b:02.0 is releasing",
            id="a releasing vf cannot be allocated",
        ),
    ],
)
def test_refused_releasing_transitions_say_why(steps: list[tuple[str, ...]], message: str) -> None:
    with pytest.raises(InvalidDeviceState, match=re.escape(message)):
        run(steps)


def test_loading_a_releasing_vf_keeps_it_releasing_and_its_pf_held() -> None:
    devices = [item.device for item in (pf(0), vf(0, 0), vf(0, 1))]
    table = DeviceTable.of(devices, {NAMES["vf0"]: run(RELEASED_VF0).status(NAMES["vf0"])})
    assert [table.state(NAMES[n]) for n in ("pf", "vf0", "vf1")] == [UC, RL, A]


# Random sequences over the same family: a device is never both busy for someone and
# releasing, and the PF is free exactly when no VF is busy or releasing.
actions = st.lists(
    st.tuples(
        st.sampled_from(["claim", "free", "await_reset", "reset_verified", "allocate"]),
        st.sampled_from(["vf0", "vf1", "lone"]),
    ),
    max_size=30,
)


@given(actions)
def test_random_releases_keep_the_pf_held_while_any_vf_is_busy_or_releasing(
    steps: list[tuple[str, str]],
) -> None:
    table = family_table()
    for action, name in steps:
        owner = ("i1",) if action in ("claim", "free", "allocate") else ()
        try:
            table = getattr(table, action)(NAMES[name], *owner)
        except InvalidDeviceState:
            continue
    vfs = [table.state(NAMES[n]) for n in ("vf0", "vf1", "vd")]
    held = any(state in BUSY or state is RL for state in vfs)
    assert (table.state(NAMES["pf"]) is A) == (not held)
    if not held:
        assert all(state is A for state in vfs)
