"""Host filters: small single-method checks a candidate host must pass, cheapest first."""

from __future__ import annotations

from typing import Protocol

from vfnet.scheduler.ask import Ask
from vfnet.scheduler.view import HostState


class HostFilter(Protocol):
    """``passes`` says whether ``host`` can still serve ``ask``; ``reason`` says why not."""

    reason: str

    def passes(self, host: HostState, ask: Ask) -> bool: ...


class HealthFilter:
    """Only hosts whose agent reports them healthy receive instances."""

    reason = "unhealthy"

    def passes(self, host: HostState, ask: Ask) -> bool:
        return host.healthy


class PciCountFilter:
    """Enough free devices of each kind asked for (physnet, device type, count), per the index."""

    reason = "too few free devices"

    def passes(self, host: HostState, ask: Ask) -> bool:
        return all(need.met_by(host.name) for need in ask.needs)


class NumaFilter:
    """Each request alone fits under its NUMA policy on the instance's NUMA cells."""

    reason = "no devices on the NUMA nodes the policy allows"

    def passes(self, host: HostState, ask: Ask) -> bool:
        if ask.numa_cells is None:
            return True  # no NUMA topology: no PCI NUMA filtering, as in Nova
        counts = host.counts()
        return all(
            host.matcher.filter(request, counts, ask.numa_cells, host.numa_sockets)
            for request in ask.requests
        )


class PfAntiAffinityFilter:
    """Requests sharing a ``pf_group`` can be served by as many different PFs as they are."""

    reason = "too few PFs with free devices for an anti-affinity group"

    def passes(self, host: HostState, ask: Ask) -> bool:
        groups: dict[str, list[int]] = {}
        for at, request in enumerate(ask.requests):
            if request.pf_group is not None:
                groups.setdefault(request.pf_group, []).append(at)
        counts = host.counts()
        for members in groups.values():
            pfs = {
                host.matcher.pf_of[index]
                for at in members
                for index in host.matcher.filter(
                    ask.requests[at], counts, ask.numa_cells, host.numa_sockets
                )
            }
            if len(pfs) < len(members):
                return False
        return True


class NormalPortFilter:
    """A bridge on the host for the physnet of each ``normal`` port (no SR-IOV needed)."""

    reason = "no bridge for the physical network of a normal port"

    def passes(self, host: HostState, ask: Ask) -> bool:
        return ask.normal_physnets <= host.normal_physnets


def default_filters() -> tuple[HostFilter, ...]:
    return (
        HealthFilter(),
        NormalPortFilter(),
        PciCountFilter(),
        NumaFilter(),
        PfAntiAffinityFilter(),
    )
