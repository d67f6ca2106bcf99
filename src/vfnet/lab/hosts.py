"""The lab's emulated hosts: generated sysfs trees and the host configs that select from them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from vfnet.errors import ValidationError
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.nics import nic_model
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


def _physnet(index: int) -> str:
    """PF ``index``'s physnet past the first two, which each syntax places by hand: the
    third on physnet2, then alternating."""
    return f"physnet{2 - index % 2}"


def _device_spec_config(name: str, root: Path, devices: HostDevices) -> str:
    """Nova's syntax: the first PF by netdev name, the second by address with its VF ids,
    any further one by netdev name."""
    pfs = devices.pfs()
    specs: list[dict[str, str]] = [{"devname": pfs[0].ifname or "", "physical_network": "physnet1"}]
    if len(pfs) > 1:
        second = pfs[1]
        vf_id = second.sriov.vf_device if second.sriov else second.product_id
        specs.append(
            {
                "address": str(second.address),
                "vendor_id": second.vendor_id,
                "product_id": vf_id,
                "physical_network": "physnet1",
                "trusted": "true",
            }
        )
    specs += [
        {"devname": pf.ifname or "", "physical_network": _physnet(n)}
        for n, pf in enumerate(pfs[2:], start=2)
    ]
    entries = ",\n  ".join(_toml_text(json.dumps(spec)) for spec in specs)
    return (
        f'[host]\nname = "{name}"\nsysfs_root = {_toml_text(str(root))}\n\n'
        f"[pci]\n# Nova [pci] device_spec entries, unchanged.\ndevice_spec = [\n  {entries},\n]\n"
    )


def _device_plugin_config(name: str, root: Path, devices: HostDevices) -> str:
    """Neutron's physnet mappings plus a device-plugin resource pool over part of the VFs."""
    pfs = devices.pfs()
    first = pfs[0]
    vfs = first.sriov.num_vfs if first.sriov else 0
    physnets = ["physnet1", "physnet2", *(_physnet(n) for n in range(2, len(pfs)))]
    mappings = ",".join(
        f"{physnet}:{pf.ifname}" for physnet, pf in zip(physnets, pfs, strict=False)
    )
    return (
        f'[host]\nname = "{name}"\nsysfs_root = {_toml_text(str(root))}\n\n'
        "[sriov_nic]\n# Neutron SR-IOV agent syntax.\n"
        f'physical_device_mappings = "{mappings}"\n\n'
        "# Kubernetes SR-IOV device plugin syntax: VFs 0-1 of the first PF form a pool.\n"
        "[[device_plugin.resourceList]]\n"
        'resourceName = "physnet1_low"\n'
        f'selectors = [{{ pfNames = ["{first.ifname}#0-{max(vfs // 2 - 1, 0)}"] }}]\n'
    )


LabHostPlan = tuple[str, HostSpec, str]  # host name, what it carries, its config's syntax

LAB_HOSTS: tuple[LabHostPlan, ...] = (
    ("host-1", HostSpec(nic="x710", pfs=2, vfs=8, numa_nodes=2, ports_per_card=1), "device_spec"),
    # Its second PF (physnet2) carries a vDPA device on each VF, for vdpa ports.
    (
        "host-2",
        HostSpec(nic="cx6dx", pfs=2, vfs=4, numa_nodes=1, vdpa=True, vdpa_pf=1),
        "device_plugin",
    ),
)
_CONFIG_WRITERS = {"device_spec": _device_spec_config, "device_plugin": _device_plugin_config}


def plan_lab_hosts(
    count: int = 2, *, nic: str | None = None, pfs: int | None = None, vfs: int | None = None
) -> list[LabHostPlan]:
    """``count`` hosts taking turns at the two lab hosts' NICs and config syntaxes.

    ``nic``, ``pfs`` and ``vfs`` replace every host's own; a NIC given without a VF count
    keeps each host's count where the NIC allows it, else takes as many as it allows.

    Raises:
        ValidationError: naming the option: fewer than 2 hosts, no VFs, a NIC unknown or
            unable to carry what is asked.
    """
    if count < 2:
        raise ValidationError("--hosts", f"a lab has at least 2 hosts, not {count}")
    if vfs is not None and vfs < 1:
        raise ValidationError("--vfs", f"each PF needs at least 1 VF, not {vfs}")
    planned = []
    for n in range(count):
        _, base, syntax = LAB_HOSTS[n % len(LAB_HOSTS)]
        try:
            model = nic_model(nic) if nic else base.model
            ports = base.ports_per_card or model.ports_per_card
            wanted = vfs if vfs is not None else min(base.vfs, model.total_vfs_for(ports))
            count_pfs = base.pfs if pfs is None else pfs
            vdpa = (
                base.vdpa and model.vdpa and base.vdpa_pf is not None and base.vdpa_pf < count_pfs
            )
            spec = replace(
                base, nic=model.name, pfs=count_pfs, vfs=wanted, hostname=f"host-{n + 1}",
                vdpa=vdpa, vdpa_pf=base.vdpa_pf if vdpa else None,
            )  # fmt: skip
        except ValidationError as error:
            raise ValidationError(f"--{error.field}", error.reason) from None
        planned.append((f"host-{n + 1}", spec, syntax))
    return planned


def create_lab_hosts(lab_dir: Path, plan: Sequence[LabHostPlan] = LAB_HOSTS) -> list[LabHost]:
    """Generate every planned host under ``lab_dir/hosts`` (afresh) and write its config."""
    hosts_dir = lab_dir / "hosts"
    if hosts_dir.exists():
        shutil.rmtree(hosts_dir)
    made = []
    for name, spec, syntax in plan:
        root = hosts_dir / name / "sys"
        devices = generate_host(spec, root)
        config_path = hosts_dir / name / "host.toml"
        config_path.write_text(_CONFIG_WRITERS[syntax](name, root.resolve(), devices))
        made.append(LabHost(name, root, config_path, devices))
    return made
