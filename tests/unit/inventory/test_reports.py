"""Folding new device reports into a host inventory: additions, vanishings, deferrals, health."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vfnet.errors import ValidationError
from vfnet.inventory.claims import HostInventory
from vfnet.inventory.requests import PciRequest
from vfnet.inventory.states import DeviceState
from vfnet.pci.devices import DeviceType

from .hosts import card, pf_address, vf, vf_address

DIRECT = {"physical_network": "physnet1", "remote_managed": "False"}


def claimed_host() -> HostInventory:
    """PF 0 with 4 physnet1 VFs; 'vm-1' holds VF 3 (the last added)."""
    inventory = HostInventory(card(0, 4, physical_network="physnet1"))
    inventory.claim("vm-1", [PciRequest(1, (DIRECT,), request_id="port-1")])
    return inventory


def test_a_report_naming_an_address_twice_is_refused_and_names_it() -> None:
    inventory = claimed_host()
    report = [*card(0, 4, physical_network="physnet1"), vf(0, 2)]
    with pytest.raises(ValidationError, match=r"address: 0000:3b:02\.2 is reported more than once"):
        inventory.apply_report(report)
    assert inventory.generation == 1
    with pytest.raises(ValidationError, match=r"0000:3b:02\.0"):
        HostInventory([vf(0, 0), vf(0, 0)])


def test_new_devices_arrive_available_and_pooled() -> None:
    inventory = claimed_host()
    result = inventory.apply_report(card(0, 6, physical_network="physnet1"))
    assert result.added == (vf_address(0, 4), vf_address(0, 5))
    assert result.generation == inventory.generation == 2
    assert inventory.free_count() == 5  # VFs 0-2, 4, 5; the PF is still blocked by VF 3


def test_vanished_free_devices_go() -> None:
    inventory = claimed_host()
    result = inventory.apply_report(
        [*card(0, 4, physical_network="physnet1")[:3], vf(0, 3, physical_network="physnet1")]
    )
    assert result.removed == (vf_address(0, 2),)
    with pytest.raises(Exception, match="not found"):
        inventory.device(vf_address(0, 2))


def test_a_vanished_claimed_device_is_kept_flagged_until_its_release() -> None:
    inventory = claimed_host()
    result = inventory.apply_report(card(0, 3, physical_network="physnet1"))
    assert result.vanished == (vf_address(0, 3),)
    kept = inventory.device(vf_address(0, 3))
    assert (kept.vanished, kept.state, kept.owner) == (True, DeviceState.CLAIMED, "vm-1")
    assert inventory.device(pf_address(0)).state is DeviceState.UNCLAIMABLE
    assert inventory.release("vm-1") == [vf_address(0, 3)]
    assert [d.address for d in inventory.devices()] == [pf_address(0)] + [
        vf_address(0, i) for i in range(3)
    ]
    assert inventory.device(pf_address(0)).state is DeviceState.AVAILABLE
    assert inventory.free_count() == 4


def test_a_vanished_device_that_comes_back_is_no_longer_flagged() -> None:
    inventory = claimed_host()
    inventory.apply_report(card(0, 3, physical_network="physnet1"))
    inventory.apply_report(card(0, 4, physical_network="physnet1"))
    assert not inventory.device(vf_address(0, 3)).vanished


def test_changed_properties_of_a_busy_device_wait_for_its_release() -> None:
    inventory = claimed_host()
    report = card(0, 4, physical_network="physnet1")
    report[-1] = vf(0, 3, physical_network="physnet2")  # VF 3 is the claimed one
    report[1] = vf(0, 0, physical_network="physnet2")  # VF 0 is free
    result = inventory.apply_report(report)
    assert (result.deferred, result.updated) == ((vf_address(0, 3),), (vf_address(0, 0),))
    assert inventory.device(vf_address(0, 3)).selected.physical_network == "physnet1"
    assert inventory.device(vf_address(0, 0)).selected.physical_network == "physnet2"
    inventory.release("vm-1")
    assert inventory.device(vf_address(0, 3)).selected.physical_network == "physnet2"
    assert inventory.free_count(PciRequest(1, (DIRECT,))) == 2


def test_unhealthy_devices_are_never_schedulable() -> None:
    inventory = HostInventory(card(0, 2, physical_network="physnet1"))
    inventory.apply_report(card(0, 2, physical_network="physnet1"), unhealthy={vf_address(0, 1)})
    sick = inventory.device(vf_address(0, 1))
    assert (sick.state, sick.healthy, sick.schedulable) == (DeviceState.AVAILABLE, False, False)
    taken = inventory.claim("vm-1", [PciRequest(1, (DIRECT,))])
    assert taken.addresses == (vf_address(0, 0),)
    inventory.release("vm-1")
    assert [p.free for p in inventory.pools() if p.dev_type == "type-VF"] == [[vf_address(0, 0)]]


def test_an_unhealthy_device_can_still_be_released_by_its_owner() -> None:
    inventory = claimed_host()
    inventory.apply_report(card(0, 4, physical_network="physnet1"), unhealthy={vf_address(0, 3)})
    assert inventory.release("vm-1") == [vf_address(0, 3)]
    assert not inventory.device(vf_address(0, 3)).schedulable


def test_a_report_turning_a_pci_device_into_a_pf_moves_it_to_a_pf_pool() -> None:
    (pf,) = card(0, 0)
    inventory = HostInventory([replace(pf, device=replace(pf.device, dev_type=DeviceType.PCI))])
    result = inventory.apply_report([pf])
    assert result.updated == (pf_address(0),)
    assert [(p.dev_type, p.count) for p in inventory.pools()] == [("type-PF", 1)]
