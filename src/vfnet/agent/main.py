"""``vfnet-agent``: one per host; discovers, creates VFs, reports, reconciles VF settings and
brings VF netdevs into containers' namespaces and home again.

Where VF netdevs live per driver: netlink, a NIC's VFs in the init namespace under the
names discovery reads; eswitch, the emulated host's switch namespace ``vfnet-<host>``
under the names its switch gave them (discovery's, as :func:`host_switch` lays out);
memory, namespaces kept in memory, seeded with the VFs discovery finds.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

import click

from vfnet.agent.attach.containers import Home, Outcome, remove_namespace
from vfnet.agent.attach.memory_netns import MemoryNamespaces
from vfnet.agent.attach.netns import NamespaceOps
from vfnet.agent.attach.own import container_netns
from vfnet.agent.attachments import Attachments, InstancePlugger, discovered_names
from vfnet.agent.drivers.base import VfDriver
from vfnet.agent.drivers.memory import MemoryDriver
from vfnet.agent.loop import Agent, Discovery
from vfnet.agent.numvfs import find_pf
from vfnet.agent.plan import VfLocation
from vfnet.agent.pluggers import DOMAIN_TYPES, PluggerChoice
from vfnet.agent.serve import DriverKeeper, Reconciler, serve
from vfnet.agent.settings import DRIVERS, AgentSettings, agent_settings
from vfnet.client import Client
from vfnet.config import load_host_config
from vfnet.errors import ConfigError, DriverError, ValidationError
from vfnet.pci.address import PciAddress

if TYPE_CHECKING:
    from vfnet.agent.drivers.eswitch import EswitchDriver
    from vfnet.agent.drivers.eswitch_topology import HostSwitch

log = logging.getLogger("vfnet.agent")

CONFIG_ERROR = 2
NEEDS_ROOT = "needs root to build the host's switch (network namespaces); use --driver memory"
NEEDS_CAPS = "moving VF netdevs between namespaces needs CAP_NET_ADMIN and CAP_SYS_ADMIN"
# CAP_NET_ADMIN (links, tc, nftables) and CAP_SYS_ADMIN (network namespaces).
_SWITCH_CAPS = (1 << 12) | (1 << 21)


def can_build_switches(status: Path = Path("/proc/self/status")) -> bool:
    """Whether this process holds the capabilities a software switch needs.

    Root without them (a container, a dropped bounding set) cannot build one either, so
    the effective capability set is asked rather than the user id.
    """
    for line in status.read_text().splitlines():
        if line.startswith("CapEff:"):
            return int(line.split()[1], 16) & _SWITCH_CAPS == _SWITCH_CAPS
    return os.geteuid() == 0


DEFAULT_PHYSNET = "default"  # the segment of PFs no physnet names


class KeptDriver:
    """A driver whose PFs are the host's own (netlink): nothing to follow."""

    def __init__(self, driver: VfDriver) -> None:
        self.driver = driver

    def driver_for(self, discovery: Discovery) -> VfDriver:
        return self.driver


# The instance pluggers (VMs in libvirt, normal ports on bridges) over the agent's
# namespace ops (None where it has none) for its host: how whoever starts it wires them.
PluggerFactory = Callable[[NamespaceOps | None, str], Sequence[InstancePlugger]]


def no_pluggers(ops: NamespaceOps | None, host: str) -> Sequence[InstancePlugger]:
    return ()


class MemoryKeeper:
    """A memory driver whose tables follow the VFs discovery finds, as a NIC's would, and
    namespaces in memory whose host one holds each VF's netdev, as a NIC's VFs appear."""

    def __init__(self) -> None:
        self.driver = MemoryDriver()
        self.namespaces = MemoryNamespaces()
        self._seen = 0

    def driver_for(self, discovery: Discovery) -> VfDriver:
        if discovery.number != self._seen:
            self.driver.add_vfs(discovery.managed().values())
            self._add_netdevs(discovery)
            self._seen = discovery.number
        return self.driver

    def _add_netdevs(self, discovery: Discovery) -> None:
        """The VF netdevs discovery names, born at home unless somewhere already."""
        spaces = self.namespaces.spaces
        there = {name for name in spaces[None]}
        for ns in spaces:
            for link in self.namespaces.links(ns):
                home = Home.of(link.alias)
                if home is not None and home.ns is None:
                    there.add(home.name)
        for address, name in discovered_names(discovery, discovery.managed()).items():
            if name not in there:
                device = discovery.host.get(address)
                mac = device.netdevs[0].mac if device is not None and device.netdevs else None
                self.namespaces.add_link(None, name, mac or "00:00:00:00:00:00")

    def namespace_names(self) -> list[str]:
        return [ns for ns in self.namespaces.spaces if ns is not None]


