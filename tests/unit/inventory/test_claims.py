"""HostInventory claims: all-or-nothing, generations, pools reacting to PF/VF dependencies."""

from __future__ import annotations

import pytest

from vfnet.errors import (
    InsufficientDevices,
    InvalidDeviceState,
    NotFound,
    StaleGeneration,
    ValidationError,
)
from vfnet.inventory.claims import HostInventory
from vfnet.inventory.layout import Layout
from vfnet.inventory.requests import NumaPolicy, PciRequest
from vfnet.inventory.states import DeviceState, DeviceStatus, claim

from .hosts import card, pf_address, vf_address

DIRECT = {"physical_network": "physnet1", "remote_managed": "False"}
WHOLE_PF = {"dev_type": "type-PF"}


def two_cards() -> HostInventory:
    """PF 0 (numa 0) and PF 1 (numa 1), four physnet1 VFs each."""
    return HostInventory(
        card(0, 4, numa=0, physical_network="physnet1")
        + card(1, 4, numa=1, physical_network="physnet1")
    )


def ports(*counts: int, spec: dict[str, str] = DIRECT, **extra: object) -> list[PciRequest]:
    return [PciRequest(n, (spec,), request_id=f"port-{i}", **extra) for i, n in enumerate(counts)]  # type: ignore[arg-type]


def snapshot(inventory: HostInventory) -> tuple[object, ...]:
    return (
        [(d.address, d.status) for d in inventory.devices()],
        [(p.key, p.free) for p in inventory.pools()],
        {o: inventory.devices_of(o) for o in inventory.owners()},
    )


def test_a_claim_takes_the_last_added_vf_first_and_names_devices_per_request() -> None:
    inventory = two_cards()
    result = inventory.claim("vm-1", ports(1, 2))
    assert result.owner == "vm-1"
    assert result.devices == {
        "port-0": (vf_address(0, 3),),
        "port-1": (vf_address(0, 2), vf_address(0, 1)),
    }
    assert result.generation == inventory.generation == 1
    assert inventory.devices_of("vm-1") == result.devices


@pytest.mark.parametrize(
    ("requests", "free_after"),
    [
        pytest.param(ports(1), 8, id="claiming a vf takes its pf out of the pools"),
        pytest.param(ports(1, spec=WHOLE_PF), 5, id="claiming a pf takes its vfs out of the pools"),
        pytest.param(ports(4, 1), 3, id="vfs of two pfs take both pfs out"),
    ],
)
def test_claims_evict_relatives_from_the_pools(requests: list[PciRequest], free_after: int) -> None:
    inventory = two_cards()
    inventory.claim("vm-1", requests)
    assert inventory.free_count() == free_after
    assert sum(p.count for p in inventory.pools()) == free_after


def test_claiming_a_vf_makes_its_pf_unclaimable() -> None:
    inventory = two_cards()
    inventory.claim("vm-1", ports(1))
    assert inventory.device(pf_address(0)).state is DeviceState.UNCLAIMABLE
    assert not inventory.device(pf_address(0)).schedulable


@pytest.mark.parametrize(
    ("requests", "message"),
    [
        pytest.param(
            ports(9),
            "'vm-1': request 'port-0' needs 9 device\\(s\\); 7 free match it",
            id="more vfs than exist",
        ),
        pytest.param(ports(5, 4), "cannot all be served together", id="requests too many together"),
        pytest.param(
            ports(1, spec={"physical_network": "physnet2"}),
            "0 free match it",
            id="an unknown physnet",
        ),
        pytest.param(ports(3, spec=WHOLE_PF), "needs 3 device", id="more pfs than exist"),
        pytest.param(
            ports(1, 1, 1, pf_group="ha"),
            "cannot all be served together",
            id="three anti-affine ports on two pfs",
        ),
    ],
)
def test_a_claim_that_cannot_be_met_changes_nothing(
    requests: list[PciRequest], message: str
) -> None:
    inventory = two_cards()
    inventory.claim("vm-0", ports(1))
    before, generation = snapshot(inventory), inventory.generation
    with pytest.raises(InsufficientDevices, match=message):
        inventory.claim("vm-1", requests)
    assert snapshot(inventory) == before
    assert inventory.generation == generation


def test_numa_policy_is_applied_with_the_instance_cells() -> None:
    inventory = two_cards()
    required = ports(5, numa_policy=NumaPolicy.REQUIRED)
    with pytest.raises(InsufficientDevices, match="before NUMA policy required"):
        inventory.claim("vm-1", required, numa_cells=frozenset({0}))
    taken = inventory.claim(
        "vm-1", ports(2, numa_policy=NumaPolicy.REQUIRED), numa_cells=frozenset({0})
    )
    assert all(a.bus == 0x3B for a in taken.addresses)


