"""Host filters: small single-method checks a candidate host must pass, cheapest first."""

from __future__ import annotations

from typing import Protocol

from vfnet.inventory.matching import refusing_pfs
from vfnet.inventory.requests import PciRequest
from vfnet.scheduler.ask import Ask
from vfnet.scheduler.refusals import NEEDED_FOR
from vfnet.scheduler.view import HostState


class HostFilter(Protocol):
    """``passes`` says whether ``host`` can still serve ``ask``; ``explain`` says why not
    (``reason``, or words naming what this host lacks)."""

    reason: str

    def passes(self, host: HostState, ask: Ask) -> bool: ...

    def explain(self, host: HostState, ask: Ask) -> str: ...


class _SameReason:
    """A filter whose rejection reads the same for every host."""

    reason: str

    def explain(self, host: HostState, ask: Ask) -> str:
        return self.reason


class HealthFilter(_SameReason):
    """Only hosts whose agent reports them healthy receive instances."""

    reason = "unhealthy"

    def passes(self, host: HostState, ask: Ask) -> bool:
        return host.healthy


class PciCountFilter(_SameReason):
    """Enough free devices of each kind asked for (physnet, device type, count), per the index."""

    reason = "too few free devices"

    def passes(self, host: HostState, ask: Ask) -> bool:
        return all(need.met_by(host.name) for need in ask.needs)


class NumaFilter(_SameReason):
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


class PfAntiAffinityFilter(_SameReason):
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


class NormalPortFilter(_SameReason):
    """A bridge on the host for the physnet of each ``normal`` port (no SR-IOV needed)."""

    reason = "no bridge for the physical network of a normal port"

    def passes(self, host: HostState, ask: Ask) -> bool:
        return ask.normal_physnets <= host.normal_physnets


class RefusedVfAttributeFilter(_SameReason):
    """Each request that needs a VF attribute fits on PFs that never refused it."""

    reason = "its PFs refused a VF attribute a port needs"

    def passes(self, host: HostState, ask: Ask) -> bool:
        return not host.refused or self._blocked(host, ask) is None

    def explain(self, host: HostState, ask: Ask) -> str:
        blocked = self._blocked(host, ask)
        if blocked is None or not blocked[1]:
            return self.reason
        request, pfs = blocked
        refused = "; ".join(
            f"PF {pf} refused {', '.join(sorted(request.vf_needs & host.refused[pf]))}"
            for pf in pfs
        )
        needs = sorted(request.vf_needs & frozenset().union(*(host.refused[pf] for pf in pfs)))
        why = " and ".join(dict.fromkeys(NEEDED_FOR.get(attr, attr) for attr in needs))
        who = f"port {request.requester_id}" if request.requester_id else request.request_id
        return f"{host.name}: {refused}, which {who} needs for {why}"

    def _blocked(self, host: HostState, ask: Ask) -> tuple[PciRequest, list[str]] | None:
        """The first request left without devices by refusals, with the PFs refusing it."""
        counts = host.counts()
        for request in ask.requests:
            refusing = refusing_pfs(request, host.refused)
            if not refusing or host.matcher.filter(
                request, counts, ask.numa_cells, host.numa_sockets, refusing
            ):
                continue
            usable = {host.matcher.pf_of[index] for index in host.matcher.candidates(request)}
            return request, sorted(pf for pf in refusing & usable if pf is not None)
        return None


def default_filters() -> tuple[HostFilter, ...]:
    return (
        HealthFilter(),
        NormalPortFilter(),
        PciCountFilter(),
        NumaFilter(),
        RefusedVfAttributeFilter(),
        PfAntiAffinityFilter(),
    )
