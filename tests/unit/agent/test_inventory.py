"""Selection for reports: config entries naming missing PFs are problems, not a dead host."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfnet.agent.inventory import build_report, select_devices
from vfnet.config import HostConfig, parse_host_config
from vfnet.errors import InvalidHostConfig
from vfnet.lab.hostspec import HostSpec
from vfnet.lab.sysfs import generate_host
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import HostDevices


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> HostDevices:
    """Two X710 PFs (ens1f0, ens1f1) with 2 VFs each."""
    root: Path = tmp_path_factory.mktemp("inventory") / "sys"
    return generate_host(HostSpec(nic="x710", pfs=2, vfs=2, numa_nodes=1), root)


def _config(mappings: str, num_vfs: dict[str, int] | None = None) -> HostConfig:
    data = {"sriov_nic": {"physical_device_mappings": mappings}, "num_vfs": num_vfs or {}}
    return parse_host_config(data, "host.toml", hostname="h")


def test_a_mapping_to_a_missing_pf_is_a_problem_and_the_other_pfs_are_offered(
    host: HostDevices,
) -> None:
    config = _config("physnet1:ens1f0,physnet2:ens9", {"ens1f0": 2, "ens9": 4})
    selection = select_devices(config, host)
    assert [str(s.device.address) for s in selection.devices] == ["0000:3b:02.0", "0000:3b:02.1"]
    assert selection.problems == (
        "host.toml [sriov_nic] physical_device_mappings physnet2:ens9: "
        "PF does not exist on this host",
    )
    assert selection.physnets == ["physnet1"]


def test_a_mapped_pf_without_vfs_still_gives_the_host_its_physnet(host: HostDevices) -> None:
    selection = select_devices(_config("physnet1:ens1f0,physnet2:ens1f1"), host)
    assert selection.physnets == ["physnet1", "physnet2"]


def test_a_count_beyond_sriov_totalvfs_is_still_a_config_error(host: HostDevices) -> None:
    with pytest.raises(InvalidHostConfig, match="sriov_totalvfs"):
        select_devices(_config("physnet1:ens1f0", {"ens1f0": 500}), host)


def test_a_report_carries_each_devices_health(host: HostDevices) -> None:
    selection = select_devices(_config("physnet1:ens1f0"), host)
    sick = PciAddress.parse("0000:3b:02.1")
    report = build_report(selection.devices, {sick: ("driver unbound",)})
    assert [(e["address"], e["healthy"], e["health_reasons"]) for e in report] == [
        ("0000:3b:02.0", True, []),
        ("0000:3b:02.1", False, ["driver unbound"]),
    ]
