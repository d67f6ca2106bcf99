"""vfnet-agent as a process against a real vfnet-server, on generated hosts, memory driver."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.functional.agent.processes import Host, eventually
from vfnet.lab.numvfs import EmulatedNumVfs
from vfnet.pci.address import PciAddress

PF0 = PciAddress.parse("0000:3b:00.0")
VF1 = "0000:3b:02.1"


def test_one_pass_registers_the_host_creates_the_vfs_and_reports_them(host: Host) -> None:
    done = host.run_once()
    assert done.returncode == 0, done.stderr
    assert EmulatedNumVfs(host.root).read_num_vfs(PF0) == 4
    registered = host.admin.get_host(host.name)
    assert registered["physnets"] == ["physnet1"]
    assert registered["report_generation"] >= 1
    devices = host.devices()
    assert sorted(devices) == ["0000:3b:02.0", "0000:3b:02.1", "0000:3b:02.2", "0000:3b:02.3"]
    assert {(d["physnet"], d["healthy"], d["ifname"][:7]) for d in devices.values()} == {
        ("physnet1", True, "ens1f0v")
    }
    for step in ("discover:", "num_vfs ens1f0: writing", "select:", "tag:", "health:", "report:"):
        assert step in done.stderr


def test_a_restarted_agent_counts_report_generations_on_from_the_servers(host: Host) -> None:
    assert host.run_once().returncode == 0
    first = host.admin.get_host(host.name)["report_generation"]
    host.write_config("physnet1:ens1f0,physnet2:ens1f1", {"ens1f0": 4, "ens1f1": 1})
    assert host.run_once().returncode == 0
    assert host.admin.get_host(host.name)["report_generation"] > first
    assert "0000:3b:0a.0" in host.devices()


def test_a_pf_named_in_the_config_that_does_not_exist_is_reported_and_the_rest_served(
    host: Host,
) -> None:
    host.write_config("physnet1:ens1f0,physnet2:ens9", {"ens1f0": 4, "ens9": 2})
    done = host.run_once()
    assert done.returncode == 1
    assert "num_vfs ens9: PF does not exist on this host" in done.stderr
    assert "physical_device_mappings physnet2:ens9: PF does not exist on this host" in done.stderr
    assert len(host.devices()) == 4


def test_a_bad_config_at_start_is_one_line_and_exit_status_2(host: Host) -> None:
    host.config.write_text('[host]\nname = "x"\ncolour = "blue"\n')
    done = host.run_once()
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "colour" in line and "unknown key" in line


def test_an_unbound_vf_is_reported_unhealthy_within_a_pass(host: Host, looping: Path) -> None:
    vf = host.device_dir(VF1)
    (vf / "driver").unlink()
    (host.root / "bus/pci/drivers/iavf" / VF1).unlink()
    eventually(lambda: host.devices()[VF1]["health_reasons"] == ["driver unbound"], looping)
    assert not host.devices()[VF1]["healthy"]


def test_a_pf_losing_carrier_makes_its_vfs_unhealthy(host: Host, looping: Path) -> None:
    netdev = host.device_dir(str(PF0)) / "net/ens1f0"
    (netdev / "carrier").write_text("0\n")
    (netdev / "operstate").write_text("down\n")
    eventually(
        lambda: all(
            d["health_reasons"] == ["pf ens1f0: no carrier"] for d in host.devices().values()
        ),
        looping,
    )


def test_vfs_removed_behind_the_agents_back_are_created_again(host: Host, looping: Path) -> None:
    EmulatedNumVfs(host.root).set_num_vfs(PF0, 0)
    eventually(lambda: EmulatedNumVfs(host.root).read_num_vfs(PF0) == 4, looping)
    assert all(d["healthy"] for d in host.devices().values())


def test_a_config_change_is_picked_up_without_a_restart(host: Host, looping: Path) -> None:
    host.write_config("physnet1:ens1f0,physnet2:ens1f1", {"ens1f0": 4, "ens1f1": 2})
    eventually(lambda: len(host.devices()) == 6, looping)
    assert host.admin.get_host(host.name)["physnets"] == ["physnet1", "physnet2"]
    physnets = {d["address"]: d["physnet"] for d in host.devices().values()}
    assert physnets["0000:3b:0a.1"] == "physnet2"


def test_a_bad_new_config_is_logged_and_the_old_one_kept(host: Host, looping: Path) -> None:
    host.config.write_text(host.config.read_text().replace('"ens1f0" = 4', '"ens1f0" = -1'))
    eventually(lambda: "keeping the previous config" in looping.read_text(), looping)
    # Still serving with the old config: a change on the host still shows.
    (host.device_dir(VF1) / "driver").unlink()
    (host.root / "bus/pci/drivers/iavf" / VF1).unlink()
    eventually(lambda: not host.devices()[VF1]["healthy"], looping)
    [line] = [ln for ln in looping.read_text().splitlines() if "keeping the previous" in ln]
    assert "[num_vfs]: ens1f0: expected a whole number >= 0, not -1" in line


def test_the_eswitch_driver_without_root_is_refused_in_one_line_naming_memory(host: Host) -> None:
    command = [*host.command("eswitch"), "--once"]
    if os.geteuid() == 0:  # the same agent, as root without any capability
        command = ["setpriv", "--bounding-set=-all", "--inh-caps=-all", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()
    assert "--driver eswitch" in line and "needs root" in line and "--driver memory" in line
