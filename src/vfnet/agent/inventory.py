"""What the agent tells the server: the selected devices with health, and the host's facts.

Selection goes through the host config, with one difference from ``HostConfig.select``:
an entry naming a PF this host does not have (a typo, a PF that vanished) is left out
and reported as a problem, so one bad PF never takes the rest of the host off the
server.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from vfnet.agent.numvfs import find_pf
from vfnet.client.reports import device_report
from vfnet.config import HostConfig
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices
from vfnet.pci.selection import SelectedDevice

Report = list[dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Selection:
    """The devices offered, and the config entries this host cannot serve (with why)."""

    devices: list[SelectedDevice]
    problems: tuple[str, ...] = ()
    mapped_physnets: tuple[str, ...] = ()  # physical_device_mappings of PFs present

    @property
    def physnets(self) -> list[str]:
        """The host's physnets: those its devices are tagged with, and those its PFs map."""
        tagged = {d.physical_network for d in self.devices if d.physical_network}
        return sorted(tagged.union(self.mapped_physnets))

    def tag_counts(self) -> dict[str, int]:
        """Devices per physnet (or resource name), for the log."""
        counts = Counter(d.physical_network or d.resource_name or "-" for d in self.devices)
        return dict(sorted(counts.items()))


def select_devices(config: HostConfig, host: HostDevices) -> Selection:
    """``config.select`` over the entries whose PFs exist here; the rest become problems.

    Raises:
        ConfigError: the config is wrong for this host in another way (a VF range or
            count beyond ``sriov_totalvfs``, a bad remote_managed spec).
    """
    # A missing num_vfs PF is the VF-creation step's to report; here it is only left out.
    num_vfs = {key: count for key, count in config.num_vfs.items() if find_pf(key, host)}
    problems: list[str] = []
    nic = config.sriov_nic
    physnets = {}
    for pf, physnet in nic.physnets.items():
        device = find_pf(pf, host)
        if device is None or device.sriov is None:
            what = "does not exist on this host" if device is None else "is not an SR-IOV PF"
            entry = f"{config.source} {nic.entry} physical_device_mappings"
            problems.append(f"{entry} {physnet}:{pf}: PF {what}")
        else:
            physnets[pf] = physnet
    exclude = {pf: vfs for pf, vfs in nic.exclude.items() if pf in physnets}
    served = dataclasses.replace(
        config,
        num_vfs=num_vfs,
        sriov_nic=dataclasses.replace(nic, physnets=physnets, exclude=exclude),
    )
    return Selection(served.select(host), tuple(problems), tuple(physnets.values()))


def build_report(
    selected: Sequence[SelectedDevice], verdicts: Mapping[PciAddress, tuple[str, ...]]
) -> Report:
    """The inventory body: each selected device with its health verdict."""
    report = []
    for item in selected:
        reasons = verdicts.get(item.device.address, ())
        report.append(device_report(item, healthy=not reasons, reasons=reasons))
    return report


def unhealthy(report: Report) -> list[tuple[str, list[str]]]:
    return [(entry["address"], entry["health_reasons"]) for entry in report if not entry["healthy"]]
