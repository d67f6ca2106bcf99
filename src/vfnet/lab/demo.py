"""``vfnet lab demo``: the seeds' flows walked end to end on a lab of its own.

lab up (fresh, in its own folder) -> hosts and pools -> VF tables before -> networks ->
ports -> containers on two hosts, pinging and isolated -> a VM -> trust and QoS in the
VF table -> mirroring -> live migration -> release -> lab down, always, even after a
failure or Ctrl-C, so the machine is left as it was. Each step records what held in
the :class:`Outcome`; a step that cannot go on ends the walk as a failed check.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from vfnet.client import Client
from vfnet.errors import VfnetError
from vfnet.lab import demo_end, demo_net, demo_vf
from vfnet.lab.demo_outcome import Outcome, Reporter
from vfnet.lab.demo_world import DemoLab
from vfnet.lab.down import lab_down
from vfnet.lab.namespaces import netns_exists
from vfnet.lab.state import load
from vfnet.lab.up import UpOptions, lab_up

DEFAULT_DIR = Path("lab")
WALKED = "the walk reached its end"


@dataclass(frozen=True, slots=True)
class DemoOptions:
    lab_dir: Path = DEFAULT_DIR
    driver: str | None = None  # None: eswitch as root, else memory


def run_demo(options: DemoOptions, out: Reporter) -> Outcome:
    """Brings a lab up, walks it, takes it down; every check made, with the time taken."""
    started = time.monotonic()
    outcome = Outcome()
    if load(options.lab_dir) is not None:
        out.line(f"A lab is left in {options.lab_dir} from an earlier run: taking it down first.")
        lab_down(options.lab_dir, out)
    out.step(
        "The lab",
        "vfnet lab up: two emulated hosts (generated sysfs trees and host configs), a "
        "vfnet-server on SQLite and one vfnet-agent per host, in the background.",
    )
    try:
        state, _ = lab_up(UpOptions(lab_dir=options.lab_dir, driver=options.driver), out)
        token = Path(state.admin_token_file).read_text().strip()
        with Client(state.url, token) as admin:
            walk(DemoLab(state, admin, out), outcome)
        outcome.check(WALKED, True)
    except (VfnetError, httpx.HTTPError) as error:
        outcome.fail(WALKED, str(error).splitlines()[0])
        out.line(f"stopped: {error}")
    finally:
        take_down(options.lab_dir, out, outcome)
        outcome.seconds = time.monotonic() - started
    return outcome


def walk(lab: DemoLab, outcome: Outcome) -> None:
    demo_net.hosts_and_pools(lab, outcome)
    states, before = demo_end.device_states(lab), demo_end.vf_tables(lab)
    source = (
        "read from each host's software switch by the eswitch driver"
        if lab.packets
        else "as the server asks them of the memory driver (its own tables live in its agent)"
    )
    lab.out.step(
        "VF tables before",
        f"Each host's PFs as ip -d link show prints them, {source}: every VF at reset.",
    )
    for tables in before.values():
        lab.out.block(tables.text)
    demo_net.networks(lab, outcome)
    demo_net.direct_ports(lab, outcome)
    demo_net.containers(lab, outcome)
    demo_net.pings(lab, outcome, "c1 (host-1) and c2 (host-2) ping each other over their VFs")
    demo_net.isolation(lab, outcome)
    demo_vf.vm(lab, outcome)
    demo_vf.trust_and_qos(lab, outcome)
    demo_vf.mirror(lab, outcome)
    demo_end.migration(lab, outcome)
    demo_end.release(lab, outcome, states, before)


def take_down(lab_dir: Path, out: Reporter, outcome: Outcome) -> None:
    out.step(
        "Down",
        "vfnet lab down: the agents, their switches, the containers' "
        "namespaces, the server and the lab's files, all gone.",
    )
    state = load(lab_dir)
    what = "the lab is down: none of its processes, namespaces or files is left"
    try:
        lab_down(lab_dir, out)
    except VfnetError as error:
        outcome.fail(what, str(error))
        return
    left = [ns for ns in (state.namespaces if state else ()) if netns_exists(ns)]
    outcome.check(what, not left and load(lab_dir) is None, ", ".join(left))
