"""Health verdicts over hand-built hosts: one case a row, each a way a device goes wrong."""

from __future__ import annotations

import dataclasses

import pytest

from vfnet.agent.health import assess
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import (
    DeviceType,
    HostDevices,
    Netdev,
    PciDevice,
    SriovCapability,
    VdpaDevice,
)

PF = PciAddress.parse("0000:3b:00.0")
VF0 = PciAddress.parse("0000:3b:02.0")
VF1 = PciAddress.parse("0000:3b:02.1")


def _pf(**changes: object) -> PciDevice:
    device = PciDevice(
        address=PF,
        dev_type=DeviceType.PF,
        vendor_id="8086",
        product_id="1572",
        driver="i40e",
        iommu_group=2,
        netdevs=(Netdev("ens1f0", operstate="up", carrier=True),),
        sriov=SriovCapability(total_vfs=64, num_vfs=2, offset=16, stride=1, vf_device="154c"),
    )
    return dataclasses.replace(device, **changes)  # type: ignore[arg-type]


def _vf(address: PciAddress = VF0, index: int = 0, **changes: object) -> PciDevice:
    device = PciDevice(
        address=address,
        dev_type=DeviceType.VF,
        vendor_id="8086",
        product_id="154c",
        driver="iavf",
        iommu_group=10 + index,
        netdevs=(Netdev(f"ens1f0v{index}", operstate="down"),),
        parent_addr=PF,
        vf_index=index,
    )
    return dataclasses.replace(device, **changes)  # type: ignore[arg-type]


def _host(pf: PciDevice | None = None, vf0: PciDevice | None = None) -> HostDevices:
    devices = [pf or _pf(), vf0 or _vf(), _vf(VF1, 1)]
    return HostDevices.of([d for d in devices if d is not None])


NO_NETDEV: dict[str, object] = {"netdevs": ()}

CASES = [
    # (case, pf changes, vf0 changes, expected PF reasons, expected VF0 reasons)
    ("a PF with link and bound VFs is healthy", {}, {}, (), ()),
    (
        "a PF without carrier makes it and its VFs unhealthy",
        {"netdevs": (Netdev("ens1f0", operstate="down", carrier=False),)},
        {},
        ("pf ens1f0: no carrier",),
        ("pf ens1f0: no carrier",),
    ),
    (
        "a PF whose operstate is lowerlayerdown is unhealthy",
        {"netdevs": (Netdev("ens1f0", operstate="lowerlayerdown", carrier=None),)},
        {},
        ("pf ens1f0: operstate lowerlayerdown",),
        ("pf ens1f0: operstate lowerlayerdown",),
    ),
    (
        "an unbound PF is named by its address",
        {"driver": None, "netdevs": ()},
        {},
        ("pf 0000:3b:00.0: driver unbound",),
        ("pf 0000:3b:00.0: driver unbound",),
    ),
    ("an unbound VF is unhealthy", {}, {"driver": None, **NO_NETDEV}, (), ("driver unbound",)),
    (
        "a VF bound to its netdev driver without a netdev is unhealthy",
        {},
        NO_NETDEV,
        (),
        ("no netdev (driver iavf)",),
    ),
    ("a VF bound to vfio-pci needs no netdev", {}, {"driver": "vfio-pci", **NO_NETDEV}, (), ()),
    (
        "a VF bound to vfio-pci without an IOMMU group is unhealthy",
        {},
        {"driver": "vfio-pci", "iommu_group": None, **NO_NETDEV},
        (),
        ("no IOMMU group",),
    ),
    (
        "a VF without an IOMMU group on a host whose IOMMU is on is unhealthy",
        {},
        {"iommu_group": None},
        (),
        ("no IOMMU group",),
    ),
    (
        "a vDPA VF needs no netdev",
        {},
        {
            "dev_type": DeviceType.VDPA,
            "vdpa": VdpaDevice("vdpa0", VF0, "vhost_vdpa"),
            "driver": "mlx5_core",
            **NO_NETDEV,
        },
        (),
        (),
    ),
    (
        "a PF with fewer VFs present than enabled says so, and its VFs stay healthy",
        {"sriov": SriovCapability(total_vfs=64, num_vfs=3, offset=16, stride=1, vf_device="154c")},
        {},
        ("pf ens1f0: 3 VFs enabled, 2 present",),
        (),
    ),
]


@pytest.mark.parametrize(
    ("pf_changes", "vf_changes", "pf_reasons", "vf_reasons"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_health_verdicts(
    pf_changes: dict[str, object],
    vf_changes: dict[str, object],
    pf_reasons: tuple[str, ...],
    vf_reasons: tuple[str, ...],
) -> None:
    verdicts = assess(_host(_pf(**pf_changes), _vf(VF0, 0, **vf_changes)))
    assert verdicts[PF] == pf_reasons
    assert verdicts[VF0] == vf_reasons


def test_a_vf_in_use_may_have_its_netdev_in_another_namespace() -> None:
    host = _host(vf0=_vf(netdevs=()))
    assert assess(host, in_use=frozenset({VF0}))[VF0] == ()


def test_a_host_without_an_iommu_does_not_hold_missing_groups_against_netdev_vfs() -> None:
    host = HostDevices.of([_pf(iommu_group=None), _vf(iommu_group=None)])
    assert assess(host)[VF0] == ()


def test_a_vf_whose_pf_is_gone_says_so() -> None:
    host = HostDevices.of([_vf()])
    assert assess(host)[VF0] == ("pf 0000:3b:00.0: gone",)


def test_a_vf_gets_both_its_pfs_and_its_own_reasons() -> None:
    pf = _pf(netdevs=(Netdev("ens1f0", operstate="down", carrier=False),))
    host = _host(pf, _vf(driver=None, netdevs=()))
    assert assess(host)[VF0] == ("pf ens1f0: no carrier", "driver unbound")
