"""The demo's last steps: a live migration that keeps the port's MAC and IP, then the
release of everything, after which every VF reads as it did before the demo began."""

from __future__ import annotations

from vfnet.lab.demo_net import pings, table
from vfnet.lab.demo_outcome import Outcome
from vfnet.lab.demo_world import DemoLab, VfTables, first_ip

RELEASE_SECONDS = 60.0


def migration(lab: DemoLab, outcome: Outcome) -> None:
    lab.out.step(
        "Live migration",
        "c2 moves to host-1: a VF is claimed there first, c2's VF on host-2 is unplugged, "
        "the port is bound again on host-1 with the same MAC, VLAN and IP, then the VF on "
        "host-2 is reset and released.",
    )
    port_id = lab.made.ports["c2-eth0"]["id"]
    before = lab.admin.get_port(port_id)
    instance = lab.made.instances["c2"]
    moved = lab.admin.migrate_instance(instance["id"], host="host-1", live=True, wait=120)
    lab.made.instances["c2"] = moved
    after = lab.admin.get_port(port_id)
    rows = [
        {
            "when": when,
            "host": p["binding:host_id"],
            "pci_slot": p["binding:profile"].get("pci_slot"),
            "mac": p["mac_address"],
            "ip": first_ip(p),
            "status": p["status"],
        }
        for when, p in (("before", before), ("after", after))
    ]
    lab.out.line(
        f"c2: {instance['host']} -> {moved['host']}, {moved['state']}"
        f"{' (' + moved['reason'] + ')' if moved['reason'] else ''}"
    )
    lab.out.block(table(rows, ["when", "host", "pci_slot", "mac", "ip", "status"]))
    kept = before["mac_address"] == after["mac_address"] and first_ip(before) == first_ip(after)
    outcome.check(
        "c2 live-migrated to host-1 keeping its MAC and IP",
        moved["host"] == "host-1" and moved["state"] == "ACTIVE" and kept,
        f"{moved['state']} on {moved['host']}, MAC and IP {'kept' if kept else 'changed'}"
        + (f": {moved['reason']}" if moved["reason"] else ""),
    )
    # A migrated guest announces itself first (QEMU sends RARPs): switches learn where it is.
    pings(lab, outcome, "c1 and c2 ping each other again after the migration", first="c2")


def device_states(lab: DemoLab) -> dict[tuple[str, str], str]:
    """Every device the server tracks, by host and address, with its state."""
    return {(d["host"], d["address"]): d["state"] for d in lab.admin.list_devices()}


def vf_tables(lab: DemoLab) -> dict[str, VfTables]:
    return {host.name: lab.vf_tables(host.name) for host in lab.state.hosts}


def release(
    lab: DemoLab,
    outcome: Outcome,
    states: dict[tuple[str, str], str],
    tables: dict[str, VfTables],
) -> None:
    lab.out.step(
        "Release",
        "Everything is deleted. Each released VF is reset (MAC 00:00:00:00:00:00, VLAN 0, "
        "spoof checking on, trust off, no rate, link-state auto) and is free again only once "
        "its agent has read the reset back.",
    )
    delete_everything(lab)
    changed: list[str] = []

    def all_free() -> bool | None:
        now = device_states(lab)
        changed[:] = [
            f"{h} {a} {s}" for (h, a), s in sorted(now.items()) if states.get((h, a)) != s
        ]
        return True if not changed else None

    lab.wait("every VF to be reset and free again", all_free, RELEASE_SECONDS)
    outcome.check("every device is free on the server again", not changed, "; ".join(changed[:3]))
    after = vf_tables(lab)
    for found in after.values():
        lab.out.block(found.text)
    differ = [h for h in tables if after[h].lines() != tables[h].lines()]
    outcome.check(
        "every VF is reset: the VF tables read as before the demo",
        not differ,
        f"{', '.join(differ)} differ",
    )


def delete_everything(lab: DemoLab) -> None:
    """Instances first (their ports are detached), then ports, networks, policies, flavors."""
    made = lab.made
    for instance in made.instances.values():
        lab.admin.delete_instance(instance["id"])
    for port in made.ports.values():
        lab.admin.delete_port(port["id"])
    for network in made.networks.values():
        lab.admin.delete_network(network["id"])
    for policy in made.qos_policies.values():
        lab.admin.delete_qos_policy(policy["id"])
    for flavor in made.flavors:
        lab.admin.delete_flavor(flavor)
    lab.out.line(
        f"deleted {len(made.instances)} instances, {len(made.ports)} ports, "
        f"{len(made.networks)} networks, {len(made.qos_policies)} QoS policy, "
        f"{len(made.flavors)} flavor"
    )
    lab.made = type(made)()
