"""The device state machine and the PF/VF/vDPA dependency rules, one row per scenario."""

from __future__ import annotations

import re

import pytest

from vfnet.errors import InvalidDeviceState
from vfnet.inventory.states import DeviceState, DeviceStatus, DeviceTable, Family, settle

from .hosts import pf, pf_address, vf, vf_address

A, C, L = DeviceState.AVAILABLE, DeviceState.CLAIMED, DeviceState.ALLOCATED
UA, UC, R = DeviceState.UNAVAILABLE, DeviceState.UNCLAIMABLE, DeviceState.REMOVED

NAMES = {
    "pf": pf_address(0),
    "vf0": vf_address(0, 0),
    "vf1": vf_address(0, 1),
    "vd": vf_address(0, 2),  # a VF carrying a vDPA device
    "lone": vf_address(1, 0),  # a VF whose PF is not tracked
}


def family_table() -> DeviceTable:
    devices = [pf(0), vf(0, 0), vf(0, 1), vf(0, 2, vdpa=True), vf(1, 0)]
    return DeviceTable.of([item.device for item in devices])


def run(steps: list[tuple[str, ...]]) -> DeviceTable:
    table = family_table()
    for action, name, *owner in steps:
        method = getattr(table, action)
        table = method(NAMES[name], *owner)
    return table


def states_of(table: DeviceTable) -> tuple[DeviceState, ...]:
    return tuple(table.state(NAMES[n]) for n in ("pf", "vf0", "vf1", "vd", "lone"))


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        pytest.param([], (A, A, A, A, A), id="a new table is all available"),
        pytest.param(
            [("claim", "vf0", "i1")], (UC, C, A, A, A), id="claiming a vf makes its pf unclaimable"
        ),
        pytest.param(
            [("allocate", "vf0", "i1")],
            (UA, L, A, A, A),
            id="allocating a vf makes its pf unavailable",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("allocate", "vf0", "i1")],
            (UA, L, A, A, A),
            id="claim then allocate blocks the pf harder",
        ),
        pytest.param(
            [("claim", "pf", "i1")],
            (C, UC, UC, UC, A),
            id="claiming a pf makes its vfs and vdpa unclaimable",
        ),
        pytest.param(
            [("allocate", "pf", "i1")],
            (L, UA, UA, UA, A),
            id="allocating a pf makes its children unavailable",
        ),
        pytest.param(
            [("claim", "vd", "i1")],
            (UC, A, A, C, A),
            id="a vdpa device counts as a child of its pf",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("claim", "vf1", "i2"), ("free", "vf0")],
            (UC, A, C, A, A),
            id="the pf stays blocked while a child is busy",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("claim", "vf1", "i2"), ("free", "vf0"), ("free", "vf1")],
            (A, A, A, A, A),
            id="freeing the last busy child frees the pf",
        ),
        pytest.param(
            [("allocate", "vf0", "i1"), ("claim", "vf1", "i2"), ("free", "vf0")],
            (UC, A, C, A, A),
            id="a pf left with only claims becomes unclaimable again",
        ),
        pytest.param(
            [("allocate", "pf", "i1"), ("free", "pf")],
            (A, A, A, A, A),
            id="freeing a pf frees all its children",
        ),
        pytest.param(
            [("claim", "pf", "i1"), ("free", "pf", "i1")],
            (A, A, A, A, A),
            id="freeing with the right owner works",
        ),
        pytest.param(
            [("claim", "lone", "i1")],
            (A, A, A, A, C),
            id="a vf whose pf is untracked has no dependency rules",
        ),
        pytest.param([("remove", "vf1")], (A, A, R, A, A), id="a free device can be removed"),
        pytest.param(
            [("remove", "vf1"), ("claim", "pf", "i1")],
            (C, UC, R, UC, A),
            id="a removed child neither blocks nor gets blocked",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("remove", "pf")],
            (R, C, A, A, A),
            id="a blocked pf nobody owns can be removed",
        ),
    ],
)
def test_state_machine(steps: list[tuple[str, ...]], expected: tuple[DeviceState, ...]) -> None:
    assert states_of(run(steps)) == expected


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        pytest.param(
            [("claim", "vf0", "i1"), ("claim", "vf0", "i2")],
            "cannot claim 0000:3b:02.0: 0000:3b:02.0 is claimed by 'i1'",
            id="claiming a claimed vf",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("claim", "pf", "i2")],
            "cannot claim 0000:3b:00.0: 0000:3b:00.0 is unclaimable",
            id="claiming a pf whose vf is claimed",
        ),
        pytest.param(
            [("claim", "pf", "i1"), ("claim", "vf0", "i2")],
            "0000:3b:02.0 is unclaimable",
            id="claiming a vf of a claimed pf",
        ),
        pytest.param(
            [("allocate", "pf", "i1"), ("allocate", "vd", "i2")],
            "0000:3b:02.2 is unavailable",
            id="allocating a vdpa device of an allocated pf",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("allocate", "vf0", "i2")],
            "the owner is not 'i2'",
            id="allocating someone else's claim",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("free", "vf0", "i2")],
            "cannot free 0000:3b:02.0: 0000:3b:02.0 is claimed by 'i1': the owner is not 'i2'",
            id="freeing someone else's device",
        ),
        pytest.param(
            [("free", "vf0")],
            "cannot free 0000:3b:02.0: 0000:3b:02.0 is available",
            id="freeing a free device",
        ),
        pytest.param(
            [("claim", "vf0", "i1"), ("remove", "vf0")],
            "cannot remove 0000:3b:02.0: 0000:3b:02.0 is claimed by 'i1'",
            id="removing an owned device",
        ),
        pytest.param([("remove", "vf0"), ("remove", "vf0")], "is removed", id="removing twice"),
        pytest.param(
            [("remove", "vf0"), ("claim", "vf0", "i1")],
            "0000:3b:02.0 is removed",
            id="claiming a removed device",
        ),
    ],
)
def test_refused_transitions_name_the_device_and_its_state(
    steps: list[tuple[str, ...]], message: str
) -> None:
    with pytest.raises(InvalidDeviceState, match=re.escape(message)):
        run(steps)


