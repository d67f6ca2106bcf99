"""Where an emulated host's functions sit: buses, root ports, NUMA nodes, names and MACs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from vfnet.errors import ValidationError
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.nics import NicModel
from vfnet.pci.address import PciAddress

VF_BAR = 0x4000  # each VF BAR is 16K, so an IOV BAR is TotalVFs * 16K


@dataclass(frozen=True, slots=True)
class BridgePlace:
    """A host bridge or PCIe root port above the NICs (lspci lists them too)."""

    address: PciAddress
    path: str  # below the sysfs root: devices/pci0000:3a/0000:3a:00.0
    ids: tuple[str, str, str, str]  # vendor, device, subsystem vendor, subsystem device
    class_code: str
    driver: str | None
    secondary: int
    subordinate: int
    numa_node: int | None
    iommu_group: int | None
    windows: Windows | None = None


@dataclass(frozen=True, slots=True)
class Windows:
    """What a root port forwards to its card: I/O, 32-bit memory and prefetchable memory.

    The first card gets the windows QEMU gave the captured 82576; later cards sit below.
    """

    io: int
    mem: int
    pref: int
    pref_size: int
    bar: int  # the root port's own BAR0

    IO_SIZE = 0x1000
    MEM_SIZE = 0x200000

    @classmethod
    def for_card(cls, card: int, iov_bytes: int) -> Windows:
        pref_size = max(cls.MEM_SIZE, 1 << (iov_bytes - 1).bit_length())
        step = 0x1000000 * max(1, pref_size // 0x1000000)
        return cls(
            io=0xD000 - card * cls.IO_SIZE,
            mem=0xFE200000 - card * step,
            pref=0xFE800000 - card * step,
            pref_size=pref_size,
            bar=0xFE401000 + card * 0x1000,
        )


@dataclass(frozen=True, slots=True)
class PfPlace:
    """One PF: its address, the directory it and its VFs live in, and its geometry."""

    ordinal: int
    card: int
    port: int
    address: PciAddress
    parent_path: str
    numa_node: int | None
    iommu_group: int | None
    vf_group_base: int | None
    ifname: str | None  # None: the kernel names it ethN
    offset: int
    stride: int
    total_vfs: int
    mac: str
    switch_id: str | None
    windows: Windows | None = None

    @property
    def path(self) -> str:
        return f"{self.parent_path}/{self.address}"

    def vf_address(self, n: int) -> PciAddress:
        """VF ``n``: PF routing id + offset + n * stride; may spill onto later buses."""
        return PciAddress.from_rid(
            self.address.domain, self.address.rid + self.offset + n * self.stride
        )

    def vf_iommu_group(self, n: int) -> int | None:
        return None if self.vf_group_base is None else self.vf_group_base + n

    def vf_ifname(self, n: int) -> str | None:
        return None if self.ifname is None else f"{self.ifname}v{n}"


@dataclass(frozen=True, slots=True)
class HostLayout:
    spec: HostSpec
    bridges: tuple[BridgePlace, ...]
    pfs: tuple[PfPlace, ...]

    def cpulist(self, node: int | None) -> str:
        """``local_cpulist``: the node's CPUs, or every CPU without NUMA."""
        per_node = self.spec.platform_info.cpus_per_node
        first = 0 if node is None else node * per_node
        last = (self.nr_cpus if node is None else first + per_node) - 1
        return f"{first}-{last}"

    def cpumask(self, node: int | None) -> str:
        """``local_cpus``: the same set as a bitmap in comma-separated 32-bit groups."""
        per_node = self.spec.platform_info.cpus_per_node
        first = 0 if node is None else node * per_node
        count = self.nr_cpus if node is None else per_node
        digits = f"{((1 << count) - 1) << first:x}".zfill((self.nr_cpus + 3) // 4)
        head = len(digits) % 8 or 8
        groups = [digits[:head]] + [digits[i : i + 8] for i in range(head, len(digits), 8)]
        return ",".join(groups)

    @property
    def nr_cpus(self) -> int:
        return self.spec.platform_info.cpus_per_node * self.spec.numa_nodes

    def pf(self, address: PciAddress) -> PfPlace | None:
        return next((p for p in self.pfs if p.address == address), None)


def derived_mac(oui: str, *parts: object, local: bool = False) -> str:
    """A MAC that is the same every time for the same host and function."""
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=6).digest()
    if local:  # a random-looking, locally administered unicast address, as VFs get
        octets = [digest[0] & 0xFC | 0x02, *digest[1:6]]
        return ":".join(f"{b:02x}" for b in octets)
    return oui + ":" + ":".join(f"{b:02x}" for b in digest[:3])


