"""``vfnet-agent --show-vfs``: a host's VF tables as its driver reads them, printed the way
``ip -d link show`` prints a PF, so what the agent sees reads like what an operator knows;
``--show-vms``: the devices of the domains the agent defines for the host's VMs.

The netlink and eswitch drivers read the tables from the kernel, as a reconcile pass
does. The memory driver keeps its tables inside the running agent, where no other
process can read them: for it the table shown is what the server's desired state asks
of each VF (the rest at reset), which that agent reports ACTIVE only once it read it back.

A VM's domain lives in the agent's hypervisor connection (libvirt's test driver keeps
it inside the agent's process); ``--show-vms`` builds each domain from the server's
desired state with the agent's own code on a hypervisor in memory, so it shows what
the agent defines and plugs, whichever hypervisor the agent runs.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from vfnet.agent.attach.domain_xml_edit import plugged_devices
from vfnet.agent.attach.memory_hypervisor import MemoryHypervisor
from vfnet.agent.desired import DesiredState, parse_desired
from vfnet.agent.inventory import select_devices
from vfnet.agent.loop import Discovery
from vfnet.agent.numvfs import find_pf
from vfnet.agent.settings import agent_settings
from vfnet.agent.vms import VmPlugger
from vfnet.client import Client
from vfnet.config import load_host_config
from vfnet.discovery.sysfs import SysfsReader
from vfnet.errors import ValidationError
from vfnet.network.vf_settings import RESET, VfSettings
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import Netdev

BROADCAST = "ff:ff:ff:ff:ff:ff"
SOURCES = {
    "netlink": "read from the kernel (netlink)",
    "eswitch": "read from the host's software switch",
    "memory": "the server's desired state (the memory driver's tables live in its agent)",
}

TableReader = Callable[[str], Mapping[int, VfSettings]]  # PF netdev -> VF index -> settings


@dataclass(frozen=True, slots=True)
class PfTable:
    """One PF: its address, its netdev as discovery found it, and its VF table."""

    address: PciAddress
    netdev: Netdev
    vfs: Mapping[int, VfSettings]


def vf_line(vf: int, settings: VfSettings) -> str:
    """One ``vf N`` line, its fields in iproute2's order, the optional ones only when set."""
    fields = [f"vf {vf}     link/ether {settings.mac} brd {BROADCAST}"]
    if settings.vlan:
        fields.append(f"vlan {settings.vlan}")
    if settings.qos:
        fields.append(f"qos {settings.qos}")
    if settings.vlan_proto != "802.1Q":
        fields.append(f"vlan protocol {settings.vlan_proto}")
    if settings.max_tx_rate:
        fields.append(f"tx rate {settings.max_tx_rate} (Mbps)")
        fields.append(f"max_tx_rate {settings.max_tx_rate}Mbps")
    if settings.min_tx_rate:
        fields.append(f"min_tx_rate {settings.min_tx_rate}Mbps")
    fields.append(f"spoof checking {'on' if settings.spoofchk else 'off'}")
    fields.append(f"link-state {settings.link_state}")
    fields.append(f"trust {'on' if settings.trust else 'off'}")
    return ", ".join(fields)


def pf_lines(table: PfTable) -> list[str]:
    """The PF's link, its PCI parent (``ip -d``) and a line per VF."""
    netdev = table.netdev
    up = netdev.operstate == "up"
    flags = "<BROADCAST,MULTICAST,UP,LOWER_UP>" if up else "<BROADCAST,MULTICAST>"
    state = (netdev.operstate or "unknown").upper()
    lines = [
        f"{netdev.name}: {flags} mtu {netdev.mtu or 1500} state {state} mode DEFAULT",
        f"    link/ether {netdev.mac or '00:00:00:00:00:00'} brd {BROADCAST}",
        f"    parentbus pci parentdev {table.address}",
    ]
    lines += [f"    {vf_line(vf, settings)}" for vf, settings in sorted(table.vfs.items())]
    return lines


def discover(config_path: Path, host: str | None) -> tuple[str, Discovery]:
    """The host's name and what a full inventory pass finds (nothing is written or sent)."""
    config = load_host_config(config_path, hostname=host)
    found = SysfsReader(config.sysfs_root).read()
    return host or config.name, Discovery(found, select_devices(config, found), config, 1)


