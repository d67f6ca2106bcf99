"""Host weighers: small single-method scores, normalised and summed as Nova sums them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from vfnet.errors import ValidationError
from vfnet.scheduler.ask import Ask, free_of
from vfnet.scheduler.view import HostState

POLICIES = ("pack", "spread")


class HostWeigher(Protocol):
    """``weigh`` scores one host (higher is better before ``multiplier``)."""

    multiplier: float

    def weigh(self, host: HostState, ask: Ask) -> float: ...


class FreeDevicesWeigher:
    """Free devices of the kinds asked for: pack (-1) fills hosts, spread (+1) empties them."""

    def __init__(self, multiplier: float) -> None:
        self.multiplier = multiplier

    def weigh(self, host: HostState, ask: Ask) -> float:
        return float(free_of(ask.needs, host.name))


class PciHostAvoidanceWeigher:
    """Keep hosts with PCI devices for the instances that need them."""

    multiplier = 1.0

    def weigh(self, host: HostState, ask: Ask) -> float:
        return -1.0 if host.has_pci and not ask.requests else 0.0


def weighers_for(policy: str) -> tuple[HostWeigher, ...]:
    if policy not in POLICIES:
        raise ValidationError("policy", f"unknown placement policy {policy!r}; use pack or spread")
    return (FreeDevicesWeigher(-1.0 if policy == "pack" else 1.0), PciHostAvoidanceWeigher())


def order(hosts: Sequence[HostState], ask: Ask, weighers: Sequence[HostWeigher]) -> list[HostState]:
    """Best first: each weigher's scores scaled to 0..1 over ``hosts``, times its multiplier.

    Equal totals keep the order the hosts were found in.
    """
    totals = [0.0] * len(hosts)
    for weigher in weighers:
        scores = [weigher.weigh(host, ask) for host in hosts]
        low, high = min(scores, default=0.0), max(scores, default=0.0)
        if high > low:
            for at, score in enumerate(scores):
                totals[at] += weigher.multiplier * (score - low) / (high - low)
    ranked = sorted(range(len(hosts)), key=lambda at: -totals[at])
    return [hosts[at] for at in ranked]
