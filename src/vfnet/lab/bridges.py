"""Host bridges and PCIe root ports above an emulated host's NICs (lspci lists them too)."""

from __future__ import annotations

from vfnet.lab import bars, config_space
from vfnet.lab.layout import BridgePlace
from vfnet.lab.sysfs_files import Identity, Placement, common_files
from vfnet.lab.tree import DIR, WRITE_ONLY, Entry, Sized
from vfnet.pci.devices import DeviceType, PciDevice


def bridge_files(bridge: BridgePlace, place: Placement) -> dict[str, Entry]:
    ident = Identity(*bridge.ids, class_code=bridge.class_code, revision="00")
    buses = (bridge.address.bus, bridge.secondary, bridge.subordinate)
    is_port = bridge.class_code.startswith("0604")
    windows = bars.bridge_windows(bridge) if is_port else None
    config = config_space.bridge_config(bridge.ids, bridge.class_code, buses, windows)
    files = common_files(ident, str(bridge.address), place, config)
    files["ari_enabled"] = b"0\n"
    files["resource"] = bars.bridge_resource(bridge)
    return files | _root_port_files(bridge) if is_port else files


def bridge_record(bridge: BridgePlace) -> PciDevice:
    vendor, device, sub_vendor, sub_device = bridge.ids
    return PciDevice(
        address=bridge.address,
        dev_type=DeviceType.PCI,
        vendor_id=vendor,
        product_id=device,
        subsystem_vendor_id=sub_vendor,
        subsystem_device_id=sub_device,
        class_code=bridge.class_code,
        revision="00",
        driver=bridge.driver,
        numa_node=bridge.numa_node,
        iommu_group=bridge.iommu_group,
    )


def intx(index: int) -> int:
    """The legacy interrupt line: 16..23, 22 for the first card as on QEMU's Q35."""
    return 16 + (index + 6) % 8


def acpi_node(bus: int, slot: int) -> str:
    """The ACPI companion ``firmware_node`` points at."""
    return f"devices/LNXSYSTM:00/LNXSYBUS:00/PNP0A08:{bus:02X}/device:{slot:02x}"


def _root_port_files(bridge: BridgePlace) -> dict[str, Entry]:
    services: dict[str, Entry] = {f"{bridge.address}:pcie{s}": DIR for s in ("001", "002", "010")}
    return services | {
        "secondary_bus_number": f"{bridge.secondary}\n".encode(),
        "subordinate_bus_number": f"{bridge.subordinate}\n".encode(),
        "pci_bus": DIR,
        "aer_rootport_total_err_cor": b"0\n",
        "aer_rootport_total_err_fatal": b"0\n",
        "aer_rootport_total_err_nonfatal": b"0\n",
        "d3cold_allowed": b"0\n",
        "remove": Sized(0, 0o200),
        "rescan": WRITE_ONLY,
        "reset_subordinate": WRITE_ONLY,
        "resource0": Sized(0, 0o600),
    }
