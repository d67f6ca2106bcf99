"""An admin frees a VF stuck releasing, without its agent's verification, and the host says so."""

from __future__ import annotations

import pytest

from tests.functional.store.synthetic import host_report
from vfnet.errors import InvalidDeviceState, NotFound
from vfnet.inventory.requests import PciRequest
from vfnet.pci.address import PciAddress
from vfnet.store import Store

HOST = "compute-1"
VF = PciRequest(1, ({"dev_type": "type-VF"},), request_id="port")


@pytest.fixture
def store_with_host(store: Store) -> Store:
    store.register_host(HOST, manages_vfs=True)
    store.report_inventory(HOST, 1, host_report(1, 2))
    return store


def released_vf(store: Store) -> PciAddress:
    [address] = store.claim(HOST, "port:a", [VF]).addresses
    store.release("port:a")
    return address


def test_a_releasing_vf_forced_free_is_available_again(store_with_host: Store) -> None:
    store = store_with_host
    vf = released_vf(store)
    freed = store.force_release(HOST, vf)
    assert (freed.state, freed.owner) == ("available", None)
    assert store.get_device(HOST, freed.reported.parent_addr).state == "available"


def test_the_host_s_problems_say_the_vf_was_freed_unverified(store_with_host: Store) -> None:
    store = store_with_host
    vf = released_vf(store)
    store.force_release(HOST, vf)
    assert store.get_host(HOST).problems == (
        f"{vf} freed by an admin without a verified reset (claim generation 1): "
        "its VF may keep the last owner's settings",
    )


def test_a_forced_release_leaves_the_desired_state_without_the_vf(store_with_host: Store) -> None:
    store = store_with_host
    vf = released_vf(store)
    before = store.desired_generation(HOST)
    store.force_release(HOST, vf)
    assert store.desired_generation(HOST) > before
    assert vf not in store.desired_inputs(HOST).released


@pytest.mark.parametrize("owned", [True, False], ids=["claimed", "available"])
def test_a_vf_that_is_not_releasing_is_refused_with_its_state(
    store_with_host: Store, owned: bool
) -> None:
    store = store_with_host
    if owned:
        [vf] = store.claim(HOST, "port:a", [VF]).addresses
    else:
        vf = released_vf(store)
        store.force_release(HOST, vf)
    state = "claimed" if owned else "available"
    with pytest.raises(InvalidDeviceState, match=f"is {state}, not releasing"):
        store.force_release(HOST, vf)
    assert store.get_device(HOST, vf).state == state


def test_an_unknown_device_or_host_is_not_found(store_with_host: Store) -> None:
    with pytest.raises(NotFound, match=f"device '{HOST}/0000:99:00.0'"):
        store_with_host.force_release(HOST, PciAddress.parse("0000:99:00.0"))
    with pytest.raises(NotFound, match="host 'nowhere'"):
        store_with_host.force_release("nowhere", PciAddress.parse("0000:99:00.0"))
