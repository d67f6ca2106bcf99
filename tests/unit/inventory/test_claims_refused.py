"""A claim keeps a request off the PFs that refused a VF attribute it needs."""

from __future__ import annotations

import pytest

from vfnet.errors import InsufficientDevices
from vfnet.inventory.claims import HostInventory
from vfnet.inventory.requests import PciRequest
from vfnet.pci.address import PciAddress

from .hosts import card, pf_address

DIRECT = {"physical_network": "physnet1", "remote_managed": "False"}
PF0, PF1 = str(pf_address(0)), str(pf_address(1))


def two_cards() -> HostInventory:
    return HostInventory(
        card(0, 2, physical_network="physnet1") + card(1, 2, physical_network="physnet1")
    )


def port(port_id: str, *needs: str, count: int = 1, group: str | None = None) -> PciRequest:
    return PciRequest(
        count, (DIRECT,), request_id=port_id, vf_needs=frozenset(needs), pf_group=group
    )


def pfs_of(inventory: HostInventory, addresses: tuple[PciAddress, ...]) -> set[str]:
    return {str(inventory.device(a).selected.device.parent_addr) for a in addresses}


def test_a_request_needing_a_refused_attribute_takes_vfs_of_another_pf() -> None:
    inventory = two_cards()
    claim = inventory.claim("vm", [port("p1", "min_tx_rate")], refused={PF0: {"min_tx_rate"}})
    assert pfs_of(inventory, claim.addresses) == {PF1}


def test_a_request_needing_nothing_refused_still_takes_the_pf_first_in_line() -> None:
    inventory = two_cards()
    plain = inventory.claim("vm", [port("p1")], refused={PF0: {"min_tx_rate"}})
    limited = inventory.claim("vm2", [port("p2", "rate")], refused={PF0: {"min_tx_rate"}})
    assert pfs_of(inventory, plain.addresses) == pfs_of(inventory, limited.addresses) == {PF0}


def test_requests_in_order_and_in_a_group_avoid_refusing_pfs_too() -> None:
    refused = {PF0: {"mirror"}}
    inventory = two_cards()
    claim = inventory.claim("vm", [port("a"), port("b", "mirror", count=2)], refused=refused)
    assert pfs_of(inventory, claim.devices["b"]) == {PF1}
    grouped = two_cards()
    pair = [port("a", "mirror", group="g"), port("b", group="g")]
    claim = grouped.claim("vm", pair, refused=refused)
    assert pfs_of(grouped, claim.devices["a"]) == {PF1}
    assert pfs_of(grouped, claim.devices["b"]) == {PF0}


def test_a_claim_every_pf_refused_says_which_pf_refused_what() -> None:
    inventory = two_cards()
    refused = {PF0: {"link_state"}, PF1: {"link_state", "rate"}}
    with pytest.raises(InsufficientDevices) as failed:
        inventory.claim("vm", [port("p1", "link_state")], refused=refused)
    assert str(failed.value) == (
        "'vm': request 'p1' needs 1 device(s) on PFs that can set link_state; "
        f"PF {PF0} refused link_state; PF {PF1} refused link_state"
    )