def test_a_pf_with_a_busy_child_is_refused_even_when_it_looks_available() -> None:
    table = family_table()
    slot = table.family.slot(NAMES["vf0"])
    statuses = list(table.statuses)
    statuses[slot] = DeviceStatus(C, "i1")  # a store row written without its PF's block
    with pytest.raises(
        InvalidDeviceState, match=re.escape("its child 0000:3b:02.0 is claimed by 'i1'")
    ):
        DeviceTable(table.family, tuple(statuses)).claim(NAMES["pf"], "i2")


def test_claiming_a_pf_heals_children_left_blocked_by_mistake() -> None:
    table = family_table()
    slot = table.family.slot(NAMES["vf1"])
    statuses = list(table.statuses)
    statuses[slot] = DeviceStatus(UA)
    claimed = DeviceTable(table.family, tuple(statuses)).claim(NAMES["pf"], "i1")
    assert claimed.state(NAMES["vf1"]) is UC


def test_allocation_keeps_the_request_id_of_the_claim() -> None:
    table = run([("claim", "vf0", "i1", "port-1"), ("allocate", "vf0", "i1")])
    assert table.status(NAMES["vf0"]) == DeviceStatus(L, "i1", "port-1")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param(
            {"vf0": DeviceStatus(C, "i1")}, {"pf": UC, "vf1": A}, id="a claimed vf blocks its pf"
        ),
        pytest.param(
            {"vf0": DeviceStatus(C, "i1"), "vf1": DeviceStatus(L, "i2")},
            {"pf": UA},
            id="an allocated vf wins over a claimed one",
        ),
        pytest.param(
            {"pf": DeviceStatus(L, "i1")},
            {"vf0": UA, "vd": UA, "lone": A},
            id="an allocated pf blocks its children only",
        ),
        pytest.param({"pf": DeviceStatus(UC)}, {"pf": A}, id="a stale block is lifted"),
    ],
)
def test_loading_states_settles_the_blocked_relatives(
    given: dict[str, DeviceStatus], expected: dict[str, DeviceState]
) -> None:
    devices = [item.device for item in (pf(0), vf(0, 0), vf(0, 1), vf(0, 2, vdpa=True), vf(1, 0))]
    table = DeviceTable.of(devices, {NAMES[n]: s for n, s in given.items()})
    assert {n: table.state(NAMES[n]) for n in expected} == expected
    assert settle(table.statuses, table.family) == []


def test_family_links_children_by_parent_address_only_when_the_parent_is_tracked() -> None:
    family = Family.of([item.device for item in (vf(0, 0), pf(0), vf(1, 0))])
    assert family.parent == (1, None, None)
    assert family.children == ((), (0,), ())
