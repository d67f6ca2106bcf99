"""What an agent builds for instances besides their VFs' netdevs: VMs and normal ports.

Chosen from the agent's options: VMs go through libvirt only when ``--libvirt-uri`` names
a hypervisor (``qemu:///system`` on a compute host, ``test:///default`` in the lab);
normal ports go on the host's bridges wherever the agent has namespace ops. On an
emulated host the bridges live in the host's own namespace, as its VF netdevs do.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from vfnet.agent.attach.netns import NamespaceOps
from vfnet.agent.attachments import InstancePlugger
from vfnet.agent.bridges import BridgePlugger
from vfnet.agent.vms import VmPlugger
from vfnet.errors import VfnetError

__all__ = ["DOMAIN_TYPES", "PluggerChoice"]

log = logging.getLogger(__name__)

DOMAIN_TYPES = ("kvm", "qemu")  # qemu: software emulation, where there is no KVM


@dataclass(frozen=True, slots=True)
class PluggerChoice:
    """The agent's options for instances; called with its namespace ops and host name."""

    libvirt_uri: str | None = None
    domain_type: str = "kvm"
    driver: str = "netlink"

    def __call__(self, ops: NamespaceOps | None, host: str) -> Sequence[InstancePlugger]:
        made: list[InstancePlugger] = []
        if ops is not None:
            made.append(BridgePlugger(self._bridge_ops(ops), host_ns=self._bridge_ns(host)))
        if self.libvirt_uri is None:
            log.info("VMs: no --libvirt-uri, so this host serves containers only")
            return made
        try:
            from vfnet.agent.attach.libvirt_hypervisor import LibvirtHypervisor

            hypervisor = LibvirtHypervisor(self.libvirt_uri)
        except ImportError as error:
            log.error("VMs: libvirt-python is not installed (%s); containers only", error)
            return made
        except VfnetError as error:
            log.error("VMs: cannot reach libvirt at %s: %s", self.libvirt_uri, error)
            return made
        made.append(VmPlugger(hypervisor, domain_type=self.domain_type))
        log.info("VMs: libvirt at %s (%s domains)", self.libvirt_uri, self.domain_type)
        return made

    def _bridge_ops(self, ops: NamespaceOps) -> NamespaceOps:
        """Its own rtnetlink handles (it lets go of them every turn, which would cost the
        attachments theirs); the memory driver's namespaces are shared, being the host."""
        if self.driver == "memory":
            return ops
        from vfnet.agent.drivers.netns_ops import PyrouteNamespaces

        return PyrouteNamespaces()

    def _bridge_ns(self, host: str) -> str | None:
        if self.driver != "eswitch":
            return None
        from vfnet.agent.drivers.eswitch_names import host_netns

        return host_netns(host)