def test_anti_affine_ports_land_on_different_pfs() -> None:
    taken = two_cards().claim("vm-1", ports(1, 1, pf_group="ha"))
    assert {a.bus for a in taken.addresses} == {0x3B, 0x3C}


def test_a_stale_generation_is_refused_and_changes_nothing() -> None:
    inventory = two_cards()
    inventory.claim("vm-0", ports(1))
    with pytest.raises(StaleGeneration, match="generation 1, not 0"):
        inventory.claim("vm-1", ports(1), expected_generation=0)
    assert inventory.generation == 1
    assert inventory.claim("vm-1", ports(1), expected_generation=1).generation == 2


def test_request_ids_must_be_distinct_within_a_claim() -> None:
    with pytest.raises(ValidationError, match="request_id"):
        two_cards().claim("vm-1", [PciRequest(1, (DIRECT,)), PciRequest(1, (DIRECT,))])


def test_release_frees_devices_and_their_relatives_and_is_idempotent() -> None:
    inventory = two_cards()
    empty = snapshot(inventory)
    taken = inventory.claim("vm-1", ports(2, spec=WHOLE_PF))
    assert sorted(inventory.release("vm-1")) == sorted(taken.addresses)
    assert inventory.free_count() == 10
    assert inventory.release("vm-1") == []
    assert inventory.release("nobody") == []
    assert inventory.generation == 2
    assert sorted(map(str, snapshot(inventory)[0])) == sorted(map(str, empty[0]))


def test_a_second_claim_for_the_same_owner_adds_to_its_devices() -> None:
    inventory = two_cards()
    inventory.claim("vm-1", ports(1))
    inventory.claim("vm-1", [PciRequest(1, (DIRECT,), request_id="port-9")])
    assert set(inventory.devices_of("vm-1")) == {"port-0", "port-9"}
    assert len(inventory.release("vm-1")) == 2


def test_allocate_turns_claims_into_allocations_and_blocks_the_pf_harder() -> None:
    inventory = two_cards()
    taken = inventory.claim("vm-1", ports(1))
    assert inventory.allocate("vm-1") == list(taken.addresses)
    assert inventory.device(taken.addresses[0]).status == DeviceStatus(
        DeviceState.ALLOCATED, "vm-1", "port-0"
    )
    assert inventory.device(pf_address(0)).state is DeviceState.UNAVAILABLE
    with pytest.raises(NotFound):
        inventory.allocate("nobody")


def test_move_hands_devices_to_the_new_owner() -> None:
    inventory = two_cards()
    taken = inventory.claim("migration-1", ports(1))
    assert inventory.move("migration-1", "vm-1") == list(taken.addresses)
    assert inventory.owners() == ["vm-1"]
    assert inventory.device(taken.addresses[0]).owner == "vm-1"
    assert inventory.release("migration-1") == []
    assert inventory.release("vm-1") == list(taken.addresses)
    with pytest.raises(NotFound):
        inventory.move("ghost", "vm-2")


def test_free_count_per_request_shape() -> None:
    inventory = two_cards()
    assert inventory.free_count(PciRequest(1, (DIRECT,))) == 8
    assert inventory.free_count(PciRequest(1, (WHOLE_PF,))) == 2


def test_a_loaded_inventory_keeps_owners_and_blocks_relatives() -> None:
    saved = {vf_address(0, 1): DeviceStatus(DeviceState.ALLOCATED, "vm-1", "port-0")}
    inventory = HostInventory(card(0, 4, physical_network="physnet1"), statuses=saved, generation=7)
    assert inventory.devices_of("vm-1") == {"port-0": (vf_address(0, 1),)}
    assert inventory.device(pf_address(0)).state is DeviceState.UNAVAILABLE
    assert inventory.free_count() == 3
    assert inventory.generation == 7


def test_the_journal_rolls_back_statuses_and_pools_exactly() -> None:
    """The undo path a claim takes when a transition fails midway, relatives included."""
    layout = Layout(HostInventory(card(0, 4) + card(1, 4)).devices())
    before = (list(layout.statuses), [list(free) for free in layout.free], list(layout.counts))
    journal = layout.journal()
    vf_slot, pf_slot = layout.slots[vf_address(1, 2)], layout.slots[pf_address(0)]
    journal.apply(claim(layout.statuses, layout.family, vf_slot, "vm-1"))
    journal.apply(claim(layout.statuses, layout.family, pf_slot, "vm-1"))
    with pytest.raises(InvalidDeviceState):
        journal.apply(claim(layout.statuses, layout.family, vf_slot, "vm-2"))
    assert layout.counts == [0, 0, 0, 3]  # PF 0 and its VFs out, PF 1 out, 3 VFs of PF 1 left
    journal.rollback()
    assert (layout.statuses, layout.free, layout.counts) == before
