"""The value checks of the desired-state document, each raising ValidationError by field path.

The wire schema (:mod:`vfnet.agent.desired`) takes types and unknown keys; these take
the values, where the error can name the device or instance the value belongs to.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import ip_address, ip_interface, ip_network

from vfnet.agent.attach.netns import Route
from vfnet.errors import InvalidPciAddress, ValidationError
from vfnet.pci.address import PciAddress

MTU_RANGE = (68, 65535)  # the kernel's ETH_MIN_MTU up to IP's limit
MAX_VLAN = 4094  # 4095 is reserved by 802.1Q
MAPPINGS = ("devices", "released", "instances")  # top-level keys whose keys are names

__all__ = ["addresses", "mtu", "one_of", "path", "pci_address", "routes", "within"]


def mtu(where: str, value: int | None) -> int | None:
    return None if value is None else within(where, value, *MTU_RANGE)


def addresses(where: str, texts: Iterable[str]) -> tuple[str, ...]:
    """Each an address with its prefix length (``10.0.0.5/24``), as given."""
    found = tuple(texts)
    for n, text in enumerate(found):
        try:
            if "/" not in text:
                raise ValueError(text)
            ip_interface(text)
        except ValueError:
            raise ValidationError(
                f"{where}[{n}]", f"{text!r} is not an IP address with a prefix length"
            ) from None
    return found


def routes(where: str, wanted: Iterable[tuple[str, str | None]]) -> tuple[Route, ...]:
    """Each (dst, gateway): ``default`` or a network, through a gateway of the same IP
    version; a network may be on-link (no gateway), a default route may not."""
    found = []
    for n, (dst, gateway) in enumerate(wanted):
        version = None
        if dst != "default":
            try:
                version = ip_network(dst).version
            except ValueError:
                raise ValidationError(
                    f"{where}[{n}].dst", f"{dst!r} is neither 'default' nor a network"
                ) from None
        if gateway is not None:
            try:
                through = ip_address(gateway)
            except ValueError:
                raise ValidationError(
                    f"{where}[{n}].gateway", f"{gateway!r} is not an IP address"
                ) from None
            if version is not None and through.version != version:
                raise ValidationError(
                    f"{where}[{n}].gateway", f"IPv{through.version} gateway for an IPv{version} dst"
                )
        elif version is None:
            raise ValidationError(f"{where}[{n}].gateway", "a default route needs a gateway")
        found.append(Route(dst, gateway))
    return tuple(found)


def pci_address(section: str, key: str, *, bracket: bool = True) -> PciAddress:
    """``key`` as a PCI address; the error names ``section[key]`` (or ``section``)."""
    try:
        return PciAddress.parse(key)
    except InvalidPciAddress as error:
        where = f"{section}[{key}]" if bracket else section
        raise ValidationError(where, error.reason) from None


def within(where: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        reason = f"{value} is outside {low}-{high}"
        if where.endswith(".vlan") and value == MAX_VLAN + 1:
            reason += " (4095 is reserved by 802.1Q)"
        elif value < 0:
            reason = f"{value} is negative"
        raise ValidationError(where, reason)
    return value


def one_of(where: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValidationError(where, f"{value!r} is not one of {', '.join(allowed)}")
    return value


def path(loc: tuple[int | str, ...]) -> str:
    """``("devices", "0000:3b:02.1", "mac")`` as ``devices[0000:3b:02.1].mac``; list
    positions in brackets too (``bridge_ports[0]``)."""
    text = ""
    for index, part in enumerate(loc):
        after_mapping = index == 1 and loc[0] in MAPPINGS
        if after_mapping or isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and part in ("host", "netns", "libvirt") and index > 0:
            continue  # the union's tag pydantic adds to a location, not a key
        else:
            text += f".{part}" if text else str(part)
    return text or "desired state"
