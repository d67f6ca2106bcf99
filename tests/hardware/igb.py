"""The igb guest's PFs and VFs: waiting for them, creating VFs, and iproute2's view of them."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vfnet.discovery.sysfs import SysfsReader
from vfnet.discovery.writer import KernelNumVfs
from vfnet.network.vf_settings import LinkState, VfSettings
from vfnet.pci.address import PciAddress

IGB_PF = ("8086", "10c9")  # Intel 82576; its VFs are 8086:10ca
SYS = Path("/sys")


@dataclass(frozen=True)
class IgbPf:
    address: PciAddress
    ifname: str


def run(*argv: str) -> str:
    return subprocess.run(argv, check=True, capture_output=True, text=True).stdout


def wait_for(what: str, ready: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not ready after {seconds:.0f}s")
        time.sleep(0.1)


def netdevs(address: PciAddress) -> list[str]:
    path = SYS / "bus/pci/devices" / str(address) / "net"
    return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


def carrier(ifname: str) -> bool:
    try:
        return (SYS / "class/net" / ifname / "carrier").read_text().strip() == "1"
    except OSError:  # EINVAL while the link is down
        return False


def set_vfs(pf: IgbPf, count: int) -> None:
    """``count`` VFs on ``pf``, each bound to igbvf with a netdev."""
    writer = KernelNumVfs(SYS)
    if writer.read_num_vfs(pf.address) != count:
        writer.set_num_vfs(pf.address, 0)
        if count:
            writer.set_num_vfs(pf.address, count)

    def bound() -> bool:
        vfs = SysfsReader(SYS).read().vfs_of(pf.address)
        return len(vfs) == count and all(vf.ifname for vf in vfs)

    wait_for(f"{count} VF netdevs on {pf.ifname}", bound)


def ip_vf_table(ifname: str) -> dict[int, VfSettings]:
    """The VF table as iproute2 prints it (``ip -j -d link show``), as VfSettings."""
    (link,) = json.loads(run("ip", "-j", "-d", "link", "show", "dev", ifname))
    table = {}
    for vf in link.get("vfinfo_list", []):
        vlan = (vf.get("vlan_list") or [{}])[0]  # [{}] when the VLAN is 0
        rate = vf.get("rate", {})
        table[vf["vf"]] = VfSettings(
            mac=vf["address"],
            vlan=vlan.get("vlan", 0),
            qos=vlan.get("qos", 0),
            vlan_proto=vlan.get("protocol", "802.1Q"),
            spoofchk=vf["spoofchk"],
            trust=vf["trust"],
            min_tx_rate=rate.get("min_tx", 0),
            max_tx_rate=rate.get("max_tx", 0),
            link_state=LinkState(vf["link_state"]),
        )
    return table
