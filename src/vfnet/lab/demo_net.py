"""The demo's first steps: hosts and pools, networks and subnets, direct ports, and
containers on two hosts that reach each other over their VFs and not across segments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vfnet.lab.demo_outcome import Outcome
from vfnet.lab.demo_world import DemoLab, Json, first_ip

NO_PACKETS = "no packets flow on the memory driver; the eswitch needs root"
# Two VLANs on physnet1 with the same addresses: only the segment keeps them apart.
NETWORKS: tuple[tuple[str, str, str, str, dict[str, Any]], ...] = (
    ("blue", "vlan", "physnet1", "10.0.100.0/24", {"provider:segmentation_id": 100}),
    ("red", "vlan", "physnet1", "10.0.100.0/24", {"provider:segmentation_id": 200}),
    ("green", "flat", "physnet2", "10.0.2.0/24", {}),
    ("tap", "vlan", "physnet1", "", {"provider:segmentation_id": 300}),
)
RED_IP = "10.0.100.99"  # one address the blue subnet also has, held by no blue port


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    """Rows as aligned columns under upper-case headers."""
    cells = [[c.upper() for c in columns]]
    cells += [["-" if r.get(c) is None else str(r[c]) for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def hosts_and_pools(lab: DemoLab, outcome: Outcome) -> None:
    lab.out.step(
        "Hosts and their pools",
        "Each agent read its host's generated sysfs, selected VFs with the host config "
        "(host-1: Nova [pci] device_spec, host-2: Neutron mappings and a device-plugin "
        "resourceList) and reported them; the server pools them per PF, as Nova does.",
    )
    pools = [{**p, "resource": p["tags"].get("resource_name")} for p in lab.admin.list_pools()]
    lab.out.block(
        table(
            sorted(pools, key=lambda p: (p["host"], p["parent_addr"] or "")),
            ["host", "dev_type", "physnet", "parent_addr", "resource", "free", "total"],
        )
    )
    reported = {p["host"] for p in pools if p["dev_type"] == "type-VF" and p["total"]}
    outcome.check("both hosts reported VF pools", reported == {h.name for h in lab.state.hosts})


def networks(lab: DemoLab, outcome: Outcome) -> None:
    lab.out.step(
        "Networks and subnets",
        "A flat network takes a physical network untagged; a VLAN network is one segment "
        "on it. blue (VLAN 100) and red (VLAN 200) share physnet1 and even their addresses; "
        "green is flat on physnet2; tap (VLAN 300) will receive mirrored traffic.",
    )
    for name, kind, physnet, cidr, extra in NETWORKS:
        lab.network(name, kind, physnet, cidr, **extra)
    rows = []
    for name, made in lab.made.networks.items():
        subnets = lab.admin.list_subnets(made["id"])
        rows.append(
            {
                "network": name,
                "type": made["provider:network_type"],
                "physnet": made["provider:physical_network"],
                "segment": made.get("provider:segmentation_id"),
                "subnet": ", ".join(s["cidr"] for s in subnets) or None,
            }
        )
    lab.out.block(table(rows, ["network", "type", "physnet", "segment", "subnet"]))
    kinds = {r["type"] for r in rows if r["subnet"]}
    outcome.check("a flat and a VLAN network, each with a subnet", kinds == {"flat", "vlan"})


def direct_ports(lab: DemoLab, outcome: Outcome) -> None:
    lab.out.step(
        "Direct ports",
        "A port with vnic_type direct asks for a VF of its network's physical network. "
        "It gets a MAC and a fixed IP now; a VF only when it is bound to a host.",
    )
    for name, network in (("c1-eth0", "blue"), ("c2-eth0", "blue"), ("sink-eth0", "tap")):
        lab.port(name, network)
    lab.port("c3-eth0", "red", fixed_ips=[{"ip_address": RED_IP}])
    rows = [
        {
            "port": n,
            "mac": p["mac_address"],
            "ip": first_ip(p),
            "vnic_type": p["binding:vnic_type"],
            "status": p["status"],
        }
        for n, p in lab.made.ports.items()
    ]
    lab.out.block(table(rows, ["port", "mac", "ip", "vnic_type", "status"]))
    addressed = all(r["mac"] and (r["ip"] or r["port"] == "sink-eth0") for r in rows)
    outcome.check("direct ports got a MAC and a fixed IP", addressed)


def containers(lab: DemoLab, outcome: Outcome) -> dict[str, Json]:
    lab.out.step(
        "Containers on two hosts",
        "Each container is a network namespace; its port's VF is moved in as eth0 with the "
        "port's MAC and IP. c1 goes to host-1 and c2 to host-2 (an admin may name the "
        "host), c3 on red, and a capture container on tap, beside c1.",
    )
    lab.instance("c1", "container", ["c1-eth0"], host="host-1")
    lab.instance("c2", "container", ["c2-eth0"], host="host-2")
    lab.instance("c3", "container", ["c3-eth0"], host="host-1")
    lab.instance("sink", "container", ["sink-eth0"], host="host-1")
    seen = lab.wait_active(["c1", "c2", "c3", "sink"])
    rows = [
        {
            "instance": n,
            "host": i["host"],
            "state": i["state"],
            "vf": i["ports"][0]["pci_slot"],
            "ip": first_ip(lab.admin.get_port(i["ports"][0]["id"])),
            "reason": i["reason"],
        }
        for n, i in seen.items()
    ]
    lab.out.block(table(rows, ["instance", "host", "state", "vf", "ip", "reason"]))
    spread = seen["c1"]["host"] == "host-1" and seen["c2"]["host"] == "host-2"
    active = all(i["state"] == "ACTIVE" for i in seen.values())
    outcome.check(
        "containers ACTIVE, c1 on host-1 and c2 on host-2",
        spread and active,
        ", ".join(f"{r['instance']} {r['state']} on {r['host']}" for r in rows),
    )
    return seen


def pings(lab: DemoLab, outcome: Outcome, what: str, first: str = "c1") -> None:
    """c1 and c2 reach each other, ``first`` asking first (skipped where no packets flow)."""
    if not lab.packets:
        outcome.skip(what, NO_PACKETS)
        return
    ips = {name: first_ip(lab.made.ports[f"{name}-eth0"]) for name in ("c1", "c2")}
    order = [first, "c2" if first == "c1" else "c1"]
    answered = []
    for src, dst in zip(order, reversed(order), strict=True):
        ok = lab.ping(src, ips[dst])
        answered.append(ok)
        lab.out.line(
            f"ip netns exec {lab.netns(src)} ping -c1 -W1 {ips[dst]}: "
            f"{'reply' if ok else 'NO REPLY'}"
        )
    outcome.check(what, all(answered))


def isolation(lab: DemoLab, outcome: Outcome) -> None:
    what = "c3 on VLAN 200 does not reach c1 on VLAN 100"
    if not lab.packets:
        outcome.skip(what, NO_PACKETS)
        return
    ip1 = first_ip(lab.made.ports["c1-eth0"])
    reached = lab.ping("c3", ip1)
    lab.out.line(
        f"ip netns exec {lab.netns('c3')} ping -c1 -W1 {ip1}: "
        f"{'reply (it should not!)' if reached else 'no reply, as it should be'}"
    )
    outcome.check(what, not reached)
