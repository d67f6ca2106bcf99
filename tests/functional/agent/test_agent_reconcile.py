"""A looping vfnet-agent (memory driver) reconciling ports bound through a real vfnet-server.

The memory driver's VF table lives in the agent process, so what it holds is read from
the agent's own log: one line per VF written, with the settings read back after the
write. The server shows the rest: port status, and the device back in the pool.
"""

from __future__ import annotations

import os
import signal
from typing import Any

from tests.functional.agent.processes import Host, Running, eventually
from vfnet.client import Client


def bound_port(host: Host, vlan: int) -> dict[str, Any]:
    """A direct port on VLAN ``vlan`` of physnet1 (one network per VLAN), bound on ``host``."""
    admin: Client = host.admin
    network = admin.create_network(
        {"name": f"net-{host.name}", "shared": True, "provider:network_type": "vlan",
         "provider:physical_network": "physnet1", "provider:segmentation_id": vlan}
    )  # fmt: skip
    admin.create_subnet({"network_id": network["id"], "cidr": "192.0.2.0/24"})
    port = admin.create_port({"network_id": network["id"], "binding:vnic_type": "direct"})
    bound = admin.update_port(port["id"], {"binding:host_id": host.name})
    assert bound["binding:vif_type"] == "hw_veb", bound
    return bound


def status_of(host: Host, port_id: str) -> str:
    return str(host.admin.get_port(port_id)["status"])


def applied_lines(agent: Running, port_id: str) -> list[str]:
    return [line for line in agent.log().splitlines() if f"port {port_id}: ACTIVE on" in line]


def test_a_port_bound_on_the_host_becomes_active_with_its_vlan_applied(
    host: Host, running: Running
) -> None:
    port = bound_port(host, 100)
    eventually(lambda: status_of(host, port["id"]) == "ACTIVE", running.log_path)
    [line] = applied_lines(running, port["id"])
    slot = port["binding:profile"]["pci_slot"]
    assert f"ACTIVE on {slot} (ens1f0 VF {int(slot[-1])})" in line
    assert f"mac {port['mac_address']}, vlan 100 qos 0 802.1Q" in line
    assert "spoofchk on" in line


def test_a_qos_policy_attached_to_an_active_port_is_applied_and_it_stays_active(
    host: Host, running: Running
) -> None:
    port = bound_port(host, 101)
    eventually(lambda: status_of(host, port["id"]) == "ACTIVE", running.log_path)
    policy = host.admin.create_qos_policy(
        {"name": f"10mbit-{host.name}", "rules": [{"type": "bandwidth_limit", "max_kbps": 10_000}]}
    )
    host.admin.update_port(port["id"], {"qos_policy_id": policy["id"]})
    eventually(
        lambda: any("max_tx_rate 10 Mbps" in ln for ln in applied_lines(running, port["id"])),
        running.log_path,
    )
    assert status_of(host, port["id"]) == "ACTIVE"


def test_an_unbound_port_s_vf_returns_to_the_pool_only_once_the_agent_verified_its_reset(
    host: Host, running: Running
) -> None:
    port = bound_port(host, 102)
    slot = port["binding:profile"]["pci_slot"]
    eventually(lambda: status_of(host, port["id"]) == "ACTIVE", running.log_path)
    os.kill(running.process.pid, signal.SIGSTOP)
    try:
        host.admin.update_port(port["id"], {"binding:host_id": None})
        assert host.devices()[slot]["state"] != "available"  # nobody has reset it yet
    finally:
        os.kill(running.process.pid, signal.SIGCONT)
    eventually(lambda: host.devices()[slot]["state"] == "available", running.log_path)
    where = f"{slot} (ens1f0 VF {int(slot[-1])})"
    # The reset is logged as the release's, or, when the agent read the document between
    # the unbind and the release, as a VF left dirty; either way it was verified first.
    log = running.log()
    assert f"release {where} at claim generation" in log or f"reset {where}: left dirty" in log
    assert "reset verified" in log or f"release {slot}" not in log


def test_a_port_mirrored_to_another_is_in_error_where_the_driver_cannot_mirror(
    host: Host, running: Running
) -> None:
    target = bound_port(host, 103)
    mirrored = host.admin.create_port(
        {"network_id": target["network_id"], "binding:vnic_type": "direct",
         "mirror_to": target["id"]}
    )  # fmt: skip
    host.admin.update_port(mirrored["id"], {"binding:host_id": host.name})
    eventually(lambda: status_of(host, mirrored["id"]) == "ERROR", running.log_path)
    shown = host.admin.get_port(mirrored["id"])
    assert shown["status_reason"].startswith("mirror: not supported by the memory driver")
    eventually(lambda: status_of(host, target["id"]) == "ACTIVE", running.log_path)
