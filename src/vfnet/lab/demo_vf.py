"""The demo's VF steps: a VM with direct, macvtap and vDPA ports, a trusted port and a
QoS limit as the VF table shows them, and a VF mirrored to a capture container."""

from __future__ import annotations

from vfnet.lab.demo_net import NO_PACKETS, table
from vfnet.lab.demo_outcome import Outcome
from vfnet.lab.demo_world import DemoLab, Json, VfPlace, VfTables, first_ip

VIF_TYPES = {"direct": "hw_veb", "macvtap": "hw_veb", "vdpa": "vdpa"}
# What each kind of port is in the domain XML the agent defines (its opening tag).
DEVICE_SHAPES = {
    "direct": 'type="hostdev"',
    "macvtap": 'type="direct"',
    "vdpa": 'type="vdpa"',
}
LIMIT_MBPS = 10
NO_LIBVIRT = "VMs: no --libvirt-uri"  # what an agent serving no VMs logs at start
SETTLE_SECONDS = 20.0


def vm(lab: DemoLab, outcome: Outcome) -> None:
    lab.out.step(
        "A VM with direct, macvtap and vDPA ports",
        "direct and macvtap are on blue (VLAN 100, physnet1), vdpa on green (flat, "
        "physnet2), where host-2's second PF carries vDPA devices. direct hands the guest "
        "the VF itself "
        "(<interface type='hostdev'>), macvtap puts a macvtap on the VF "
        "(type='direct' passthrough), vdpa a vhost-vdpa device on the VF (type='vdpa').",
    )
    kinds = ["direct", "macvtap"]
    has_vdpa = any(
        p["dev_type"] == "vdpa" and p["physnet"] == "physnet2" for p in lab.admin.list_pools()
    )
    if has_vdpa:
        kinds.append("vdpa")
    else:
        outcome.skip("a vdpa port on the VM", "no lab host offers vDPA devices on physnet2")
    for kind in kinds:
        network = "green" if kind == "vdpa" else "blue"
        lab.port(f"vm1-{kind}", network, **{"binding:vnic_type": kind})
    lab.admin.create_flavor("demo.small", vcpus=1, ram_mb=512)
    lab.made.flavors.append("demo.small")
    lab.instance("vm1", "vm", [f"vm1-{kind}" for kind in kinds], flavor="demo.small")
    made = lab.wait_active(["vm1"])["vm1"]
    rows = [
        {
            "port": f"vm1-{p['vnic_type']}",
            "vnic_type": p["vnic_type"],
            "vif_type": p["vif_type"],
            "pci_slot": p["pci_slot"],
            "status": p["status"],
        }
        for p in made["ports"]
    ]
    lab.out.line(f"vm1 on {made['host']}: {made['state']}{_reason(made['reason'])}")
    lab.out.block(table(rows, ["port", "vnic_type", "vif_type", "pci_slot", "status"]))
    bound = all(
        r["vif_type"] == VIF_TYPES[r["vnic_type"]] and r["status"] == "ACTIVE" for r in rows
    )
    outcome.check(
        f"the VM ACTIVE with its {' and '.join(kinds)} ports bound and ACTIVE",
        made["state"] == "ACTIVE" and bound and len(rows) == len(kinds),
        f"{made['state']}{_reason(made['reason'])}",
    )
    if made["host"]:
        in_libvirt(lab, outcome, made)
    devices = lab.vm_devices(made["host"]) if made["host"] else ""
    lab.out.block(devices)
    shapes = [DEVICE_SHAPES[kind] for kind in kinds]
    outcome.check(
        "the VM's domain has " + ", ".join(f"an <interface {s}>" for s in shapes),
        all(shape in devices for shape in shapes),
    )


def in_libvirt(lab: DemoLab, outcome: Outcome, vm: Json) -> None:
    """What the VM's agent logged of its domain: proof it is in libvirt, not only bound."""
    what = "the agent defined and started vm1's domain in libvirt"
    if NO_LIBVIRT in lab.agent_log(vm["host"]):
        outcome.skip(what, "the lab's agents run without --libvirt-uri, so they serve no VMs")
        return
    said = f"vm {vm['id']}: "

    def started() -> list[str] | None:
        lines = [line for line in lab.agent_log(vm["host"]).splitlines() if said in line]
        return lines if any(line.endswith(": started") for line in lines) else None

    lines = lab.wait("the agent to start vm1", started, SETTLE_SECONDS) or []
    for line in lines:
        lab.out.line(f"{vm['host']} agent: {line.split(' vfnet.agent: ', 1)[-1]}")
    outcome.check(what, bool(lines), "not in its agent's log")


