"""Every ``binding:vnic_type`` Neutron knows: which ones vfnet serves, how, and why not the rest.

Public API: VnicType, VF_KINDS, SRIOV_KINDS, VIF_TYPES, parse_vnic_type.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from vfnet.errors import ValidationError

FIELD = "binding:vnic_type"


class VnicType(StrEnum):
    NORMAL = "normal"
    DIRECT = "direct"
    MACVTAP = "macvtap"
    DIRECT_PHYSICAL = "direct-physical"
    VDPA = "vdpa"
    VIRTIO_FORWARDER = "virtio-forwarder"
    REMOTE_MANAGED = "remote-managed"
    BAREMETAL = "baremetal"
    ACCELERATOR_DIRECT = "accelerator-direct"
    ACCELERATOR_DIRECT_PHYSICAL = "accelerator-direct-physical"
    SMART_NIC = "smart-nic"


# The vnic types whose port is backed by one VF (so it has an eswitch port to configure).
VF_KINDS = frozenset({VnicType.DIRECT, VnicType.MACVTAP, VnicType.VDPA})
# The vnic types that claim a PCI device (a VF, a vDPA device on a VF, or a whole PF).
SRIOV_KINDS = VF_KINDS | {VnicType.DIRECT_PHYSICAL}

# Neutron's vif types, plus ``vdpa`` (Neutron has none: OVS binds vdpa ports there) and
# ``bridge`` for normal ports on a host's Linux bridge.
VIF_TYPES: Mapping[VnicType, str] = {
    VnicType.NORMAL: "bridge",
    VnicType.DIRECT: "hw_veb",
    VnicType.MACVTAP: "hw_veb",
    VnicType.DIRECT_PHYSICAL: "hostdev_physical",
    VnicType.VDPA: "vdpa",
}

# Known to Neutron, not served by vfnet: the reason is part of the refusal.
_REFUSED: Mapping[VnicType, str] = {
    VnicType.VIRTIO_FORWARDER: (
        "it needs a vhost-user relay (Agilio virtio-forwarder) in front of the VF, which "
        "vfnet does not run; use 'direct' or 'vdpa'"
    ),
    VnicType.REMOTE_MANAGED: (
        "the VF's switch is programmed from a DPU by that DPU's own control plane (OVN), "
        "which vfnet does not drive; use 'direct' on a host-managed NIC"
    ),
    VnicType.BAREMETAL: "it is for Ironic bare-metal nodes, not for VFs handed to instances",
    VnicType.SMART_NIC: "it is for Ironic bare-metal smart NICs, not for VFs handed to instances",
    VnicType.ACCELERATOR_DIRECT: (
        "the VF would come from a Cyborg accelerator request, which vfnet does not take; "
        "select the device with [pci] device_spec and use 'direct'"
    ),
    VnicType.ACCELERATOR_DIRECT_PHYSICAL: (
        "the PF would come from a Cyborg accelerator request, which vfnet does not take; "
        "select the device with [pci] device_spec and use 'direct-physical'"
    ),
}


def parse_vnic_type(value: str | None) -> VnicType:
    """The vnic type of a port (missing means ``normal``); unknown or unserved ones refused."""
    if value is None:
        return VnicType.NORMAL
    try:
        vnic_type = VnicType(value)
    except ValueError:
        known = ", ".join(VnicType)
        raise ValidationError(
            FIELD, f"unknown vnic_type {value!r}; Neutron knows {known}"
        ) from None
    reason = _REFUSED.get(vnic_type)
    if reason is not None:
        served = ", ".join(VIF_TYPES)
        raise ValidationError(
            FIELD, f"vfnet does not serve {vnic_type.value!r}: {reason} (served: {served})"
        )
    return vnic_type
