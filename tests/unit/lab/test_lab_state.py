"""lab.json: what a lab made, read back exactly; a lab is healthy only while its processes run."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from vfnet.errors import ConfigError
from vfnet.lab.down import remove_files
from vfnet.lab.processes import ProcessRecord, start_time
from vfnet.lab.state import HostRecord, LabState, load, save


def this_process() -> ProcessRecord:
    started = start_time(os.getpid())
    assert started is not None
    return ProcessRecord(os.getpid(), started, ("pytest",), "/dev/null")


def lab(tmp_path: Path, **changes: object) -> LabState:
    hosts = tuple(
        HostRecord(name, f"{tmp_path}/hosts/{name}/host.toml",
                   f"{tmp_path}/hosts/{name}/agent.token", f"{tmp_path}/hosts/{name}/agent.log")
        for name in ("host-1", "host-2")
    )  # fmt: skip
    state = LabState(
        dir=str(tmp_path), driver="eswitch", url="http://127.0.0.1:8775",
        database_url=f"sqlite:///{tmp_path}/vfnet.db", admin_token_file=f"{tmp_path}/admin.token",
        server_log=f"{tmp_path}/server.log", made_dir=True, hosts=hosts,
        namespaces=("vfnet-host-1", "vfnet-host-2"), files=("hosts", "vfnet.db", "server.log"),
    )  # fmt: skip
    return replace(state, **changes)  # type: ignore[arg-type]


def test_a_saved_lab_reads_back_exactly(tmp_path: Path) -> None:
    state = (
        lab(tmp_path)
        .with_server(ProcessRecord(10, 20, ("vfnet-server", "serve"), "server.log"))
        .with_agent("host-2", ProcessRecord(11, 21, ("vfnet-agent",), "agent.log"))
        .with_containers(("vfnet-c-abc",))
    )
    save(state, tmp_path)
    assert load(tmp_path) == state


def test_no_state_file_means_no_lab(tmp_path: Path) -> None:
    assert load(tmp_path) is None


def test_a_recorded_agent_replaces_only_its_own_host(tmp_path: Path) -> None:
    agent = ProcessRecord(11, 21, ("vfnet-agent",), "agent.log")
    state = lab(tmp_path).with_agent("host-2", agent)
    assert [h.agent for h in state.hosts] == [None, agent]


def test_a_state_file_of_another_version_is_refused_naming_the_file(tmp_path: Path) -> None:
    text = lab(tmp_path).to_json().replace('"version": 1', '"version": 9')
    (tmp_path / "lab.json").write_text(text)
    with pytest.raises(ConfigError, match=r"lab\.json.*version.*9"):
        load(tmp_path)


def test_a_state_file_that_is_not_one_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "lab.json").write_text('{"version": 1, "dir": "x"}')
    with pytest.raises(ConfigError, match=r"lab\.json: not a lab state file"):
        load(tmp_path)


def test_a_lab_whose_processes_all_run_is_healthy(tmp_path: Path) -> None:
    me = this_process()
    state = lab(tmp_path).with_server(me).with_agent("host-1", me).with_agent("host-2", me)
    assert state.healthy()


def test_a_lab_with_an_agent_never_started_is_not_healthy(tmp_path: Path) -> None:
    me = this_process()
    assert not lab(tmp_path).with_server(me).with_agent("host-1", me).healthy()


def test_a_pid_now_held_by_another_process_makes_the_lab_stale(tmp_path: Path) -> None:
    me = this_process()
    recycled = replace(me, start_time=me.start_time - 1)
    state = lab(tmp_path).with_server(me).with_agent("host-1", me).with_agent("host-2", recycled)
    assert not state.healthy()


def test_processes_are_stopped_agents_first_and_the_server_last(tmp_path: Path) -> None:
    server, agent = (ProcessRecord(n, n, ("x",), "log") for n in (1, 2))
    state = lab(tmp_path).with_server(server).with_agent("host-2", agent)
    assert state.processes == [agent, server]


def test_removing_the_files_leaves_what_the_lab_did_not_write(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    (lab_dir / "hosts" / "host-1").mkdir(parents=True)
    (lab_dir / "hosts" / "host-1" / "host.toml").write_text("")
    (lab_dir / "server.log").write_text("")
    (lab_dir / "notes.txt").write_text("mine")
    state = lab(lab_dir)
    save(state, lab_dir)
    remove_files(state, lab_dir)
    assert sorted(p.name for p in lab_dir.iterdir()) == ["notes.txt"]


def test_removing_the_files_removes_the_folder_the_lab_made(tmp_path: Path) -> None:
    lab_dir = tmp_path / "lab"
    (lab_dir / "hosts").mkdir(parents=True)
    state = lab(lab_dir)
    save(state, lab_dir)
    remove_files(state, lab_dir)
    assert not lab_dir.exists()


def test_a_folder_the_user_gave_stays_even_when_empty(tmp_path: Path) -> None:
    state = lab(tmp_path, made_dir=False)
    save(state, tmp_path)
    remove_files(state, tmp_path)
    assert tmp_path.is_dir()
    assert not any(tmp_path.iterdir())
