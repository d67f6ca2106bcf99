"""``vfnet host inspect`` shows what a host offers; errors are one line and an exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from vfnet import __version__
from vfnet.cli.main import cli

PHYSNET_CONFIG = """
[pci]
device_spec = ['{"devname": "eth0", "physical_network": "physnet1", "trusted": "true"}']
"""


def write_config(tmp_path: Path, sysfs: Path, body: str = PHYSNET_CONFIG) -> Path:
    path = tmp_path / "host.toml"
    path.write_text(f'[host]\nsysfs_root = "{sysfs}"\n{body}')
    return path


def test_version_is_the_package_version(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["--version"])
    assert (result.exit_code, result.output) == (0, f"vfnet, version {__version__}\n")


def test_inspect_without_config_lists_pf_then_its_vfs_and_selects_nothing(
    runner: CliRunner, igb_sysfs: Path
) -> None:
    result = runner.invoke(cli, ["host", "inspect", "--sysfs", str(igb_sysfs)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"sysfs {igb_sysfs}, config none: 1 PF, 4 VFs, 6 PCI functions"
    assert lines[1] == "No --config given: every device is listed and none is selected."
    rows = [line.split() for line in lines[3:]]
    assert rows[0][:4] == ["ADDRESS", "TYPE", "IDS", "DRIVER"]
    assert [row[0] for row in rows[1:]] == [
        "0000:00:02.0",
        "0000:01:00.0",
        "0000:01:10.0",
        "0000:01:10.2",
        "0000:01:10.4",
        "0000:01:10.6",
    ]
    pf_row = "0000:01:00.0 type-PF 8086:10c9 igb eth0 52:54:00:00:01:00 up - 4/7 no - -"
    assert rows[2] == pf_row.split(" ")
    assert lines[6].startswith("  0000:01:10.0  type-VF   8086:10ca  igbvf     eth2")


def test_inspect_with_config_tags_selected_devices_and_shows_their_pools(
    runner: CliRunner, igb_sysfs: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path, igb_sysfs)
    result = runner.invoke(cli, ["host", "inspect", "--config", str(config)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "none is selected" not in text
    vf_row = next(line for line in text.splitlines() if "0000:01:10.6" in line).split()
    assert vf_row[-3:] == ["yes", "physical_network=physnet1,trusted=true", "2"]
    pool_rows = [line.split() for line in text.split("\n\n")[2].splitlines()]
    assert pool_rows[0] == ["POOL", "TYPE", "NUMA", "FREE", "KEY"]
    assert pool_rows[1][:4] == ["1", "type-PF", "-", "1"]
    assert pool_rows[2][:4] == ["2", "type-VF", "-", "4"]
    assert "physical_network=physnet1" in pool_rows[2][4]


def test_inspect_json_has_the_same_facts_with_stable_keys(
    runner: CliRunner, igb_sysfs: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path, igb_sysfs)
    result = runner.invoke(cli, ["host", "inspect", "--config", str(config), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert sorted(report) == ["config", "devices", "pools", "summary", "sysfs_root", "warnings"]
    vf = report["devices"][2]
    assert vf == {
        "address": "0000:01:10.0",
        "class_code": "020000",
        "depth": 1,
        "driver": "igbvf",
        "iommu_group": None,
        "link_state": "down",
        "mac": "36:78:5c:82:1a:91",
        "netdev": "eth2",
        "numa_node": None,
        "pf": "0000:01:00.0",
        "pool": 2,
        "product_id": "10ca",
        "representor": None,
        "resource_name": None,
        "revision": "01",
        "selected": True,
        "sriov": None,
        "subsystem_device_id": "1100",
        "subsystem_vendor_id": "1af4",
        "tags": {"physical_network": "physnet1", "trusted": "true"},
        "type": "type-VF",
        "vdpa": None,
        "vendor_id": "8086",
        "vf_index": 0,
        "warnings": [],
    }
    assert [(p["pool"], p["dev_type"], p["free"]) for p in report["pools"]] == [
        (1, "type-PF", 1),
        (2, "type-VF", 4),
    ]
    assert report["pools"][1]["devices"] == [
        "0000:01:10.0",
        "0000:01:10.2",
        "0000:01:10.4",
        "0000:01:10.6",
    ]


def test_sysfs_option_overrides_the_configs_root(
    runner: CliRunner, igb_sysfs: Path, tmp_path: Path
) -> None:
    config = write_config(tmp_path, tmp_path / "elsewhere")
    args = ["host", "inspect", "--config", str(config), "--sysfs", str(igb_sysfs), "--json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sysfs_root"] == str(igb_sysfs)


def test_device_warnings_are_listed_after_the_table(runner: CliRunner, tmp_path: Path) -> None:
    device = tmp_path / "sys/devices/pci0000:00/0000:00:03.0"
    device.mkdir(parents=True)
    for name, value in {"vendor": "0x1af4", "device": "0x1041", "class": "0x020000"}.items():
        (device / name).write_text(value + "\n")
    (tmp_path / "sys/bus/pci/devices").mkdir(parents=True)
    (tmp_path / "sys/bus/pci/devices/0000:00:03.0").symlink_to(
        "../../../devices/pci0000:00/0000:00:03.0"
    )
    result = runner.invoke(cli, ["host", "inspect", "--sysfs", str(tmp_path / "sys")])
    assert result.exit_code == 0, result.output
    warnings = result.stdout.split("Warnings:\n")[1].splitlines()
    assert "  0000:00:03.0: revision: missing" in warnings
    assert "  0000:00:03.0: numa_node: missing" in warnings


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["host", "inspect", "--sysfs", "/nonexistent"], 1, "error: /nonexistent/bus/pci/devices"),
        (["host", "inspect", "--bogus"], 2, "No such option '--bogus'"),
        (
            ["host", "generate", "--nic", "x710", "--pfs", "0", "--vfs", "1", "--out", "x"],
            2,
            "--pfs",
        ),
        (["host", "frobnicate"], 2, "No such command 'frobnicate'"),
    ],
)
def test_errors_are_one_line_on_stderr_with_an_exit_code(
    runner: CliRunner, args: list[str], exit_code: int, message: str
) -> None:
    result = runner.invoke(cli, args)
    assert result.exit_code == exit_code
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("x =", "host.toml: not valid TOML"),
        ('[pci]\ndevice_spec = [\'{"address": "0000:3b:02.8"}\']', "host.toml [pci]"),
        ("[wrong]\n", "host.toml: wrong: unknown section"),
    ],
)
def test_a_bad_config_is_one_line_and_exit_code_2(
    runner: CliRunner, igb_sysfs: Path, tmp_path: Path, body: str, message: str
) -> None:
    config = write_config(tmp_path, igb_sysfs, body)
    result = runner.invoke(cli, ["host", "inspect", "--config", str(config)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", [[], ["host"], ["host", "inspect"], ["host", "generate"]])
def test_every_command_has_help_with_an_example(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert "vfnet " in result.output.split("Example")[1]
