"""The host side of one CNI call: which VF ``deviceID`` is, and the driver and namespace
handles that configure and move it.

The plugin configures VFs as sriov-cni does, itself, on the host it runs on, through the
agent's host-side layers (VF drivers, namespace attachment): the same code, so a VF
reads the same whichever of the two set it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from vfnet.agent.attach.netns import NamespaceOps
from vfnet.agent.drivers.base import VfDriver
from vfnet.cni.config import NetConf
from vfnet.cni.protocol import CniError, Code
from vfnet.discovery.sysfs import SysfsReader
from vfnet.errors import VfnetError
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices

__all__ = ["Host", "HostFactory", "VfPlace", "open_host"]


@dataclass(frozen=True, slots=True)
class VfPlace:
    """Where VF ``device_id`` is: its PF's netdev, its index, its netdev and namespace."""

    device_id: str
    pf: str
    vf: int
    netdev: str
    host_ns: str | None


class _Closable(Protocol):
    def close(self) -> None: ...


@dataclass
class Host:
    """What one call works with; ``close`` lets go of every handle."""

    driver: VfDriver
    ops: NamespaceOps
    place: Callable[[str], VfPlace]  # deviceID -> its place, read when first needed
    closers: tuple[_Closable, ...] = ()

    def close(self) -> None:
        for closer in self.closers:
            closer.close()


HostFactory = Callable[[NetConf], Host]


def open_host(conf: NetConf) -> Host:
    """The real host: sysfs under ``sysfsRoot``, the driver ``driver`` names, rtnetlink."""
    from vfnet.agent.drivers.netns_ops import PyrouteNamespaces

    devices: list[HostDevices] = []

    def read() -> HostDevices:
        if not devices:
            try:
                devices.append(SysfsReader(Path(conf.sysfs_root)).read())
            except VfnetError as error:
                raise CniError(Code.IO_FAILURE, f"sysfsRoot: {error}") from None
        return devices[0]

    driver, host_ns = _driver(conf, read)
    ops = PyrouteNamespaces()
    closers = tuple(c for c in (driver, ops) if hasattr(c, "close"))
    return Host(driver, ops, lambda device_id: locate(read(), device_id, host_ns), closers)  # type: ignore[arg-type]


def _driver(conf: NetConf, read: Callable[[], HostDevices]) -> tuple[VfDriver, str | None]:
    if conf.driver == "eswitch":
        from vfnet.agent.drivers.eswitch import EswitchDriver
        from vfnet.agent.drivers.eswitch_topology import HostSwitch, PfPorts

        assert conf.eswitch is not None
        devices = read()
        ports = tuple(
            PfPorts(pf.ifname or "", conf.eswitch.physnets[pf.ifname or ""],
                    tuple(vf.ifname or "" for vf in devices.vfs_of(pf.address)))
            for pf in devices.pfs()
            if pf.ifname in conf.eswitch.physnets
        )  # fmt: skip
        switch = HostSwitch(conf.eswitch.host, ports)
        if conf.eswitch.fabric is not None:
            switch = HostSwitch(conf.eswitch.host, ports, conf.eswitch.fabric)
        return EswitchDriver(switch), switch.netns
    if conf.driver == "memory":
        from vfnet.agent.drivers.memory import MemoryDriver

        devices = read()
        memory = MemoryDriver()
        memory.add_vfs(
            (devices[vf.parent_addr].ifname or "", vf.vf_index)
            for vf in devices
            if vf.parent_addr is not None and vf.vf_index is not None
        )
        return memory, conf.host_netns
    from vfnet.agent.drivers.netlink import NetlinkDriver

    return NetlinkDriver(conf.host_netns), conf.host_netns


def locate(devices: HostDevices, device_id: str, host_ns: str | None) -> VfPlace:
    """VF ``device_id``'s place, from the host's devices; code 7 when it is no VF here."""
    vf = devices.get(PciAddress.parse(device_id))
    if vf is None:
        raise CniError(Code.INVALID_CONFIG, f"deviceID: no PCI device {device_id} on this host")
    if vf.parent_addr is None or vf.vf_index is None:
        raise CniError(Code.INVALID_CONFIG, f"deviceID: {device_id} is not a VF")
    pf = devices.get(vf.parent_addr)
    if pf is None or pf.ifname is None:
        raise CniError(Code.INVALID_CONFIG, f"deviceID: the PF of {device_id} has no netdev")
    if vf.ifname is None:
        raise CniError(
            Code.INVALID_CONFIG,
            f"deviceID: VF {device_id} has no netdev (driver {vf.driver}); "
            "userspace (DPDK) VFs are not supported",
        )
    return VfPlace(device_id, pf.ifname, vf.vf_index, vf.ifname, host_ns)
