"""What ``vfnet lab up`` plans before it makes anything: hosts, driver, names, command lines."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from vfnet.config import load_host_config
from vfnet.errors import ValidationError, VfnetError
from vfnet.lab.down import teardown_argv
from vfnet.lab.hosts import LAB_HOSTS, create_lab_hosts, plan_lab_hosts
from vfnet.lab.processes import spawn
from vfnet.lab.up import (
    DEFAULT_DIR,
    agent_argv,
    can_build_switches,
    check_alive,
    choose_driver,
    next_steps,
    planned_state,
)


class Said:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, text: str) -> None:
        self.lines.append(text)


def test_the_default_plan_is_the_demo_s_two_hosts() -> None:
    assert plan_lab_hosts() == [
        (name, replace(spec, hostname=name), syntax) for name, spec, syntax in LAB_HOSTS
    ]


def test_further_hosts_take_turns_at_the_two_config_syntaxes() -> None:
    plan = plan_lab_hosts(4)
    assert [(name, syntax) for name, _, syntax in plan] == [
        ("host-1", "device_spec"), ("host-2", "device_plugin"),
        ("host-3", "device_spec"), ("host-4", "device_plugin"),
    ]  # fmt: skip


def test_nic_pfs_and_vfs_apply_to_every_host() -> None:
    plan = plan_lab_hosts(3, nic="e810", pfs=3, vfs=5)
    assert {(spec.nic, spec.pfs, spec.vfs) for _, spec, _ in plan} == {("e810", 3, 5)}


def test_a_nic_with_fewer_vfs_than_a_host_s_default_gets_all_it_has() -> None:
    plan = plan_lab_hosts(2, nic="82576")
    assert [spec.vfs for _, spec, _ in plan] == [7, 4]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"count": 1}, "--hosts"),
        ({"vfs": 0}, "--vfs"),
        ({"vfs": 500}, "--vfs"),
        ({"pfs": 0}, "--pfs"),
        ({"nic": "rtl8139"}, "--nic"),
    ],
)
def test_a_plan_the_hosts_cannot_carry_is_refused_naming_the_option(
    options: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        plan_lab_hosts(**options)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_a_third_pf_goes_to_physnet2_in_both_config_syntaxes(sysroot: Path) -> None:
    hosts = create_lab_hosts(sysroot, plan_lab_hosts(2, pfs=3, vfs=2))
    for host in hosts:
        config = load_host_config(host.config_path)
        third = host.devices.pfs()[2]
        chosen = {
            item.device.parent_addr: item.physical_network for item in config.select(host.devices)
        }
        assert chosen[third.address] == "physnet2", host.name


def test_eswitch_asked_for_without_the_capabilities_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        choose_driver("eswitch", capable=False, out=Said())
    assert refused.value.field == "--driver"
    assert "--driver memory" in refused.value.reason


def test_by_default_root_gets_the_eswitch_silently() -> None:
    said = Said()
    assert choose_driver(None, capable=True, out=said) == "eswitch"
    assert said.lines == []


def test_by_default_without_root_the_memory_driver_is_chosen_and_said_in_one_line() -> None:
    said = Said()
    assert choose_driver(None, capable=False, out=said) == "memory"
    assert len(said.lines) == 1
    assert "memory driver" in said.lines[0]


@pytest.mark.parametrize(
    ("caps", "capable"),
    [("000001ffffffffff", True), ("0000000000001000", False), ("0000000000201000", True)],
)
def test_switches_need_both_net_admin_and_sys_admin(
    tmp_path: Path, caps: str, capable: bool
) -> None:
    status = tmp_path / "status"
    status.write_text(f"Name:\tvfnet\nCapInh:\t0000000000000000\nCapEff:\t{caps}\n")
    assert can_build_switches(status) is capable


def test_every_name_is_fixed_before_anything_is_made(tmp_path: Path) -> None:
    state = planned_state(tmp_path / "lab", plan_lab_hosts(), "eswitch", True, 8775)
    base = (tmp_path / "lab").resolve()
    assert state.url == "http://127.0.0.1:8775"
    assert state.database_url == f"sqlite:///{base}/vfnet.db"
    assert state.namespaces == ("vfnet-host-1", "vfnet-host-2")
    assert [h.config for h in state.hosts] == [
        f"{base}/hosts/host-1/host.toml", f"{base}/hosts/host-2/host.toml",
    ]  # fmt: skip
    assert state.server is None
    assert all(h.agent is None for h in state.hosts)


def test_the_memory_driver_makes_no_namespaces(tmp_path: Path) -> None:
    assert planned_state(tmp_path, plan_lab_hosts(), "memory", False, 8775).namespaces == ()


def test_an_agent_runs_with_its_config_server_token_file_and_driver(tmp_path: Path) -> None:
    state = planned_state(tmp_path, plan_lab_hosts(), "eswitch", False, 8775)
    host = state.hosts[0]
    argv = agent_argv(host, state.url, state.driver)
    assert Path(argv[0]).name == "vfnet-agent"
    assert argv[1:9] == [
        "--config", host.config, "--server", "http://127.0.0.1:8775",
        "--token-file", host.token_file, "--driver", "eswitch",
    ]  # fmt: skip
    assert argv[-4:] == ["--libvirt-uri", "test:///default", "--domain-type", "qemu"]


def test_host_2_carries_vdpa_devices_on_its_second_pf_only(tmp_path: Path) -> None:
    _, spec, _ = plan_lab_hosts()[1]
    assert (spec.vdpa, spec.vdpa_pf) == (True, 1)
    _, other_nic, _ = plan_lab_hosts(nic="x710")[1]
    assert (other_nic.vdpa, other_nic.vdpa_pf) == (False, None)  # the X710 has no vDPA


def test_a_host_s_switch_is_removed_by_name_without_its_config(tmp_path: Path) -> None:
    host = planned_state(tmp_path, plan_lab_hosts(), "eswitch", False, 8775).hosts[1]
    argv = teardown_argv(host)
    assert argv[1:] == ["--config", host.config, "--host", "host-2", "--teardown"]


def test_the_next_steps_export_the_server_and_the_admin_token(tmp_path: Path) -> None:
    state = planned_state(tmp_path, plan_lab_hosts(), "memory", False, 8775)
    steps = next_steps(state, DEFAULT_DIR)
    token = state.admin_token_file
    assert f"  export VFNET_URL=http://127.0.0.1:8775 VFNET_TOKEN=$(cat {token})" in steps
    assert "  vfnet lab down" in steps
    assert "  vfnet lab down --dir /tmp/lab" in next_steps(state, Path("/tmp/lab"))


def test_an_agent_that_exits_at_start_fails_up_with_the_end_of_its_log(tmp_path: Path) -> None:
    state = planned_state(tmp_path, plan_lab_hosts(), "memory", False, 8775)
    host = state.hosts[1]
    Path(host.log).parent.mkdir(parents=True)
    _, agent = spawn(["sh", "-c", "echo 'host-2: no such PF ens9f0'; exit 2"], Path(host.log))
    agent.wait()
    with pytest.raises(VfnetError) as failed:
        check_alive(state, {host.name: agent})
    assert str(failed.value) == (
        f"the agent of host-2 exited with code 2; the end of {host.log}:\nhost-2: no such PF ens9f0"
    )