class EswitchKeeper:
    """The emulated host's switch, built from discovery, ensured at start and whenever the
    PFs, their VFs or their physnets change (or its namespace went missing)."""

    def __init__(self, host: str) -> None:
        self.host = host
        self._switch: HostSwitch | None = None
        self._driver: EswitchDriver | None = None

    def remake(self) -> None:
        """Ensure the switch at the next turn: a VF's veth died with a container's
        namespace, and its representor with it."""
        self._switch = None

    def vf_names(
        self, discovery: Discovery, devices: Mapping[PciAddress, VfLocation]
    ) -> dict[PciAddress, str]:
        """The VF netdevs in the switch's namespace, as :func:`host_switch` names them."""
        switch = host_switch(self.host, discovery)
        found = {}
        for address, (pf, vf) in devices.items():
            ports = switch.port(pf)
            if ports is not None and vf < len(ports.vfs):
                found[address] = ports.vfs[vf]
        return found

    def driver_for(self, discovery: Discovery) -> VfDriver:
        from vfnet.agent.drivers.eswitch import EswitchDriver
        from vfnet.agent.drivers.eswitch_kernel import netns_exists
        from vfnet.agent.drivers.eswitch_topology import ensure

        switch = host_switch(self.host, discovery)
        if self._driver is None or switch != self._switch or not netns_exists(switch.netns):
            ensure(switch)
            if self._driver is not None:
                self._driver.close()
            self._switch, self._driver = switch, EswitchDriver(switch)
        return self._driver


def host_switch(host: str, discovery: Discovery) -> HostSwitch:
    """The switch of ``host``: each PF that is mapped or has selected VFs, on its physnet,
    with its VF netdevs by VF index (as discovery names them)."""
    from vfnet.agent.drivers.eswitch_topology import HostSwitch, PfPorts

    found = discovery.host
    physnets: dict[str, str] = {}
    for key, physnet in discovery.config.sriov_nic.physnets.items():
        pf = find_pf(key, found)
        if pf is not None and pf.ifname:
            physnets[pf.ifname] = physnet
    for item in discovery.selection.devices:
        parent = found.get(item.device.parent_addr) if item.device.parent_addr else None
        if parent is not None and parent.ifname:
            physnets.setdefault(parent.ifname, item.physical_network or DEFAULT_PHYSNET)
    ports = []
    for pf in sorted(found.pfs(), key=lambda d: d.ifname or ""):
        if pf.ifname not in physnets:
            continue
        vfs = {vf.vf_index: vf.ifname for vf in found.vfs_of(pf.address) if vf.vf_index is not None}
        count = max(vfs, default=-1) + 1
        names = tuple(vfs.get(n) or f"{pf.ifname}v{n}" for n in range(count))
        ports.append(PfPorts(pf.ifname, physnets[pf.ifname], names))
    return HostSwitch(host, tuple(ports))


def run_namespaces() -> list[str]:
    """The named network namespaces (``ip netns list``)."""
    from vfnet.agent.drivers.netlink_socket import NETNS_RUN_DIR

    try:
        return os.listdir(NETNS_RUN_DIR)
    except FileNotFoundError:
        return []


def _forget_container(ops: NamespaceOps, instance_id: str) -> Mapping[str, Outcome]:
    """A container of the memory driver: no processes, only its namespace."""
    return remove_namespace(ops, container_netns(instance_id))


def attachments_for(
    keeper: DriverKeeper, host: str
) -> tuple[Attachments | None, NamespaceOps | None]:
    """How the driver's VF netdevs go into namespaces, and the namespace ops used: in
    memory for the memory driver, rtnetlink for the others (with the capabilities)."""
    if isinstance(keeper, MemoryKeeper):
        ops: NamespaceOps = keeper.namespaces
        return Attachments(
            ops, home_ns=None, names=discovered_names, namespaces=keeper.namespace_names,
            delete=_forget_container,
        ), ops  # fmt: skip
    if not can_build_switches():
        log.warning("attachments: %s; VF netdevs stay where they are", NEEDS_CAPS)
        return None, None
    from vfnet.agent.drivers.eswitch_names import host_netns
    from vfnet.agent.drivers.netns_ops import PyrouteNamespaces

    ops = PyrouteNamespaces()
    if isinstance(keeper, EswitchKeeper):
        return Attachments(
            ops, home_ns=host_netns(host), names=keeper.vf_names, namespaces=run_namespaces,
            remake=keeper.remake, owner_mark=host,  # emulated hosts share the kernel
        ), ops  # fmt: skip
    return Attachments(ops, home_ns=None, names=discovered_names, namespaces=run_namespaces), ops


