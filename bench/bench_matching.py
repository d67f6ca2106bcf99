"""How long device_spec matching takes per device on a 4 PF x 64 VF host (one JSON line)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable

from vfnet.pci.address import PciAddress
from vfnet.pci.device_spec import parse_device_specs
from vfnet.pci.devices import DeviceType, HostDevices, Netdev, PciDevice, SriovCapability

PFS = 4
VFS_PER_PF = 64
REPETITIONS = 400

# Mixed, as operators write them: a glob, a regex, a PF address with the VF ids,
# a devname and a vendor-only catch-all. Most VFs fall through to the last one.
DEVICE_SPEC = [
    '{"address": "0000:3c:01.*", "physical_network": "physnet1"}',
    '{"address": {"bus": "3d", "slot": "0[0-3]"}, "physical_network": "physnet2"}',
    '{"address": "0000:3b:00.2", "vendor_id": "8086", "product_id": "154c",'
    ' "physical_network": "physnet3"}',
    '{"devname": "ens1f3", "physical_network": "physnet4", "trusted": "true"}',
    '{"vendor_id": "8086", "physical_network": "physnet5"}',
]


def x710_host() -> HostDevices:
    """PFs 0000:3b:00.0-3 (8086:1572); PF n's VFs on bus 3c+n (8086:154c)."""
    devices = []
    for n in range(PFS):
        pf_addr = PciAddress(0, 0x3B, 0, n)
        devices.append(
            PciDevice(
                address=pf_addr,
                dev_type=DeviceType.PF,
                vendor_id="8086",
                product_id="1572",
                driver="i40e",
                numa_node=0,
                netdevs=(Netdev(f"ens1f{n}"),),
                sriov=SriovCapability(VFS_PER_PF, VFS_PER_PF, 0x80, 1, "154c"),
            )
        )
        for vf in range(VFS_PER_PF):
            devices.append(
                PciDevice(
                    address=PciAddress.from_rid(0, (0x3C + n) << 8 | vf),
                    dev_type=DeviceType.VF,
                    vendor_id="8086",
                    product_id="154c",
                    driver="iavf",
                    numa_node=0,
                    netdevs=(Netdev(f"ens1f{n}v{vf}"),),
                    parent_addr=pf_addr,
                    vf_index=vf,
                )
            )
    return HostDevices.of(devices)


def best_ns(action: Callable[[], object], repetitions: int) -> float:
    """CPU time of one call, the best of five rounds (CPU time: the host is shared)."""
    best = float("inf")
    for _ in range(5):
        start = time.process_time_ns()
        for _ in range(repetitions // 5):
            action()
        best = min(best, (time.process_time_ns() - start) / (repetitions // 5))
    return best


def main() -> None:
    host = x710_host()
    specs = parse_device_specs(DEVICE_SPEC)
    selected = specs.select(host)
    per_physnet = Counter(str(item.tags["physical_network"]) for item in selected)
    select_ns = best_ns(lambda: specs.select(host), REPETITIONS)
    match_ns = best_ns(lambda: [specs.match(device, host) for device in host], REPETITIONS // 4)
    print(
        json.dumps(
            {
                "benchmark": "device_spec_select",
                "devices": len(host),
                "specs": len(specs),
                "selected": len(selected),
                "per_physnet": dict(sorted(per_physnet.items())),
                "repetitions": REPETITIONS,
                "ns_per_device": round(select_ns / len(host), 1),
                "match_ns_per_device": round(match_ns / len(host), 1),
                "target_ns_per_device": 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
