"""Host selection speed: resourceList pools and a whole host config on 8 PFs x 128 VFs.

Prints JSON lines: milliseconds per ResourceList.select and per HostConfig.select (with
physnet mappings, exclusions and VF ranges), and devices selected.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sized

from vfnet.config import parse_host_config
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, HostDevices, Netdev, PciDevice, SriovCapability
from vfnet.pci.selectors import parse_resource_list

PFS = 8
VFS_PER_PF = 128
ROUNDS = 20


def big_host() -> HostDevices:
    devices = []
    for n in range(PFS):
        pf = PciAddress(0, 0x10 + n * 2, 0, 0)
        sriov = SriovCapability(VFS_PER_PF, VFS_PER_PF, 8, 1, "1889")
        devices.append(
            PciDevice(pf, DeviceType.PF, "8086", "159b", driver="ice",
                      netdevs=(Netdev(f"ens{n}f0"),), sriov=sriov)
        )  # fmt: skip
        for index in range(VFS_PER_PF):
            address = PciAddress.from_rid(0, pf.rid + 8 + index)
            devices.append(
                PciDevice(address, DeviceType.VF, "8086", "1889", driver="iavf",
                          parent_addr=pf, vf_index=index, netdevs=(Netdev(f"ens{n}f0v{index}"),))
            )  # fmt: skip
    return HostDevices.of(devices)


def pool(n: int) -> dict[str, object]:
    """VFs 0-31 and 64-95 by PF name, 32-63 by PF address; 96-127 fall to the last pool."""
    root = f"0000:{0x10 + n * 2:02x}:00.0#32-63"
    selectors = [{"pfNames": [f"ens{n}f0#0-31,64-95"]}, {"rootDevices": [root]}]
    return {"resourceName": f"pool{n}", "selectors": selectors}


RESOURCE_LIST = {
    "resourceList": [pool(n) for n in range(PFS)]
    + [{"resourceName": "rest", "selectors": {"vendors": ["8086"], "devices": ["1889"]}}]
}


def per_call_ms(call: Callable[[], Sized]) -> float:
    start = time.perf_counter()
    for _ in range(ROUNDS):
        call()
    return (time.perf_counter() - start) / ROUNDS * 1000


def main() -> None:
    host = big_host()
    resource_list = parse_resource_list(RESOURCE_LIST)
    mappings = ",".join(f"physnet{n % 2}:ens{n}f0" for n in range(PFS))
    config = parse_host_config(
        {"sriov_nic": {"physical_device_mappings": mappings,
                       "exclude_devices": "ens0f0:0000:10:01.0;0000:10:01.1"},
         "device_plugin": RESOURCE_LIST},
        "bench.toml", hostname="bench",
    )  # fmt: skip
    for name, call in (
        ("resource_list_select", lambda: resource_list.select(host)),
        ("host_config_select", lambda: config.select(host)),
    ):
        print(json.dumps({
            "bench": name, "devices": len(host), "selected": len(call()),
            "ms_per_select": round(per_call_ms(call), 2),
        }))  # fmt: skip


if __name__ == "__main__":
    main()
