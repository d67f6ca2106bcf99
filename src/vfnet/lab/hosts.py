"""The lab's emulated hosts: generated sysfs trees and the host configs that select from them."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from vfnet.lab.hostspec import HostSpec
from vfnet.lab.sysfs import generate_host
from vfnet.pci.devices import HostDevices


@dataclass(frozen=True, slots=True)
class LabHost:
    """One emulated host: its name, its sysfs root and its host config file."""

    name: str
    sysfs_root: Path
    config_path: Path
    devices: HostDevices


def _toml_text(value: str) -> str:
    # JSON string syntax is valid TOML basic-string syntax for what we write here.
    return json.dumps(value)


def _device_spec_config(name: str, root: Path, devices: HostDevices) -> str:
    """Nova's syntax: the first PF by netdev name, the second by address with its VF ids."""
    first, second = devices.pfs()[:2]
    vf_id = second.sriov.vf_device if second.sriov else second.product_id
    specs = [
        {"devname": first.ifname, "physical_network": "physnet1"},
        {
            "address": str(second.address),
            "vendor_id": second.vendor_id,
            "product_id": vf_id,
            "physical_network": "physnet1",
            "trusted": "true",
        },
    ]
    entries = ",\n  ".join(_toml_text(json.dumps(spec)) for spec in specs)
    return (
        f'[host]\nname = "{name}"\nsysfs_root = {_toml_text(str(root))}\n\n'
        f"[pci]\n# Nova [pci] device_spec entries, unchanged.\ndevice_spec = [\n  {entries},\n]\n"
    )


def _device_plugin_config(name: str, root: Path, devices: HostDevices) -> str:
    """Neutron's physnet mappings plus a device-plugin resource pool over part of the VFs."""
    first, second = devices.pfs()[:2]
    vfs = first.sriov.num_vfs if first.sriov else 0
    return (
        f'[host]\nname = "{name}"\nsysfs_root = {_toml_text(str(root))}\n\n'
        "[sriov_nic]\n# Neutron SR-IOV agent syntax.\n"
        f'physical_device_mappings = "physnet1:{first.ifname},physnet2:{second.ifname}"\n\n'
        "# Kubernetes SR-IOV device plugin syntax: VFs 0-1 of the first PF form a pool.\n"
        "[[device_plugin.resourceList]]\n"
        'resourceName = "physnet1_low"\n'
        f'selectors = [{{ pfNames = ["{first.ifname}#0-{max(vfs // 2 - 1, 0)}"] }}]\n'
    )


LAB_HOSTS: tuple[tuple[str, HostSpec, str], ...] = (
    ("host-1", HostSpec(nic="x710", pfs=2, vfs=8, numa_nodes=2, ports_per_card=1), "device_spec"),
    ("host-2", HostSpec(nic="cx6dx", pfs=2, vfs=4, numa_nodes=1), "device_plugin"),
)
_CONFIG_WRITERS = {"device_spec": _device_spec_config, "device_plugin": _device_plugin_config}


def create_lab_hosts(lab_dir: Path) -> list[LabHost]:
    """Generate every lab host under ``lab_dir/hosts`` (afresh) and write its config."""
    hosts_dir = lab_dir / "hosts"
    if hosts_dir.exists():
        shutil.rmtree(hosts_dir)
    made = []
    for name, spec, syntax in LAB_HOSTS:
        root = hosts_dir / name / "sys"
        devices = generate_host(spec, root)
        config_path = hosts_dir / name / "host.toml"
        config_path.write_text(_CONFIG_WRITERS[syntax](name, root.resolve(), devices))
        made.append(LabHost(name, root, config_path, devices))
    return made
