"""Writing and removing one PCI function of an emulated host, with its links and netdevs.

Generation and the emulated ``sriov_numvfs`` both go through ``HostWriter.write_vf`` and
``remove_vf``, so a VF created later is byte for byte the VF generation would have written.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from vfnet.lab import bars, config_space
from vfnet.lab.bridges import acpi_node, bridge_files, bridge_record, intx
from vfnet.lab.layout import BridgePlace, HostLayout, PfPlace, derived_mac
from vfnet.lab.sysfs_files import (
    Identity,
    Placement,
    common_files,
    netdev_files,
    pf_sriov_files,
    ptp_files,
    wakeup_files,
)
from vfnet.lab.tree import WRITE_ONLY, Entry, Link, Tree
from vfnet.lab.vdpa import VdpaWriter
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, Netdev, PciDevice, SriovCapability


class HostWriter:
    """Writes functions into one emulated host's tree; allocates kernel-style names."""

    def __init__(self, tree: Tree, layout: HostLayout) -> None:
        self.tree = tree
        self.layout = layout
        self.spec = layout.spec
        self.model = layout.spec.model
        self._ifnames = set(tree.names("class/net"))
        self.vdpa = VdpaWriter(tree)

    # -- bridges -------------------------------------------------------------------
    def write_bridge(self, bridge: BridgePlace, index: int) -> PciDevice:
        """A host bridge or root port; its card's functions live in its directory."""
        place = self._placement(bridge.numa_node, bridge.iommu_group, bridge.driver)
        irq = 0 if bridge.driver is None else intx(index)
        fw = acpi_node(bridge.address.bus, bridge.address.slot)
        place = replace(place, irq=irq, firmware_node=fw)
        self.tree.write(bridge.path, bridge_files(bridge, place))
        self._bind("bus/pci/devices", bridge.address, bridge.path, bridge.driver)
        self._group(bridge.iommu_group, bridge.address, bridge.path)
        return bridge_record(bridge)

    # -- PFs -----------------------------------------------------------------------
    def write_pf(self, pf: PfPlace, num_vfs: int) -> PciDevice:
        """A PF with its SR-IOV files, PTP clock, wake-up source and uplink netdev."""
        uplink = Netdev(
            name=self._ifname(pf.ifname),
            mac=pf.mac,
            operstate="up",
            carrier=True,
            mtu=1500,
            phys_port_name=f"p{pf.port}" if pf.switch_id else None,
            phys_switch_id=pf.switch_id,
        )
        files = self._pf_files(pf, num_vfs)
        files |= self._netdev(uplink, pf.path, 2 + pf.ordinal, queues=2, random_mac=False)
        self.tree.write(pf.path, files)
        self.tree.link(f"class/ptp/ptp{pf.ordinal}", f"{pf.path}/ptp/ptp{pf.ordinal}")
        self._bind("bus/pci/devices", pf.address, pf.path, self.model.pf_driver)
        self._group(pf.iommu_group, pf.address, pf.path)
        return self.pf_record(pf, num_vfs, (uplink,))

    def _pf_files(self, pf: PfPlace, num_vfs: int) -> dict[str, Entry]:
        model, ident = self.model, self.pf_identity()
        place = self._placement(pf.numa_node, pf.iommu_group, model.pf_driver)
        msi = tuple(24 + 3 * pf.ordinal + i for i in range(3))
        place = replace(
            place, irq=intx(pf.card), msi_irqs=msi, firmware_node=self._fw(pf, 3 + pf.port)
        )
        total = model.cap_total_vfs_for(self.spec.ports)
        pf_bars = bars.pf_bars(pf, total)
        config = config_space.pf_config(
            ident.ids,
            ident.class_code,
            ident.revision,
            place.link,
            (total, num_vfs, pf.offset, pf.stride, model.vf_device),
            bars.pf_config_bars(pf_bars),
        )
        files = common_files(ident, str(pf.address), place, config)
        files |= pf_sriov_files(pf.total_vfs, num_vfs, pf.offset, pf.stride, model.vf_device)
        files |= bars.pf_resource_files(pf_bars)
        files |= wakeup_files(pf.ordinal, pf.path, str(pf.address))
        return files | ptp_files(pf.ordinal, pf.path, pf.mac.replace(":", ""))

    def pf_record(self, pf: PfPlace, num_vfs: int, netdevs: tuple[Netdev, ...]) -> PciDevice:
        sriov = SriovCapability(pf.total_vfs, num_vfs, pf.offset, pf.stride, self.model.vf_device)
        return _record(
            self.pf_identity(),
            address=pf.address,
            dev_type=DeviceType.PF,
            driver=self.model.pf_driver,
            numa_node=pf.numa_node,
            iommu_group=pf.iommu_group,
            netdevs=netdevs,
            sriov=sriov,
        )

    def pf_identity(self) -> Identity:
        model = self.model
        sub = self.spec.platform_info.nic_subsystem or (
            model.subsystem_vendor,
            model.subsystem_device,
        )
        return Identity(model.vendor, model.pf_device, *sub, model.class_code, model.revision)

    def vf_identity(self) -> Identity:
        model = self.model
        sub = self.spec.platform_info.nic_subsystem or (
            model.subsystem_vendor,
            model.vf_subsystem_device,
        )
        return Identity(model.vendor, model.vf_device, *sub, model.class_code, model.revision)

    # -- VFs -----------------------------------------------------------------------
    def write_vf(self, pf: PfPlace, n: int) -> PciDevice:
        """Create VF ``n`` of ``pf`` with everything the kernel and udev would add."""
        address = pf.vf_address(n)
        path = f"{pf.parent_path}/{address}"
        mac = derived_mac("", self.spec.hostname, address, local=True)
        netdev = Netdev(self._ifname(pf.vf_ifname(n)), mac, "down", None, 1500)
        files = self._vf_files(pf, n, address)
        files |= self._netdev(netdev, path, _vf_ifindex(pf, n), queues=1, random_mac=True)
        self.tree.write(path, files)
        self.tree.link(f"{pf.path}/virtfn{n}", path)
        self._bind("bus/pci/devices", address, path, self.model.vf_driver)
        self._group(pf.vf_iommu_group(n), address, path)
        with_vdpa = self.spec.vdpa and self.spec.vdpa_pf in (None, pf.ordinal)
        vdpa = self.vdpa.add(address, path) if with_vdpa else None
        return _record(
            self.vf_identity(),
            address=address,
            dev_type=DeviceType.VDPA if vdpa else DeviceType.VF,
            driver=self.model.vf_driver,
            numa_node=pf.numa_node,
            iommu_group=pf.vf_iommu_group(n),
            netdevs=(netdev,),
            parent_addr=pf.address,
            vf_index=n,
            vdpa=vdpa,
            representor=self._representor(pf, n) if pf.switch_id else None,
        )

    def _vf_files(self, pf: PfPlace, n: int, address: PciAddress) -> dict[str, Entry]:
        ident = self.vf_identity()
        place = self._placement(pf.numa_node, pf.vf_iommu_group(n), self.model.vf_driver)
        msi = tuple(1024 + 3 * (pf.ordinal * pf.total_vfs + n) + i for i in range(3))
        fw = self._fw(pf, 3 + self.spec.ports + n)
        place = replace(place, irq=0, msi_irqs=msi, firmware_node=fw)
        config = config_space.vf_config(ident.ids[2:], ident.class_code, ident.revision, place.link)
        files = common_files(ident, str(address), place, config)
        pf_bars = bars.pf_bars(pf, self.model.cap_total_vfs_for(self.spec.ports))
        files |= bars.vf_resource_files(pf_bars, n)
        return files | {
            "physfn": Link(pf.path),
            "sriov_vf_msix_count": WRITE_ONLY,
            "reset_method": b"flr\n",
            "d3cold_allowed": b"0\n",
        }

    def remove_vf(self, pf: PfPlace, n: int) -> None:
        """Undo ``write_vf``: device dir, bus, driver and class links, group, representor."""
        address = pf.vf_address(n)
        path = f"{pf.parent_path}/{address}"
        for name in self.tree.names(f"{path}/net"):
            self._drop_ifname(name)
        for name in self.tree.names(path):
            if name.startswith("vdpa"):
                self.vdpa.remove(path, name)
        if pf.switch_id:
            self._drop_representor(pf, n)
        group = pf.vf_iommu_group(n)
        if group is not None:
            self.tree.remove(f"kernel/iommu_groups/{group}")
        self.tree.remove(f"bus/pci/drivers/{self.model.vf_driver}/{address}")
        self.tree.remove(f"bus/pci/devices/{address}")
        self.tree.remove(f"{pf.path}/virtfn{n}")
        self.tree.remove(path)

    # -- pieces --------------------------------------------------------------------
    def _representor(self, pf: PfPlace, n: int) -> Netdev:
        """Switchdev: VF n's representor netdev, under the PF, on the PF's eswitch."""
        name = f"{pf.ifname}_{n}"
        rep = Netdev(
            name,
            derived_mac("", self.spec.hostname, pf.address, "rep", n, local=True),
            "up",
            True,
            1500,
            f"pf{pf.port}vf{n}",
            pf.switch_id,
        )
        self.tree.write(pf.path, self._netdev(rep, pf.path, 50000 + _vf_ifindex(pf, n), 1, True))
        return rep

    def _drop_representor(self, pf: PfPlace, n: int) -> None:
        name = f"{pf.ifname}_{n}"
        self.tree.remove(f"{pf.path}/net/{name}")
        self._drop_ifname(name)

    def _netdev(
        self, netdev: Netdev, device: str, ifindex: int, queues: int, random_mac: bool
    ) -> dict[str, Entry]:
        renamed = self.spec.platform_info.predictable_names
        files = netdev_files(
            netdev,
            device,
            ifindex,
            speed=self.model.speed_mbps,
            queues=queues,
            renamed=renamed,
            random_mac=random_mac,
        )
        self.tree.link(f"class/net/{netdev.name}", f"{device}/net/{netdev.name}")
        return {f"net/{netdev.name}/{name}": entry for name, entry in files.items()}

    def _ifname(self, wanted: str | None) -> str:
        """The udev name, or without udev the lowest free ``ethN`` as the kernel picks."""
        name = wanted
        if name is None:
            name = next(
                f"eth{i}" for i in range(len(self._ifnames) + 1) if f"eth{i}" not in self._ifnames
            )
        self._ifnames.add(name)
        return name

    def _drop_ifname(self, name: str) -> None:
        self._ifnames.discard(name)
        self.tree.remove(f"class/net/{name}")

    def _placement(self, node: int | None, group: int | None, driver: str | None) -> Placement:
        platform = self.spec.platform_info
        link = (
            (self.model.link_speed, self.model.link_width)
            if platform.numa
            else ("2.5 GT/s PCIe", 1)
        )
        iommu = f"devices/virtual/iommu/dmar{node or 0}" if group is not None else None
        return Placement(
            numa_node=node,
            cpulist=self.layout.cpulist(node),
            cpumask=self.layout.cpumask(node),
            iommu_group=group,
            iommu=iommu,
            link=link,
            driver=driver,
            irq=0,
            msi_irqs=(),
            firmware_node="",
        )

    def _fw(self, pf: PfPlace, k: int) -> str:
        root = next(b for b in self.layout.bridges if b.path == pf.parent_path)
        return f"{acpi_node(root.address.bus, root.address.slot)}/device:{k:02x}"

    def _bind(self, bus_dir: str, address: PciAddress, path: str, driver: str | None) -> None:
        self.tree.link(f"{bus_dir}/{address}", path)
        if driver:
            self.tree.link(f"bus/pci/drivers/{driver}/{address}", path)

    def _group(self, group: int | None, address: PciAddress, path: str) -> None:
        if group is None:
            return
        self.tree.write(
            f"kernel/iommu_groups/{group}",
            {
                f"devices/{address}": Link(path),
                "type": b"DMA-FQ\n",
                "reserved_regions": b"0x00000000fee00000 0x00000000feefffff msi\n",
            },
        )


def _record(ident: Identity, **fields: Any) -> PciDevice:
    """The model of a function written with identity ``ident``."""
    return PciDevice(
        vendor_id=ident.vendor,
        product_id=ident.device,
        subsystem_vendor_id=ident.subsystem_vendor,
        subsystem_device_id=ident.subsystem_device,
        class_code=ident.class_code,
        revision=ident.revision,
        **fields,
    )


def _vf_ifindex(pf: PfPlace, n: int) -> int:
    return 100 + pf.ordinal * 1024 + n