def driver_keeper(name: str, host: str) -> DriverKeeper | None:
    """The driver called ``name`` for ``host``, or None (logged) when it cannot be made.

    Discovery, VF creation and reports need no driver, so an agent without one still
    serves its host's inventory; only VF settings wait for it.
    """
    if name == "memory":
        return MemoryKeeper()
    if name == "eswitch":
        return EswitchKeeper(host)
    try:
        from vfnet.agent.drivers.netlink import NetlinkDriver

        return KeptDriver(NetlinkDriver())
    except (ImportError, OSError, DriverError) as error:
        log.warning("driver %s: unavailable (%s); VF settings are not applied", name, error)
        return None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(path_type=Path),
    help="The host config file (TOML).",
)
@click.option("--server", envvar="VFNET_URL", help="The vfnet API, e.g. http://vfnet:8080.")
@click.option("--token", envvar="VFNET_AGENT_TOKEN", help="This host's agent token.")
@click.option(
    "--token-file", type=click.Path(path_type=Path), help="A file holding the token (first line)."
)
@click.option("--host", default=None, help="Host name [default: the config's, else hostname].")
@click.option(
    "--driver",
    type=click.Choice(DRIVERS),
    default="netlink",
    show_default=True,
    help="How VF settings are applied.",
)
@click.option(
    "--interval", type=float, default=10.0, show_default=True, help="Seconds between passes."
)
@click.option("--once", is_flag=True, help="One pass, then exit (1 if it found problems).")
@click.option(
    "--teardown",
    is_flag=True,
    help="Remove this emulated host's switch (--driver eswitch), then exit.",
)
@click.option(
    "--show-vfs",
    is_flag=True,
    help="Print the host's VF tables as the driver reads them (as ip -d link show does), "
    "then exit; the memory driver shows the server's desired state.",
)
@click.option(
    "--show-vms",
    is_flag=True,
    help="Print the devices of the domains this agent defines for the host's VMs, built "
    "from the server's desired state, then exit.",
)
@click.option(
    "--pf",
    "pfs",
    multiple=True,
    help="With --show-vfs: only this PF (netdev or PCI address); repeatable.",
)
@click.option(
    "--libvirt-uri",
    envvar="VFNET_LIBVIRT_URI",
    help="Serve VMs through this libvirt (qemu:///system; test:///default in a lab) "
    "[default: none, containers only].",
)
@click.option(
    "--domain-type",
    type=click.Choice(DOMAIN_TYPES),
    default="kvm",
    show_default=True,
    help="The type of the VMs' domains: qemu where there is no KVM.",
)
@click.option("-v", "--verbose", is_flag=True, help="Log idle passes too.")
def main(
    config_path: Path,
    server: str | None,
    token: str | None,
    token_file: Path | None,
    host: str | None,
    driver: str,
    interval: float,
    once: bool,
    teardown: bool,
    show_vfs: bool,
    show_vms: bool,
    pfs: tuple[str, ...],
    libvirt_uri: str | None,
    domain_type: str,
    verbose: bool,
) -> None:
    """Discover this host's SR-IOV devices, create VFs and report them to the vfnet server."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per request would drown the pipeline's own lines.
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)
    if (teardown or driver == "eswitch") and not can_build_switches():
        _fail(f"{'--teardown' if teardown else '--driver eswitch'}: {NEEDS_ROOT}")
    if teardown:
        sys.exit(remove_switch(config_path, host))
    if show_vfs or show_vms:
        from vfnet.agent.show import vf_tables, vm_domains

        try:
            if show_vfs:
                click.echo(vf_tables(config_path, host, driver, pfs, server, token, token_file))
            if show_vms:
                click.echo(vm_domains(config_path, host, server, token, token_file))
        except (ValidationError, ConfigError, DriverError) as error:
            _fail(str(error))
        sys.exit(0)
    try:
        settings = agent_settings(
            config_path=config_path, server_url=server, token=token, token_file=token_file,
            host=host, driver=driver, interval=interval, once=once,
        )  # fmt: skip
    except ValidationError as error:
        _fail(str(error))
    sys.exit(run(settings, instance_pluggers=PluggerChoice(libvirt_uri, domain_type, driver)))


def run(settings: AgentSettings, *, instance_pluggers: PluggerFactory = no_pluggers) -> int:
    """The agent until a signal stops it; ``instance_pluggers`` builds what instances need
    besides their VFs' netdevs (VMs, normal ports), given the agent's namespace ops."""
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with Client(settings.server_url, settings.token) as client:
        agent = Agent(settings, client)
        try:
            agent.start()
        except ConfigError as error:
            _fail(str(error))
        keeper = driver_keeper(settings.driver, agent.host)
        agent.manages_vfs = keeper is not None
        reconciler = None
        if keeper is not None:
            attachments, ops = attachments_for(keeper, agent.host)
            reconciler = Reconciler(
                client, keeper, attachments=attachments, pluggers=instance_pluggers(ops, agent.host)
            )
        return serve(
            agent, reconciler, interval=settings.interval, once=settings.once, stop=stop.wait
        )


def remove_switch(config_path: Path, host: str | None) -> int:
    """``--teardown``: the host's switch and its namespace, gone; 0, or 2 on a bad config."""
    from vfnet.agent.drivers.eswitch_topology import HostSwitch, teardown

    try:
        name = host or load_host_config(config_path, hostname=host).name
    except ConfigError as error:
        _fail(str(error))
    teardown(HostSwitch(name, ()))
    click.echo(f"vfnet-agent: the switch of host {name} is removed")
    return 0


def _fail(message: str) -> NoReturn:
    click.echo(f"vfnet-agent: {message}", err=True)
    sys.exit(CONFIG_ERROR)


if __name__ == "__main__":
    main()
