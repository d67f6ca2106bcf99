"""The files of one PCI function and one netdev, in the kernel's exact formats."""

from __future__ import annotations

from dataclasses import dataclass

from vfnet.lab.tree import DIR, WRITE_ONLY, Entry, Link, Sized
from vfnet.pci.devices import Netdev

_AER_CORRECTABLE = (
    "RxErr BadTLP BadDLLP Rollover Timeout NonFatalErr CorrIntErr HeaderOF TOTAL_ERR_COR"
)
_AER_UNCORRECTABLE = (
    "Undefined DLP SDES TLP FCP CmpltTO CmpltAbrt UnxCmplt RxOF MalfTLP ECRC UnsupReq ACSViol "
    "UncorrIntErr BlockedTLP AtomicOpBlocked TLPBlockedErr PoisonTLPBlocked DMWrReqBlocked "
    "IDECheck MisIDETLP PCRC_CHECK TLPXlatBlocked"
)
_POWER = {
    "async": b"enabled\n",
    "autosuspend_delay_ms": b"",  # reads fail with EIO
    "control": b"on\n",
    "runtime_active_kids": b"0\n",
    "runtime_active_time": b"0\n",
    "runtime_enabled": b"forbidden\n",
    "runtime_status": b"active\n",
    "runtime_suspended_time": b"0\n",
    "runtime_usage": b"0\n",
}
_WAKEUP = (
    "wakeup_abort_count wakeup_active wakeup_active_count wakeup_count wakeup_expire_count "
    "wakeup_last_time_ms wakeup_max_time_ms wakeup_total_time_ms"
)
_NET_POWER = _POWER | {
    "async": b"disabled\n",
    "control": b"auto\n",
    "runtime_enabled": b"disabled\n",
    "runtime_status": b"unsupported\n",
}
_STATISTICS = (
    "collisions multicast rx_bytes rx_compressed rx_crc_errors rx_dropped rx_errors "
    "rx_fifo_errors rx_frame_errors rx_length_errors rx_missed_errors rx_nohandler "
    "rx_over_errors rx_packets tx_aborted_errors tx_bytes tx_carrier_errors tx_compressed "
    "tx_dropped tx_errors tx_fifo_errors tx_heartbeat_errors tx_packets tx_window_errors"
)


@dataclass(frozen=True, slots=True)
class Identity:
    """What a function says about itself in ``vendor``, ``device`` ... ``modalias``."""

    vendor: str
    device: str
    subsystem_vendor: str
    subsystem_device: str
    class_code: str
    revision: str

    @property
    def ids(self) -> tuple[str, str, str, str]:
        return self.vendor, self.device, self.subsystem_vendor, self.subsystem_device


def modalias(ident: Identity) -> str:
    """``pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X``: upper-case hex, 53 characters."""
    v, d, sv, sd = (int(x, 16) for x in (ident.vendor, ident.device, *_subsys(ident)))
    bc, sc, pi = (ident.class_code[i : i + 2].upper() for i in (0, 2, 4))
    return f"pci:v{v:08X}d{d:08X}sv{sv:08X}sd{sd:08X}bc{bc}sc{sc}i{pi}"


def _subsys(ident: Identity) -> tuple[str, str]:
    return ident.subsystem_vendor, ident.subsystem_device


def uevent(ident: Identity, slot: str, driver: str | None) -> bytes:
    lines = [f"DRIVER={driver}"] if driver else []
    lines += [
        f"PCI_CLASS={int(ident.class_code, 16):X}",
        f"PCI_ID={ident.vendor.upper()}:{ident.device.upper()}",
        f"PCI_SUBSYS_ID={ident.subsystem_vendor.upper()}:{ident.subsystem_device.upper()}",
        f"PCI_SLOT_NAME={slot}",
        f"MODALIAS={modalias(ident)}",
    ]
    return ("\n".join(lines) + "\n").encode()


def _line(value: object) -> bytes:
    return f"{value}\n".encode()


