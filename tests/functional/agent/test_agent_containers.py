"""A looping vfnet-agent (memory driver) putting containers' VFs into their namespaces.

The memory driver's namespaces live in the agent process, so where a VF went is read
from the agent's log; the server shows the rest: the port ACTIVE once its VF is inside,
and the device free again only once the VF is back home after the instance is deleted.
"""

from __future__ import annotations

from typing import Any

from tests.functional.agent.processes import Host, Running, eventually


def container(host: Host, vlan: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A container instance on ``host`` with one direct port on VLAN ``vlan``: (it, port)."""
    network = host.admin.create_network(
        {"name": f"net-{host.name}", "shared": True, "provider:network_type": "vlan",
         "provider:physical_network": "physnet1", "provider:segmentation_id": vlan,
         "mtu": 9000}
    )  # fmt: skip
    host.admin.create_subnet({"network_id": network["id"], "cidr": "198.51.100.0/24"})
    port = host.admin.create_port({"network_id": network["id"], "binding:vnic_type": "direct"})
    made = host.admin.create_instance(
        {"name": "web", "kind": "container", "ports": [port["id"]], "host": host.name}
    )
    assert made["host"] == host.name, made
    return made, host.admin.get_port(port["id"])


def test_a_container_s_port_is_active_once_its_vf_is_in_its_namespace(
    host: Host, running: Running
) -> None:
    instance, port = container(host, 140)
    eventually(lambda: host.admin.get_port(port["id"])["status"] == "ACTIVE", running.log_path)
    vf = f"ens1f0v{int(port['binding:profile']['pci_slot'][-1])}"
    assert f"attached {vf} of host to vfnet-c-{instance['id']} as eth0" in running.log()
    eventually(lambda: host.admin.get_instance(instance["id"])["state"] == "ACTIVE",
               running.log_path)  # fmt: skip


def test_a_deleted_container_s_vf_is_free_once_home_and_its_namespace_gone(
    host: Host, running: Running
) -> None:
    instance, port = container(host, 141)
    eventually(lambda: host.admin.get_port(port["id"])["status"] == "ACTIVE", running.log_path)
    slot = port["binding:profile"]["pci_slot"]
    host.admin.delete_instance(instance["id"])
    eventually(lambda: host.devices()[slot]["state"] == "available", running.log_path)
    log = running.log()
    assert f"brought home from vfnet-c-{instance['id']}" in log
    assert f"namespace vfnet-c-{instance['id']} of instance {instance['id']} removed" in log
