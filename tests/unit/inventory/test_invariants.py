"""Random sequences of claims, allocations, releases and reports never double-book a device."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vfnet.errors import Conflict
from vfnet.inventory.claims import HostInventory
from vfnet.inventory.requests import PciRequest
from vfnet.inventory.states import BLOCKED, BUSY, DeviceState
from vfnet.pci.selection import SelectedDevice

from .hosts import pf, vf

SPECS = [
    {"physical_network": "physnet1", "remote_managed": "False"},
    {"dev_type": "type-PF"},
    {"dev_type": "vdpa"},
    {"product_id": "154c"},
]


def host(present: frozenset[int] = frozenset(range(12))) -> list[SelectedDevice]:
    devices = [
        pf(0),
        *[vf(0, i, physical_network="physnet1") for i in range(4)],
        pf(1, numa=1),
        *[vf(1, i, numa=1, physical_network="physnet1") for i in range(3)],
        *[vf(1, 3 + i, numa=1, vdpa=True) for i in range(2)],
        pf(2, numa=None),
    ]
    return [device for i, device in enumerate(devices) if i in present]


requests = st.lists(
    st.builds(
        lambda n, spec, group, i: PciRequest(n, (SPECS[spec],), request_id=f"r{i}", pf_group=group),
        st.integers(1, 3),
        st.integers(0, len(SPECS) - 1),
        st.sampled_from([None, "ha"]),
        st.integers(0, 1_000_000),
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda r: r.request_id,
)
owners = st.sampled_from(["vm-1", "vm-2", "vm-3", "vm-4"])
operations = st.one_of(
    st.tuples(st.just("claim"), owners, requests),
    st.tuples(st.just("allocate"), owners),
    st.tuples(st.just("release"), owners),
    st.tuples(st.just("move"), owners, owners),
    st.tuples(
        st.just("report"),
        st.frozensets(st.integers(0, 11), min_size=6),
        st.frozensets(st.integers(0, 11)),
    ),
)


def check(inventory: HostInventory) -> None:
    devices = {d.address: d for d in inventory.devices()}
    booked = [
        a for o in inventory.owners() for picked in inventory.devices_of(o).values() for a in picked
    ]
    assert len(booked) == len(set(booked)), "a device is booked twice"
    busy = {a for a, d in devices.items() if d.state in BUSY}
    assert set(booked) == busy
    for owner in inventory.owners():
        assert all(
            devices[a].owner == owner for p in inventory.devices_of(owner).values() for a in p
        )
    pooled = [a for pool in inventory.pools() for a in pool.free]
    assert len(pooled) == len(set(pooled)) == inventory.free_count()
    assert set(pooled) == {a for a, d in devices.items() if d.schedulable}
    for address, device in devices.items():
        parent = devices.get(device.selected.device.parent_addr)  # type: ignore[arg-type]
        if parent is None:
            continue
        if device.state in BUSY:
            assert parent.state in BLOCKED, f"{address} is busy but its PF is {parent.state}"
        if parent.state in BUSY:
            assert device.state in BLOCKED, f"PF of {address} is busy but it is {device.state}"
        if parent.state is DeviceState.AVAILABLE:
            assert device.state is DeviceState.AVAILABLE


@settings(max_examples=150, deadline=None)
@given(st.lists(operations, max_size=25))
def test_no_sequence_of_operations_double_books_a_device(script: list[tuple]) -> None:
    inventory = HostInventory(host())
    for operation in script:
        generation = inventory.generation
        try:
            match operation:
                case ("claim", owner, wanted):
                    inventory.claim(owner, wanted)
                case ("allocate", owner):
                    inventory.allocate(owner)
                case ("release", owner):
                    inventory.release(owner)
                case ("move", owner, new_owner):
                    inventory.move(owner, new_owner)
                case ("report", present, sick):
                    selected = host(present)
                    inventory.apply_report(
                        selected, {s.device.address for i, s in enumerate(selected) if i in sick}
                    )
        except Conflict:
            assert inventory.generation == generation
        except Exception as error:  # NotFound and ValidationError are allowed refusals
            assert type(error).__name__ in {"NotFound", "ValidationError"}, error
            assert inventory.generation == generation
        check(inventory)
