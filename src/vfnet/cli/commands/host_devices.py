"""A host as the server tracks it: its PFs, each with its VFs, their state, owner and port.

``vfnet host inspect NAME`` builds this view from three answers of the API (the host,
its devices, the ports bound on it) and prints it as a PF -> VF table or as data. A VF
whose PF the host's device spec does not select still shows under its PF's address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from vfnet.cli.output import Column, render_table

Json = Mapping[str, Any]

COLUMNS = (
    "address", "type", Column("vf_index", "VF"), "netdev", "physnet", "state", "owner",
    Column("port_id", "PORT"), "mac", "vlan", "refused",
)  # fmt: skip
# Device states as an operator says them; an unhealthy device is that first of all.
_STATE_WORDS = {"available": "free"}


def server_view(host: Json, devices: Sequence[Json], ports: Iterable[Json]) -> dict[str, Any]:
    """The host's PF -> VF tree, as plain data (what ``--json`` prints)."""
    by_slot = {slot: port for port in ports if (slot := _slot(port)) is not None}
    refused: Mapping[str, list[str]] = host.get("refused") or {}
    children: dict[str, list[Json]] = {}
    for device in devices:
        if device.get("parent_addr"):
            children.setdefault(device["parent_addr"], []).append(device)
    heads = {d["address"]: d for d in devices if not d.get("parent_addr")}
    for orphaned in children.keys() - heads.keys():
        heads[orphaned] = {"address": orphaned, "dev_type": "type-PF", "state": None}
    pfs = []
    for address in sorted(heads):
        vfs = sorted(
            children.get(address, ()), key=lambda d: (d.get("vf_index") or 0, d["address"])
        )
        pfs.append(
            {
                **_function(heads[address], by_slot),
                "refused": list(refused.get(address, ())),
                "vfs": [_function(vf, by_slot) for vf in vfs],
            }
        )
    return {
        "host": host["name"],
        "physnets": list(host.get("physnets", ())),
        "reported_at": host.get("reported_at"),
        "problems": list(host.get("problems", ())),
        "pfs": pfs,
    }


def _slot(port: Json) -> str | None:
    profile = port.get("binding:profile") or {}
    slot = profile.get("pci_slot")
    return str(slot) if slot else None


def _function(device: Json, by_slot: Mapping[str, Json]) -> dict[str, Any]:
    port = by_slot.get(device["address"])
    details = (port or {}).get("binding:vif_details") or {}
    return {
        "address": device["address"],
        "type": device.get("dev_type"),
        "vf_index": device.get("vf_index"),
        "netdev": device.get("ifname"),
        "physnet": device.get("physnet"),
        "state": state_of(device),
        "health_reasons": list(device.get("health_reasons", ())),
        "owner": (port or {}).get("device_id") or device.get("owner"),
        "port_id": None if port is None else port["id"],
        "mac": None if port is None else port.get("mac_address"),
        "vlan": details.get("vlan"),
    }


def state_of(device: Json) -> str | None:
    """free, claimed, allocated, releasing, unhealthy... (None: a PF not reported)."""
    state = device.get("state")
    if state is None:
        return None
    if device.get("healthy") is False:
        return "unhealthy"
    if device.get("vanished"):
        return f"{state} (vanished)"
    return _STATE_WORDS.get(state, state)


def render_server_view(view: Json) -> str:
    """A summary line, the PF -> VF table, then problems and unhealthy devices' reasons."""
    pfs = view["pfs"]
    vfs = [vf for pf in pfs for vf in pf["vfs"]]
    counts: dict[str, int] = {}
    for vf in vfs:
        counts[str(vf["state"])] = counts.get(str(vf["state"]), 0) + 1
    states = ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
    summary = f"host {view['host']}: {_count(len(pfs), 'PF')}, {_count(len(vfs), 'VF')}"
    parts = [summary + (f" ({states})" if states else "")]
    rows = []
    for pf in pfs:
        rows.append(pf)
        rows += [{**vf, "address": f"  {vf['address']}", "refused": None} for vf in pf["vfs"]]
    parts += ["", render_table(rows, COLUMNS)] if rows else ["", "No devices reported."]
    reasons = [
        f"  {item['address'].strip()}: {'; '.join(item['health_reasons'])}"
        for item in rows
        if item["health_reasons"]
    ]
    if view["problems"] or reasons:
        parts += ["", "Problems:", *(f"  {p}" for p in view["problems"]), *reasons]
    return "\n".join(parts)


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
