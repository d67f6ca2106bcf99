"""``vfnet lab down``: stops what ``lab.json`` says the lab started and removes what it made.

agents -> their hosts' switches (``vfnet-agent --teardown``) -> the lab's container
namespaces -> the server -> the files. Only what the state file names is touched: a
process is signalled only while it has the recorded start time, a container namespace
is removed only when the lab's server lists its instance, and a namespace someone else
made stays whatever its name.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Protocol

import httpx

from vfnet.client import Client
from vfnet.errors import VfnetError
from vfnet.lab.namespaces import delete_container_netns, list_netns, netns_exists
from vfnet.lab.processes import installed_command, is_running, stop, stop_all
from vfnet.lab.server import LabServer
from vfnet.lab.state import CONTAINER_PREFIX, STATE_FILE, HostRecord, LabState, load, save

TEARDOWN_SECONDS = 60.0


class Reporter(Protocol):
    def line(self, text: str) -> None: ...


def teardown_argv(host: HostRecord) -> list[str]:
    """Removes the host's switch; ``--host`` so a config file already gone does not matter."""
    return [installed_command("vfnet-agent"), "--config", host.config, "--host", host.name,
            "--teardown"]  # fmt: skip


def lab_down(lab_dir: Path, out: Reporter) -> None:
    """Takes the lab in ``lab_dir`` down; a second call finds nothing to do.

    Raises:
        VfnetError: something could not be removed; ``lab.json`` stays so a later
            ``down`` tries again.
    """
    state = load(lab_dir)
    if state is None:
        out.line(f"No lab in {lab_dir}: nothing to do.")
        return
    problems = release(state, out, lab_dir)
    if problems:
        raise VfnetError(f"{'; '.join(problems)}; fix that, then run vfnet lab down again")
    remove_files(state, lab_dir)
    out.line(f"The lab in {lab_dir} is down: its processes, namespaces and files are gone.")


def release(state: LabState, out: Reporter, lab_dir: Path) -> list[str]:
    """Stops the lab's processes and removes its namespaces; what could not be, as lines."""
    state = _note_containers(state, out, lab_dir)
    problems = []
    agents = {host.name: host.agent for host in state.hosts if host.agent is not None}
    for (name, agent), outcome in zip(agents.items(), stop_all(list(agents.values())), strict=True):
        out.line(f"agent of {name} (pid {agent.pid}): {outcome}")
    if state.driver == "eswitch":
        problems += [p for host in state.hosts if (p := _teardown(host))]
    for ns in state.containers:
        if netns_exists(ns):
            delete_container_netns(ns)
            out.line(f"container namespace {ns}: removed")
    if state.server is not None:
        out.line(f"server (pid {state.server.pid}): {stop(state.server)}")
    problems += [f"namespace {ns} is still there" for ns in state.namespaces if netns_exists(ns)]
    for problem in problems:
        out.line(f"  not done: {problem}")
    return problems


def _teardown(host: HostRecord) -> str | None:
    done = subprocess.run(
        teardown_argv(host), capture_output=True, text=True, timeout=TEARDOWN_SECONDS, check=False
    )
    if done.returncode != 0:
        return f"the switch of {host.name}: {done.stderr.strip() or done.returncode}"
    return None


def _note_containers(state: LabState, out: Reporter, lab_dir: Path) -> LabState:
    """Writes down the namespaces of the lab's container instances, asked of its server
    (started again for the question when it is not running)."""
    if not any(name.startswith(CONTAINER_PREFIX) for name in list_netns()):
        return state
    try:
        found = _container_namespaces(state, lab_dir)
    except (VfnetError, OSError, httpx.HTTPError) as error:
        out.line(f"could not list the lab's containers ({error}); vfnet-c-* namespaces stay")
        return state
    state = state.with_containers(found)
    save(state, lab_dir)
    return state


def _container_namespaces(state: LabState, lab_dir: Path) -> tuple[str, ...]:
    token_file = Path(state.admin_token_file)
    if not token_file.exists():  # the server never answered: no instance was ever made
        return ()
    token = token_file.read_text().strip()
    if state.server is not None and is_running(state.server):
        return _ask(state.url, token)
    if not (lab_dir / "vfnet.db").exists():
        return ()
    with LabServer(lab_dir) as server:
        return _ask(server.url, token)


def _ask(url: str, token: str) -> tuple[str, ...]:
    with Client(url, token, timeout=10) as admin:
        instances = admin.list_instances()
    return tuple(CONTAINER_PREFIX + i["id"] for i in instances if i["kind"] == "container")


def remove_files(state: LabState, lab_dir: Path) -> None:
    """The files the lab wrote, the state file last, and its folder if the lab made it."""
    for name in state.files:
        path = lab_dir / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    (lab_dir / f"{STATE_FILE}.new").unlink(missing_ok=True)
    (lab_dir / STATE_FILE).unlink(missing_ok=True)
    if state.made_dir and lab_dir.is_dir() and not any(lab_dir.iterdir()):
        lab_dir.rmdir()