def trust_and_qos(lab: DemoLab, outcome: Outcome) -> None:
    lab.out.step(
        "A trusted port and a QoS limit, in the VF table",
        "binding:profile trusted asks for a VF host-1's config tags trusted (its second "
        f"PF); the agent turns trust on. A bandwidth-limit policy of {LIMIT_MBPS} Mbit/s "
        "on c1's port becomes the VF's max_tx_rate.",
    )
    lab.port(
        "trusted", "blue", **{"binding:profile": {"trusted": True}, "binding:host_id": "host-1"}
    )
    rule = {"type": "bandwidth_limit", "max_kbps": LIMIT_MBPS * 1000}
    policy = lab.admin.create_qos_policy({"name": "limit-10m", "rules": [rule]})
    lab.made.qos_policies["limit-10m"] = policy
    lab.admin.update_port(lab.made.ports["c1-eth0"]["id"], {"qos_policy_id": policy["id"]})
    trusted, limited = lab.vf_of("trusted"), lab.vf_of("c1-eth0")
    if trusted is None or limited is None:
        outcome.fail("the trusted port's VF shows trust on", "the port is not bound")
        outcome.fail(f"c1's VF shows max_tx_rate {LIMIT_MBPS}Mbps", "the port is not bound")
        return
    wanted = {trusted: "trust on", limited: f"max_tx_rate {LIMIT_MBPS}Mbps"}
    tables = _settled(lab, "host-1", wanted)
    lab.out.block(tables.text)
    outcome.check(
        "the trusted port's VF shows trust on",
        "trust on" in tables.line(trusted.pf, trusted.vf),
        tables.line(trusted.pf, trusted.vf),
    )
    outcome.check(
        f"c1's VF shows max_tx_rate {LIMIT_MBPS}Mbps",
        wanted[limited] in tables.line(limited.pf, limited.vf),
        tables.line(limited.pf, limited.vf),
    )


def _settled(lab: DemoLab, host: str, wanted: dict[VfPlace, str]) -> VfTables:
    """The host's tables of the PFs concerned, once every VF line shows what it should
    (the agent applies a change within a poll), else as they are after the wait."""
    pfs = sorted({place.pf for place in wanted})
    last = [lab.vf_tables(host, pfs)]

    def shows() -> VfTables | None:
        tables = last[0] = lab.vf_tables(host, pfs)
        held = all(text in tables.line(p.pf, p.vf) for p, text in wanted.items())
        return tables if held else None

    return lab.wait("the agent to apply trust and the rate", shows, SETTLE_SECONDS) or last[0]


def mirror(lab: DemoLab, outcome: Outcome) -> None:
    lab.out.step(
        "Mirroring a VF",
        "mirror_to copies everything c1's VF sends and receives to the sink's VF (the "
        "software switch uses tc mirred). The sink is alone on VLAN 300: every frame it "
        "counts is a copy.",
    )
    what = "the sink counts copies of c1's pings (5 requests, 5 replies)"
    if not lab.packets:
        outcome.skip(what, NO_PACKETS)
        return
    sink = lab.made.ports["sink-eth0"]["id"]
    lab.admin.update_port(lab.made.ports["c1-eth0"]["id"], {"mirror_to": sink})
    ip2 = first_ip(lab.made.ports["c2-eth0"])
    seen = [0]

    def copied() -> int | None:
        before = lab.rx_packets("sink")
        lab.ping("c1", ip2, count=5)
        seen[0] = lab.rx_packets("sink") - before
        return seen[0] if seen[0] >= 10 else None

    lab.wait("the agent to set the mirror", copied, SETTLE_SECONDS)
    lab.out.line(f"c1 pinged c2 5 times; the sink's eth0 received {seen[0]} frames")
    outcome.check(what, seen[0] >= 10, f"{seen[0]} frames")


def _reason(reason: str | None) -> str:
    return f" ({reason})" if reason else ""