def chosen_pfs(discovery: Discovery, keys: Sequence[str]) -> list[PciAddress]:
    """The PFs named (netdev or PCI address), else every PF with a VF the agent manages.

    Raises:
        ValidationError: a PF named is not on this host.
    """
    if not keys:
        netdevs = {where.pf for where in discovery.managed().values()}
        pfs = [pf for pf in discovery.host.pfs() if pf.ifname in netdevs]
        return sorted(pf.address for pf in pfs)
    chosen = []
    for key in keys:
        pf = find_pf(key, discovery.host)
        if pf is None or not pf.netdevs:
            raise ValidationError("--pf", f"{key!r} is not a PF with a netdev on this host")
        chosen.append(pf.address)
    return chosen


def read_tables(
    discovery: Discovery, pfs: Sequence[PciAddress], read: TableReader
) -> list[PfTable]:
    tables = []
    for address in pfs:
        pf = discovery.host.get(address)
        assert pf is not None and pf.netdevs  # chosen_pfs kept only these
        tables.append(PfTable(address, pf.netdevs[0], read(pf.netdevs[0].name)))
    return tables


def desired_tables(discovery: Discovery, desired: DesiredState) -> TableReader:
    """Tables as the desired state asks: each claimed VF's settings, every other at reset."""
    by_location = {
        where: desired.claimed[address].settings if address in desired.claimed else RESET
        for address, where in discovery.managed().items()
    }

    def read(pf: str) -> Mapping[int, VfSettings]:
        return {vf: settings for (name, vf), settings in by_location.items() if name == pf}

    return read


def show_vfs(
    config_path: Path,
    host: str | None,
    driver: str,
    pfs: Sequence[str],
    desired: Callable[[str], object] | None = None,
) -> str:
    """The text ``--show-vfs`` prints; ``desired`` fetches a host's desired state document
    (needed by the memory driver only).

    Raises:
        ValidationError: a PF named is not here, or the memory driver has no server.
        DriverError: the driver cannot read a table (no switch, a PF gone).
    """
    name, discovery = discover(config_path, host)
    chosen = chosen_pfs(discovery, pfs)
    tables = read_tables(discovery, chosen, _reader(driver, name, discovery, desired))
    lines = [f"# {name}: VF tables, {SOURCES[driver]}"]
    for table in tables:
        lines += pf_lines(table)
    return "\n".join(lines)


def _reader(
    driver: str, host: str, discovery: Discovery, desired: Callable[[str], object] | None
) -> TableReader:
    if driver == "memory":
        if desired is None:
            raise ValidationError("--server", "the memory driver's tables need the server")
        return desired_tables(discovery, parse_desired(desired(host)))
    if driver == "eswitch":
        from vfnet.agent.drivers.eswitch import EswitchDriver
        from vfnet.agent.main import host_switch

        return EswitchDriver(host_switch(host, discovery)).read
    from vfnet.agent.drivers.netlink import NetlinkDriver

    return NetlinkDriver().read


def vf_tables(
    config_path: Path,
    host: str | None,
    driver: str,
    pfs: Sequence[str],
    server: str | None,
    token: str | None,
    token_file: Path | None,
) -> str:
    """``--show-vfs`` from its command line: the server is asked only by the memory driver."""
    if driver != "memory":
        return show_vfs(config_path, host, driver, pfs)
    settings = agent_settings(
        config_path=config_path, server_url=server, token=token, token_file=token_file,
        host=host, driver=driver,
    )  # fmt: skip
    with Client(settings.server_url, settings.token) as client:
        return show_vfs(config_path, host, driver, pfs, client.get_desired)


def show_vms(config_path: Path, host: str | None, desired: Callable[[str], object]) -> str:
    """Per VM the desired state puts on this host, the interfaces and PCI hostdevs of the
    domain the agent defines for it, and what it could not plug."""
    name, discovery = discover(config_path, host)
    hypervisor = MemoryHypervisor()
    problems = VmPlugger(hypervisor).sync(parse_desired(desired(name)), discovery)
    lines = [f"# {name}: the domains the agent defines for its VMs (from the desired state)"]
    for vm in sorted(hypervisor.names()):
        lines.append(f"<domain name='{vm}'> devices:")
        for xml in plugged_devices(hypervisor.xml(vm, inactive=True)).values():
            device = ET.fromstring(xml)
            ET.indent(device)
            lines += [f"  {line}" for line in ET.tostring(device, encoding="unicode").splitlines()]
    lines += [f"not plugged: {reason}" for reason in problems.values()]
    return "\n".join(lines)


def vm_domains(
    config_path: Path, host: str | None, server: str | None, token: str | None,
    token_file: Path | None,
) -> str:  # fmt: skip
    """``--show-vms`` from its command line."""
    settings = agent_settings(
        config_path=config_path, server_url=server, token=token, token_file=token_file, host=host
    )
    with Client(settings.server_url, settings.token) as client:
        return show_vms(config_path, host, client.get_desired)
