"""Releasing a claim whose device vanished renumbers the host's devices; owners stay right."""

from vfnet.inventory.claims import HostInventory
from vfnet.inventory.requests import PciRequest

from .hosts import pf, vf, vf_address

PHYSNET1 = {"physical_network": "physnet1", "remote_managed": "False"}


def card(vfs: range = range(4)) -> list:
    return [pf(0), *[vf(0, i, physical_network="physnet1") for i in vfs]]


def test_releasing_one_vanished_device_leaves_the_other_owners_vanished_device_booked():
    inventory = HostInventory(card())
    for owner in ("vm-1", "vm-2", "vm-1"):  # the last VF added is taken first: 3, 2, 1
        inventory.claim(owner, [PciRequest(1, (PHYSNET1,), request_id="r0")])
    assert inventory.devices_of("vm-2") == {"r0": (vf_address(0, 2),)}
    # VFs 2 and 3 disappear from the next report while claimed: kept, flagged vanished.
    inventory.apply_report(card(range(2)))
    assert inventory.release("vm-2") == [vf_address(0, 2)]
    assert set(inventory.devices_of("vm-1")["r0"]) == {vf_address(0, 1), vf_address(0, 3)}
    owned = {d.address for d in inventory.devices() if d.owner == "vm-1"}
    assert owned == {vf_address(0, 1), vf_address(0, 3)}
    assert vf_address(0, 2) not in {d.address for d in inventory.devices()}
