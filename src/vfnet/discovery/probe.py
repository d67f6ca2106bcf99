"""Cheap looks at sysfs between full reads: a host fingerprint and one PF's VF netdevs.

A full read opens some 16 files per function; an idle host changes none of them. What
changes while a host runs shows in a few directory listings (functions come and go in
``bus/pci/devices``, bindings in ``bus/pci/drivers/*``, netdevs in ``class/net``, IOMMU
groups in ``kernel/iommu_groups``) and a few files per PF (``sriov_numvfs``, its
netdevs' ``operstate`` and ``carrier``), so a fingerprint reads only those. Equal
fingerprints mean a full read would find the same functions, bindings and PF links.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vfnet.discovery.attrs import AttrDir
from vfnet.discovery.formats import virtfn_index

# Entries of a driver's directory that are not bound devices.
_DRIVER_FILES = frozenset({"bind", "unbind", "new_id", "remove_id", "uevent", "module"})

Fingerprint = tuple[object, ...]


def fingerprint(root: Path, pfs: Iterable[str]) -> Fingerprint:
    """What can change on a running host, for the PFs named (kernel names, ``0000:3b:00.0``)."""
    return (
        _listing(f"{root}/bus/pci/devices"),
        _bindings(f"{root}/bus/pci/drivers"),
        _listing(f"{root}/class/net"),
        _listing(f"{root}/kernel/iommu_groups"),
        tuple(_pf_state(f"{root}/bus/pci/devices/{pf}") for pf in pfs),
    )


@dataclass(frozen=True, slots=True)
class VfLink:
    """One ``virtfnN`` of a PF as it is right now: its driver and its netdevs."""

    index: int
    driver: str | None
    netdevs: tuple[str, ...]


def vf_links(root: Path, pf: str) -> list[VfLink]:
    """The PF's VFs by ``virtfnN`` order; [] when the PF is gone."""
    try:
        pf_dir = AttrDir(f"{root}/bus/pci/devices/{pf}")
    except OSError:
        return []
    links = []
    with pf_dir:
        for name in pf_dir.names():
            index = virtfn_index(name)
            if index is None:
                continue
            try:
                with pf_dir.sub(name) as vf:
                    links.append(VfLink(index, vf.link_name("driver"), tuple(vf.names("net"))))
            except OSError:
                links.append(VfLink(index, None, ()))  # a dangling link: the VF is going away
    return sorted(links, key=lambda link: link.index)


def _listing(path: str) -> tuple[str, ...]:
    try:
        return tuple(sorted(os.listdir(path)))
    except OSError as error:
        return (f"!{errno.errorcode.get(error.errno or 0, '?')}",)


def _bindings(path: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    drivers = _listing(path)
    return tuple(
        (driver, tuple(n for n in _listing(f"{path}/{driver}") if n not in _DRIVER_FILES))
        for driver in drivers
    )


def _pf_state(path: str) -> tuple[object, ...]:
    try:
        device = AttrDir(path)
    except OSError:
        return ("gone",)
    with device:
        numvfs = _text(device, "sriov_numvfs")
        netdevs = tuple(
            (name, _text(device, f"net/{name}/operstate"), _text(device, f"net/{name}/carrier"))
            for name in sorted(device.names("net"))
        )
    return (numvfs, netdevs)


def _text(device: AttrDir, name: str) -> str | None:
    try:
        return device.text(name)
    except OSError:
        return None
