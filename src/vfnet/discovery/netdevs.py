"""Network interfaces of a PCI function (``<dev>/net/<name>/``), read as the kernel reports them."""

from __future__ import annotations

import errno

from vfnet.discovery.attrs import AttrDir, describe
from vfnet.discovery.formats import parse_carrier
from vfnet.pci.devices import Netdev

# Errors that are the kernel's way of saying "no value", not faults:
# carrier reads EINVAL while the interface is admin down; phys_port_name and
# phys_switch_id read EOPNOTSUPP (or are absent) when the driver has no notion of them.
_NO_CARRIER = frozenset({errno.EINVAL})
_UNSUPPORTED = frozenset({errno.EOPNOTSUPP, errno.ENOENT, errno.ENODATA})


def read_netdevs(device: AttrDir, warnings: list[str]) -> list[Netdev]:
    """Every netdev under ``device/net``, by name; problems are added to ``warnings``."""
    netdevs = []
    for name in sorted(device.names("net")):
        try:
            with device.sub(f"net/{name}") as netdir:
                netdevs.append(_read_netdev(name, netdir, warnings))
        except OSError as error:
            warnings.append(f"net/{name}: {describe(error)}")
    return netdevs


def _read_netdev(name: str, netdir: AttrDir, warnings: list[str]) -> Netdev:
    mtu = _attr(netdir, name, "mtu", warnings)
    return Netdev(
        name=name,
        mac=_attr(netdir, name, "address", warnings),
        operstate=_attr(netdir, name, "operstate", warnings),
        carrier=parse_carrier(_attr(netdir, name, "carrier", warnings, quiet=_NO_CARRIER) or ""),
        mtu=int(mtu) if mtu and mtu.isdigit() else None,
        phys_port_name=_attr(netdir, name, "phys_port_name", warnings, quiet=_UNSUPPORTED),
        phys_switch_id=_attr(netdir, name, "phys_switch_id", warnings, quiet=_UNSUPPORTED),
    )


def _attr(
    netdir: AttrDir,
    ifname: str,
    attr: str,
    warnings: list[str],
    quiet: frozenset[int] = frozenset(),
) -> str | None:
    try:
        return netdir.text(attr) or None
    except OSError as error:
        if error.errno not in quiet:
            warnings.append(f"net/{ifname}/{attr}: {describe(error)}")
        return None
