"""Claim speed on one host: 4 X710 PFs with 64 VFs each, the VFs of two PFs on physnet1.

Prints JSON lines: microseconds per claim of 2 VFs (mean and median over 1,000 claims),
for claim + release cycles and for claiming until physnet1 runs dry then releasing all;
then a check that no device ended up booked twice and that the counts add up.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable

from vfnet.inventory.claims import HostInventory
from vfnet.inventory.requests import PciRequest
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, PciDevice
from vfnet.pci.selection import SelectedDevice

PFS = 4
VFS_PER_PF = 64
CLAIMS = 1000
PORT_PAIR = [
    PciRequest(2, ({"physical_network": "physnet1", "remote_managed": "False"},), request_id="pair")
]


def x710_host() -> list[SelectedDevice]:
    selected = []
    for pf_index in range(PFS):
        pf = PciAddress(0, 0x3B + pf_index, 0, 0)
        numa = pf_index // 2
        selected.append(
            SelectedDevice(PciDevice(pf, DeviceType.PF, "8086", "1572", numa_node=numa))
        )
        tags = {"physical_network": "physnet1"} if pf_index < 2 else {}
        for vf_index in range(VFS_PER_PF):
            address = PciAddress(0, pf.bus, 2 + vf_index // 8, vf_index % 8)
            vf = PciDevice(
                address,
                DeviceType.VF,
                "8086",
                "154c",
                numa_node=numa,
                parent_addr=pf,
                vf_index=vf_index,
            )
            selected.append(SelectedDevice(vf, tags))
    return selected


def timed_claim(inventory: HostInventory, owner: str, spent: list[int]) -> None:
    start = time.perf_counter_ns()
    inventory.claim(owner, PORT_PAIR)
    spent.append(time.perf_counter_ns() - start)


def cycles(inventory: HostInventory, spent: list[int]) -> None:
    for n in range(CLAIMS):
        timed_claim(inventory, f"vm-{n}", spent)
        inventory.release(f"vm-{n}")


def until_exhausted(inventory: HostInventory, spent: list[int]) -> None:
    held: list[str] = []
    for n in range(CLAIMS):
        if inventory.free_count(PORT_PAIR[0]) < PORT_PAIR[0].count:
            for owner in held:
                inventory.release(owner)
            held.clear()
        timed_claim(inventory, f"vm-{n}", spent)
        held.append(f"vm-{n}")


def verify(inventory: HostInventory) -> dict[str, int]:
    """No device booked twice, owners agree with states, and pools hold the free ones."""
    devices = inventory.devices()
    booked = Counter(
        address
        for owner in inventory.owners()
        for picked in inventory.devices_of(owner).values()
        for address in picked
    )
    assert all(count == 1 for count in booked.values()), "a device is booked twice"
    assert set(booked) == {d.address for d in devices if d.status.busy}, "owners and states differ"
    states = Counter(d.state.value for d in devices)
    assert inventory.free_count() == states["available"], "pools and states differ"
    return {"devices": len(devices), "booked": len(booked), **states}


def run(mode: str, drive: Callable[[HostInventory, list[int]], None]) -> HostInventory:
    inventory = HostInventory(x710_host())
    drive(inventory, inventory_spent := [])
    figures = {
        "figure": "claim_2vf_us",
        "mode": mode,
        "claims": len(inventory_spent),
        "mean_us": round(statistics.fmean(inventory_spent) / 1000, 2),
        "median_us": round(statistics.median(inventory_spent) / 1000, 2),
    }
    print(json.dumps(figures))
    return inventory


def main() -> None:
    run("claim+release cycles", cycles)
    inventory = run("claim until physnet1 is dry, release all, repeat", until_exhausted)
    print(
        json.dumps({"figure": "verified", "generation": inventory.generation, **verify(inventory)})
    )


if __name__ == "__main__":
    main()