def identity_files(ident: Identity, slot: str, driver: str | None) -> dict[str, Entry]:
    return {
        "vendor": _line(f"0x{ident.vendor}"),
        "device": _line(f"0x{ident.device}"),
        "subsystem_vendor": _line(f"0x{ident.subsystem_vendor}"),
        "subsystem_device": _line(f"0x{ident.subsystem_device}"),
        "class": _line(f"0x{ident.class_code}"),
        "revision": _line(f"0x{ident.revision}"),
        "modalias": _line(modalias(ident)),
        "uevent": uevent(ident, slot, driver),
    }


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a function sits: NUMA, CPUs, IOMMU, link, interrupts, driver."""

    numa_node: int | None
    cpulist: str
    cpumask: str
    iommu_group: int | None
    iommu: str | None  # devices/virtual/iommu/dmarN
    link: tuple[str, int]
    driver: str | None
    irq: int
    msi_irqs: tuple[int, ...]
    firmware_node: str


def common_files(ident: Identity, slot: str, where: Placement, config: bytes) -> dict[str, Entry]:
    """Files every PCI function has, PF, VF or bridge."""
    files: dict[str, Entry] = {
        "aer_dev_correctable": _aer(_AER_CORRECTABLE),
        "aer_dev_fatal": _aer(_AER_UNCORRECTABLE + " TOTAL_ERR_FATAL"),
        "aer_dev_nonfatal": _aer(_AER_UNCORRECTABLE + " TOTAL_ERR_NONFATAL"),
        "ari_enabled": b"1\n",
        "broken_parity_status": b"0\n",
        "config": config,
        "consistent_dma_mask_bits": b"64\n",
        "d3cold_allowed": b"1\n",
        "current_link_speed": _line(where.link[0]),
        "current_link_width": _line(where.link[1]),
        "max_link_speed": _line(where.link[0]),
        "max_link_width": _line(where.link[1]),
        "dma_mask_bits": b"64\n",
        "driver_override": b"(null)\n",
        "enable": b"1\n" if where.driver else b"0\n",
        "firmware_node": Link(where.firmware_node),
        "irq": _line(where.irq),
        "link/l0s_aspm": b"0\n",
        "local_cpulist": _line(where.cpulist),
        "local_cpus": _line(where.cpumask),
        "msi_bus": b"1\n",
        "msi_irqs": DIR,
        "numa_node": _line(-1 if where.numa_node is None else where.numa_node),
        "power_state": b"D0\n",
        "reset": WRITE_ONLY,
        "subsystem": Link("bus/pci"),
        **identity_files(ident, slot, where.driver),
        **{f"power/{name}": data for name, data in _POWER.items()},
        **{f"msi_irqs/{irq}": b"msix\n" for irq in where.msi_irqs},
    }
    if where.driver:
        files["driver"] = Link(f"bus/pci/drivers/{where.driver}")
    if where.iommu_group is not None:
        files["iommu_group"] = Link(f"kernel/iommu_groups/{where.iommu_group}")
    if where.iommu:
        files["iommu"] = Link(where.iommu)
    return files


def _aer(names: str) -> bytes:
    return "".join(f"{name} 0\n" for name in names.split()).encode()


def resource_table(bars: dict[int, tuple[int, int, int]], lines: int = 13) -> bytes:
    """``resource``: one ``start end flags`` line per BAR slot, zeros where unused."""
    rows = []
    for i in range(lines):
        start, size, flags = bars.get(i, (0, 0, 0))
        end = start + size - 1 if size else 0
        rows.append(f"0x{start:016x} 0x{end:016x} 0x{flags:016x}\n")
    return "".join(rows).encode()


def pf_sriov_files(
    total: int, num: int, offset: int, stride: int, vf_device: str
) -> dict[str, Entry]:
    return {
        "sriov_drivers_autoprobe": b"1\n",
        "sriov_numvfs": _line(num),
        "sriov_offset": _line(offset),
        "sriov_stride": _line(stride),
        "sriov_totalvfs": _line(total),
        "sriov_vf_device": _line(vf_device.lstrip("0") or "0"),
        "sriov_vf_total_msix": b"0\n",
        "remove": Sized(0, 0o200),
        "rescan": WRITE_ONLY,
        "reset_method": b"flr pm bus\n",
    }


def netdev_files(
    netdev: Netdev,
    device: str,
    ifindex: int,
    *,
    speed: int,
    queues: int,
    renamed: bool,
    random_mac: bool,
) -> dict[str, Entry]:
    """``net/<if>/``: an admin-down netdev answers EINVAL for carrier, speed and duplex,
    which a file can only show by being empty."""
    up = netdev.operstate == "up"
    unsupported = b""  # EOPNOTSUPP when read
    files: dict[str, Entry] = {
        "addr_assign_type": b"1\n" if random_mac else b"0\n",
        "addr_len": b"6\n",
        "address": _line(netdev.mac),
        "broadcast": b"ff:ff:ff:ff:ff:ff\n",
        "carrier": b"" if netdev.carrier is None else _line(int(netdev.carrier)),
        "carrier_changes": b"2\n" if up else b"1\n",
        "carrier_down_count": b"1\n",
        "carrier_up_count": b"1\n" if up else b"0\n",
        "dev_id": b"0x0\n",
        "dev_port": b"0\n",
        "device": Link(device),
        "dormant": b"0\n" if up else b"",
        "duplex": b"full\n" if up else b"",
        "flags": b"0x1003\n" if up else b"0x1002\n",
        "gro_flush_timeout": b"0\n",
        "ifalias": b"\n",
        "ifindex": _line(ifindex),
        "iflink": _line(ifindex),
        "link_mode": b"0\n",
        "mtu": _line(netdev.mtu or 1500),
        "name_assign_type": b"4\n" if renamed else b"1\n",
        "napi_defer_hard_irqs": b"0\n",
        "netdev_group": b"0\n",
        "operstate": _line(netdev.operstate),
        "phys_port_id": unsupported,
        "phys_port_name": _line(netdev.phys_port_name) if netdev.phys_port_name else unsupported,
        "phys_switch_id": _line(netdev.phys_switch_id) if netdev.phys_switch_id else unsupported,
        "proto_down": b"0\n",
        "speed": _line(speed) if up else b"",
        "subsystem": Link("class/net"),
        "testing": b"0\n" if up else b"",
        "threaded": b"0\n",
        "tx_queue_len": b"1000\n",
        "type": b"1\n",
        "uevent": f"INTERFACE={netdev.name}\nIFINDEX={ifindex}\n".encode(),
        **{f"power/{name}": data for name, data in _NET_POWER.items()},
        **{f"statistics/{name}": b"0\n" for name in _STATISTICS.split()},
        **{f"queues/rx-{i}": DIR for i in range(queues)},
        "queues/tx-0": DIR,
    }
    return files


def wakeup_files(number: int, device: str, slot: str) -> dict[str, Entry]:
    """``wakeup/wakeupN/`` of a PF that can wake the machine (Wake-on-LAN)."""
    base = f"wakeup/wakeup{number}"
    counters = "active_count active_time_ms event_count expire_count last_change_ms max_time_ms"
    files: dict[str, Entry] = {f"{base}/{name}": b"0\n" for name in counters.split()}
    files |= {f"{base}/{name}": b"0\n" for name in ("prevent_suspend_time_ms", "total_time_ms")}
    files |= {
        f"{base}/device": Link(device),
        f"{base}/name": _line(slot),
        f"{base}/subsystem": Link("class/wakeup"),
        f"{base}/uevent": b"\n",
        f"{base}/wakeup_count": b"0\n",
        "power/wakeup": b"enabled\n",
    }
    files |= {f"power/{name}": b"0\n" for name in _WAKEUP.split()}
    return files


def ptp_files(number: int, device: str, clock_name: str) -> dict[str, Entry]:
    base = f"ptp/ptp{number}"
    files: dict[str, Entry] = {
        f"{base}/{name}": b"0\n"
        for name in [
            "n_alarms",
            "n_external_timestamps",
            "n_periodic_outputs",
            "n_programmable_pins",
            "n_vclocks",
            "pps_available",
        ]
    }
    files |= {
        f"{base}/clock_name": _line(clock_name),
        f"{base}/dev": _line(f"249:{number}"),
        f"{base}/device": Link(device),
        f"{base}/max_adjustment": b"999999881\n",
        f"{base}/max_vclocks": b"20\n",
        f"{base}/subsystem": Link("class/ptp"),
        f"{base}/uevent": f"MAJOR=249\nMINOR={number}\nDEVNAME=ptp{number}\n".encode(),
        **{f"{base}/power/{name}": data for name, data in _NET_POWER.items()},
    }
    return files
