"""``vfnet host generate`` writes an emulated host that ``vfnet host inspect`` then reads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from vfnet.cli.main import cli

VFNET = Path(sys.executable).parent / "vfnet"


@pytest.mark.parametrize(
    ("args", "summary"),
    [
        (
            ["--nic", "82576", "--pfs", "2", "--vfs", "4"],
            "82576 (igb): 2 PFs, 8 VFs, 12 PCI functions",
        ),
        (
            ["--nic", "x710", "--pfs", "2", "--vfs", "8", "--numa", "2"],
            "x710 (i40e): 2 PFs, 16 VFs, 20 PCI functions",
        ),
        (
            ["--nic", "cx6dx", "--pfs", "2", "--vfs", "2", "--vdpa", "--switchdev"],
            "cx6dx (mlx5_core): 2 PFs, 4 VFs (4 vDPA), 8 PCI functions",
        ),
    ],
)
def test_generate_says_where_it_wrote_and_what(
    runner: CliRunner, tmp_path: Path, args: list[str], summary: str
) -> None:
    out = tmp_path / "sys"
    result = runner.invoke(cli, ["host", "generate", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"wrote {out}", summary]
    assert (out / "bus/pci/devices").is_dir()


def test_switchdev_representors_show_in_the_inspection(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "sys"
    args = ["--nic", "cx6dx", "--pfs", "1", "--vfs", "2", "--switchdev", "--out", str(out)]
    assert runner.invoke(cli, ["host", "generate", *args]).exit_code == 0
    result = runner.invoke(cli, ["host", "inspect", "--sysfs", str(out), "--json"])
    vfs = [d for d in json.loads(result.stdout)["devices"] if d["type"] == "type-VF"]
    assert [vf["representor"] is not None for vf in vfs] == [True, True]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nic", "nosuchnic", "--pfs", "1", "--vfs", "1"], "error: nic: unknown NIC model"),
        (["--nic", "82576", "--pfs", "1", "--vfs", "8"], "error: vfs: 8 is outside 0..7"),
        (["--nic", "82576", "--pfs", "1", "--vfs", "1", "--vdpa"], "error: vdpa:"),
    ],
)
def test_an_impossible_host_is_refused_with_exit_code_2(
    runner: CliRunner, tmp_path: Path, args: list[str], message: str
) -> None:
    result = runner.invoke(cli, ["host", "generate", *args, "--out", str(tmp_path / "sys")])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert len(result.stderr.splitlines()) == 1


def test_the_installed_command_generates_and_inspects_a_host(tmp_path: Path) -> None:
    if not VFNET.exists():
        pytest.skip(f"{VFNET} is not installed")
    out = tmp_path / "sys"
    generate = [VFNET, "host", "generate", "--nic", "x710", "--pfs", "2", "--vfs", "3"]
    subprocess.run([*generate, "--out", str(out)], check=True, capture_output=True)
    inspect = subprocess.run(
        [VFNET, "host", "inspect", "--sysfs", str(out), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    devices = json.loads(inspect.stdout)["devices"]
    pfs = [d for d in devices if d["type"] == "type-PF"]
    assert [(pf["driver"], pf["sriov"]["num_vfs"]) for pf in pfs] == [("i40e", 3), ("i40e", 3)]
    assert [d["vf_index"] for d in devices if d["pf"] == pfs[1]["address"]] == [0, 1, 2]
    failed = subprocess.run(
        [VFNET, "host", "inspect", "--sysfs", str(tmp_path / "none")],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1
    assert failed.stderr.count("\n") == 1 and failed.stderr.startswith("error: ")
