"""Hosts, desired states and VF settings for the agent's tests, built in one line each."""

from __future__ import annotations

from collections.abc import Mapping

from vfnet.agent.desired import ClaimedVf, DesiredState
from vfnet.agent.plan import VfLocation
from vfnet.network.vf_settings import LinkState, VfSettings
from vfnet.pci.address import PciAddress

# A port's settings with every attribute away from RESET.
FULL = VfSettings(
    mac="fa:16:3e:00:00:01",
    vlan=100,
    qos=3,
    vlan_proto="802.1Q",
    spoofchk=False,
    trust=True,
    min_tx_rate=100,
    max_tx_rate=1000,
    link_state=LinkState.ENABLE,
)


def vf_address(pf: int, vf: int) -> PciAddress:
    """VF ``vf`` of PF number ``pf``: bus 0x3b + pf, eight VFs a slot from slot 2."""
    return PciAddress(0, 0x3B + pf, 2 + vf // 8, vf % 8)


def layout(pfs: Mapping[str, int]) -> dict[PciAddress, VfLocation]:
    """Every VF of every PF (netdev -> VF count) as the agent's managed devices."""
    return {
        vf_address(number, vf): VfLocation(pf, vf)
        for number, (pf, count) in enumerate(pfs.items())
        for vf in range(count)
    }


def port_settings(index: int, **changes: object) -> VfSettings:
    """A port's settings with a MAC of its own (``fa:16:3e:00:01:<index>``)."""
    fields: dict[str, object] = {
        "mac": f"fa:16:3e:00:{index >> 8 & 0xFF:02x}:{index & 0xFF:02x}",
        "vlan": 100 + index % 50,
        "spoofchk": index % 2 == 0,
        "trust": index % 3 == 0,
        "max_tx_rate": 1000 * (index % 4),
        "link_state": LinkState.ENABLE if index % 5 else LinkState.AUTO,
    }
    fields.update(changes)
    return VfSettings(**fields)  # type: ignore[arg-type]


def claim(
    address: PciAddress, settings: VfSettings, *, generation: int = 1, port: str | None = None
) -> ClaimedVf:
    return ClaimedVf(
        address,
        owner=f"instance-{address.bus:x}{address.slot:x}{address.function}",
        claim_generation=generation,
        port_id=port or f"port-{address}",
        settings=settings,
    )


def desired(
    claimed: Mapping[PciAddress, VfSettings] | None = None,
    released: Mapping[PciAddress, int] | None = None,
    *,
    generation: int = 1,
    claim_generation: int = 1,
) -> DesiredState:
    return DesiredState(
        "compute-1",
        generation,
        {
            address: claim(address, settings, generation=claim_generation)
            for address, settings in (claimed or {}).items()
        },
        dict(released or {}),
    )
