"""A looping vfnet-agent serving VMs through libvirt's test driver (``--libvirt-uri``).

The test driver's domains live in the agent process, so what libvirt did is read from
the agent's log; the server shows the rest: the port ACTIVE once its VF is plugged into
the domain, the instance ACTIVE, and the VF free again once the VM is gone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.agent.processes import Host, Running, eventually

pytest.importorskip("libvirt")


@pytest.fixture
def vm_agent(host: Host, tmp_path: Path) -> Iterator[Running]:
    agent = Running(
        host, tmp_path / "agent.log", extra=("--libvirt-uri", "test:///default", "--domain-type",
                                             "qemu")
    )  # fmt: skip
    try:
        eventually(lambda: len(host.devices()) == 4, agent.log_path)
        yield agent
    finally:
        code = agent.stop()
    assert code == 0, agent.log()


def test_a_vm_gets_its_direct_port_plugged_and_gives_the_vf_back_when_deleted(
    host: Host, vm_agent: Running
) -> None:
    network = host.admin.create_network(
        {"name": "vm-net", "shared": True, "provider:network_type": "vlan",
         "provider:physical_network": "physnet1", "provider:segmentation_id": 150}
    )  # fmt: skip
    host.admin.create_subnet({"network_id": network["id"], "cidr": "203.0.113.0/24"})
    port = host.admin.create_port({"network_id": network["id"], "binding:vnic_type": "direct"})
    vm = host.admin.create_instance(
        {"name": "vm1", "kind": "vm", "ports": [port["id"]], "host": host.name}
    )
    eventually(lambda: host.admin.get_instance(vm["id"])["state"] == "ACTIVE", vm_agent.log_path)
    log = vm_agent.log()
    assert f"vm {vm['id']}: defined with 1 devices" in log
    assert f"vm {vm['id']}: started" in log
    slot = host.admin.get_port(port["id"])["binding:profile"]["pci_slot"]
    host.admin.delete_instance(vm["id"])
    eventually(lambda: host.devices()[slot]["state"] == "available", vm_agent.log_path)
    assert f"vm {vm['id']}: removed (no instance wants it)" in vm_agent.log()