def plan_host(spec: HostSpec) -> HostLayout:
    """Place every card behind its own root port, each on fresh buses after the last."""
    model, platform = spec.model, spec.platform_info
    ports = spec.ports
    cards = -(-spec.pfs // ports)
    bridges: list[BridgePlace] = []
    pfs: list[PfPlace] = []
    if platform.host_bridge:
        bridges.append(_host_bridge(spec))
    bus = spec.bus
    if platform.host_bridge and bus < 2:  # bus 0 holds the host bridge, bus-1 the root port
        raise ValidationError("first_bus", f"{bus:#x} leaves no bus for the root port")
    first_vf_group = len(bridges) + cards + spec.pfs
    for card in range(cards):
        node = card * spec.numa_nodes // cards if platform.numa else None
        functions = min(ports, spec.pfs - card * ports)
        subordinate = _last_bus(model, bus, functions, ports)
        if subordinate > 0xFF:
            raise ValidationError("pfs", f"{spec.pfs} PFs of {spec.nic} do not fit below bus 0xff")
        iov = functions * 2 * model.cap_total_vfs_for(ports) * VF_BAR
        windows = Windows.for_card(card, iov)
        root = _root_port(spec, card, bus, subordinate, node, len(bridges), windows)
        bridges.append(root)
        for fn in range(functions):
            ordinal = len(pfs)
            pfs.append(_pf(spec, model, root, card, fn, bus, node, ordinal, first_vf_group))
        bus = subordinate + 2 if platform.host_bridge else subordinate + 1
    return HostLayout(spec, tuple(bridges), tuple(pfs))


def _last_bus(model: NicModel, bus: int, functions: int, ports: int) -> int:
    """The highest bus any VF of the card can reach, at sriov_totalvfs on every port."""
    total = model.total_vfs_for(ports)
    last = 0
    for fn in range(functions):
        rid = (bus << 8 | fn) + model.vf_offset(fn, ports) + (total - 1) * model.vf_stride
        last = max(last, rid >> 8)
    return last


def _host_bridge(spec: HostSpec) -> BridgePlace:
    vendor, device = spec.platform_info.host_bridge or ("8086", "2020")
    address = PciAddress(spec.domain, 0, 0, 0)
    return BridgePlace(
        address=address,
        path=f"devices/pci{spec.domain:04x}:00/{address}",
        ids=(vendor, device, vendor, "0000"),
        class_code="060000",
        driver=None,
        secondary=0,
        subordinate=0,
        numa_node=0 if spec.platform_info.numa else None,
        iommu_group=0 if spec.platform_info.iommu else None,
    )


def _root_port(
    spec: HostSpec,
    card: int,
    bus: int,
    subordinate: int,
    node: int | None,
    group: int,
    windows: Windows,
) -> BridgePlace:
    platform = spec.platform_info
    if platform.host_bridge:  # one root complex per card, the port at <bus-1>:00.0
        address = PciAddress(spec.domain, bus - 1, 0, 0)
    else:  # QEMU: every root port on bus 0, from slot 2
        address = PciAddress(spec.domain, 0, 2 + card, 0)
    return BridgePlace(
        address=address,
        path=f"devices/pci{spec.domain:04x}:{address.bus:02x}/{address}",
        ids=platform.root_port,
        class_code="060400",
        driver="pcieport",
        secondary=bus,
        subordinate=subordinate,
        numa_node=node,
        iommu_group=group if platform.iommu else None,
        windows=windows,
    )


def _pf(
    spec: HostSpec,
    model: NicModel,
    root: BridgePlace,
    card: int,
    fn: int,
    bus: int,
    node: int | None,
    ordinal: int,
    first_vf_group: int,
) -> PfPlace:
    platform = spec.platform_info
    address = PciAddress(spec.domain, bus, 0, fn)
    total = model.total_vfs_for(spec.ports)
    iommu = platform.iommu
    oui = platform.pf_mac_oui or model.mac_oui
    return PfPlace(
        ordinal=ordinal,
        card=card,
        port=fn,
        address=address,
        parent_path=root.path,
        numa_node=node,
        iommu_group=first_vf_group - spec.pfs + ordinal if iommu else None,
        vf_group_base=first_vf_group + ordinal * total if iommu else None,
        ifname=f"ens{card + 1}f{fn}" if platform.predictable_names else None,
        offset=model.vf_offset(fn, spec.ports),
        stride=model.vf_stride,
        total_vfs=total,
        mac=derived_mac(oui, spec.hostname, address),
        switch_id=_switch_id(spec, card) if spec.switchdev else None,
        windows=root.windows,
    )


def _switch_id(spec: HostSpec, card: int) -> str:
    """The eswitch id shared by a card's uplinks and representors."""
    return hashlib.blake2b(f"{spec.hostname}/{card}".encode(), digest_size=8).hexdigest()
