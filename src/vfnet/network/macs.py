"""Port MAC addresses: generated from a base like Neutron's ``base_mac``, or given and checked.

Public API: DEFAULT_BASE_MAC, RandomSource, MacBase, normalise_mac, generate_mac, check_mac_free.
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass
from typing import Protocol

from vfnet.errors import ConfigError, Conflict, ValidationError

DEFAULT_BASE_MAC = "fa:16:3e:00:00:00"
FIELD = "mac_address"
# Neutron tries this many random MACs before giving up on a crowded network.
GENERATION_ATTEMPTS = 16
_MAC = re.compile(r"[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}")


class RandomSource(Protocol):
    """What generation needs of a random source: ``random.Random`` and ``SystemRandom`` fit."""

    def getrandbits(self, k: int, /) -> int: ...


@dataclass(frozen=True, slots=True)
class MacBase:
    """The fixed leading octets of generated MACs (the rest is random).

    As Neutron reads ``base_mac``: the first three octets are kept, and the fourth too
    when it is not ``00``.
    """

    prefix: tuple[int, ...]

    @classmethod
    def parse(cls, text: str = DEFAULT_BASE_MAC, entry: str = "base_mac") -> MacBase:
        try:
            octets = _octets(normalise_mac(text, entry))
        except ValidationError as error:
            raise ConfigError(entry, None, error.reason) from None
        if octets[0] & 1:
            raise ConfigError(entry, None, f"{text} is multicast; generated MACs must be unicast")
        return cls(octets[:4] if octets[3] else octets[:3])


def normalise_mac(text: str, field: str = FIELD) -> str:
    """``text`` in lower-case colon form, when it is a usable unicast port MAC."""
    mac = text.strip().lower()
    if not _MAC.fullmatch(mac):
        raise ValidationError(field, f"{text!r} is not a MAC address (six hex octets)")
    mac = mac.replace("-", ":")
    octets = _octets(mac)
    if mac == "ff:ff:ff:ff:ff:ff":
        raise ValidationError(field, f"{mac} is the broadcast address")
    if octets[0] & 1:
        raise ValidationError(field, f"{mac} is a multicast address (low bit of the first octet)")
    if not any(octets):
        raise ValidationError(field, f"{mac} is all zeros, which means 'no MAC' to a VF")
    return mac


def generate_mac(base: MacBase, used: Container[str], random: RandomSource) -> str:
    """A MAC under ``base`` not in ``used`` (the network's MACs), or ``Conflict`` when the
    network is so full that random tries keep colliding."""
    free_bits = 8 * (6 - len(base.prefix))
    for _ in range(GENERATION_ATTEMPTS):
        suffix = random.getrandbits(free_bits).to_bytes(6 - len(base.prefix), "big")
        mac = ":".join(f"{octet:02x}" for octet in (*base.prefix, *suffix))
        if mac not in used:
            return mac
    raise Conflict(
        f"{FIELD}: no free MAC found under base {_prefix_text(base)} after "
        f"{GENERATION_ATTEMPTS} tries; the network is crowded"
    )


def check_mac_free(mac: str, used: Container[str]) -> str:
    """``mac`` (normalised) when no other port of the network has it."""
    mac = normalise_mac(mac)
    if mac in used:
        raise Conflict(f"{FIELD}: {mac} is already used by another port on this network")
    return mac


def _octets(mac: str) -> tuple[int, ...]:
    return tuple(int(octet, 16) for octet in mac.split(":"))


def _prefix_text(base: MacBase) -> str:
    return ":".join(f"{octet:02x}" for octet in base.prefix)
