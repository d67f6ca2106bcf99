"""Host selection: request -> candidates (index) -> filter -> fit -> weigh -> placement.

Candidates come from the index, not from a walk over the fleet: hosts are drawn from
the scarcest need's buckets in policy order (pack: fewest free first, spread: most),
each is filtered and fitted exactly, and the search stops once ``candidates`` hosts
fit. The best of those is chosen, so a decision costs about the same for 100 or
10,000 hosts; the price is that a better host beyond the first ``candidates`` that
fit is not looked at. Since candidates arrive ordered by the free count the
weighers score, that host can differ only by what the other needs add.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass

from vfnet.errors import NoValidHost
from vfnet.inventory.pools import PoolKey
from vfnet.inventory.requests import PciRequest
from vfnet.scheduler.ask import Ask, counted, pools_by_request
from vfnet.scheduler.filters import HostFilter, default_filters
from vfnet.scheduler.view import FleetView, HostState
from vfnet.scheduler.weighers import HostWeigher, order, weighers_for

FIT_REASON = "the requests do not fit together"
# A NoValidHost names this many reasons at most (a host's own reason names the host).
REASONS_SHOWN = 5

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RequestPlacement:
    """Which pools of the host serve one request, and how many devices from each."""

    request: PciRequest
    pools: tuple[tuple[PoolKey, int], ...]

    @property
    def pfs(self) -> tuple[str, ...]:
        """The parent PFs (or own addresses, for PFs and PCI devices) drawn from."""
        return tuple(dict.fromkeys(key.get("address") or "" for key, _ in self.pools))


@dataclass(frozen=True, slots=True)
class Placement:
    """A host and, per request, its pools; the claim on the host picks the devices.

    ``alternates`` are the next best hosts, each with its own placement, for retrying
    a claim that lost a race.
    """

    host: str
    requests: tuple[RequestPlacement, ...]
    alternates: tuple[Placement, ...] = ()

    def consumption(self) -> dict[PoolKey, int]:
        """Devices taken per pool: what :meth:`FleetView.consume` takes back out."""
        taken: dict[PoolKey, int] = {}
        for placed in self.requests:
            for key, count in placed.pools:
                taken[key] = taken.get(key, 0) + count
        return taken


@dataclass(frozen=True, slots=True)
class Scheduler:
    """Filters and weighers composed; ``most_free_first`` orders candidates for spread."""

    filters: tuple[HostFilter, ...]
    weighers: tuple[HostWeigher, ...]
    most_free_first: bool = False
    candidates: int = 8
    alternates: int = 3

    @classmethod
    def for_policy(
        cls, policy: str = "pack", *, candidates: int = 8, alternates: int = 3
    ) -> Scheduler:
        weighers = weighers_for(policy)
        return cls(default_filters(), weighers, policy == "spread", candidates, alternates)

    def select(
        self,
        view: FleetView,
        requests: Sequence[PciRequest],
        numa_cells: Collection[int] | None = None,
        normal_physnets: Collection[str] = (),
    ) -> Placement:
        ask = Ask.of(view, requests, numa_cells, normal_physnets)
        rejected: dict[str, int] = {}
        fitting = self._fitting(view, ask, rejected)
        log.debug("%d requests: %d hosts fit, rejected %s", len(requests), len(fitting), rejected)
        if not fitting:
            raise NoValidHost(self._why(ask, rejected))
        best_first = order([host for host, _ in fitting], ask, self.weighers)
        plans = {host.name: plan for host, plan in fitting}
        chosen = [Placement(host.name, plans[host.name]) for host in best_first]
        return Placement(chosen[0].host, chosen[0].requests, tuple(chosen[1 : 1 + self.alternates]))

    def _fitting(
        self, view: FleetView, ask: Ask, rejected: dict[str, int]
    ) -> list[tuple[HostState, tuple[RequestPlacement, ...]]]:
        wanted = max(self.candidates, 1 + self.alternates)
        fitting = []
        for name in self._candidates(view, ask):
            host = view.host(name)
            failed = next((f for f in self.filters if not f.passes(host, ask)), None)
            plan = None if failed else _fit(host, ask)
            if plan is None:
                reason = failed.explain(host, ask) if failed else FIT_REASON
                rejected[reason] = rejected.get(reason, 0) + 1
                continue
            fitting.append((host, plan))
            if len(fitting) == wanted:
                break
        return fitting

    def _candidates(self, view: FleetView, ask: Ask) -> Iterator[str]:
        if not ask.needs:
            # Hosts without PCI devices first: keep the others for instances that need them.
            yield from view.hosts_without_pci()
            yield from (host.name for host in view if host.healthy and host.has_pci)
            return
        yield from ask.scarcest().hosts(most_first=self.most_free_first)

    def _why(self, ask: Ask, rejected: dict[str, int]) -> str:
        for need in ask.needs:
            if need.request_class.count_with(need.need) == 0:
                return f"no host has {counted(need.need, need.words)}"
            if need.host_count() == 0:
                wanted = counted(need.need, need.words)
                return f"no host has {wanted} from {need.pfs} different PFs"
        if not rejected:
            return "no healthy host"
        most_first = sorted(rejected.items(), key=lambda item: -item[1])
        shown = [f"{reason} ({_hosts(count)})" for reason, count in most_first[:REASONS_SHOWN]]
        if len(most_first) > REASONS_SHOWN:
            left = sum(count for _, count in most_first[REASONS_SHOWN:])
            shown.append(f"other reasons ({_hosts(left)})")
        return f"no host fits every request: hosts rejected: {'; '.join(shown)}"


def _hosts(count: int) -> str:
    return "1 host" if count == 1 else f"{count} hosts"


def _fit(host: HostState, ask: Ask) -> tuple[RequestPlacement, ...] | None:
    plan = host.matcher.plan(
        ask.requests, host.counts(), ask.numa_cells, host.numa_sockets, host.refused
    )
    if plan is None:
        return None
    pools = pools_by_request(host.matcher, plan)
    return tuple(RequestPlacement(r, p) for r, p in zip(ask.requests, pools, strict=True))


def select_host(
    view: FleetView,
    requests: Sequence[PciRequest],
    numa_cells: Collection[int] | None = None,
    *,
    policy: str = "pack",
    candidates: int = 8,
    alternates: int = 3,
    normal_physnets: Collection[str] = (),
) -> Placement:
    """The best host for every request together; ``NoValidHost`` names what was missing.

    ``normal_physnets``: physnets of the instance's normal ports, each needing a bridge.
    """
    scheduler = Scheduler.for_policy(policy, candidates=candidates, alternates=alternates)
    return scheduler.select(view, requests, numa_cells, normal_physnets)
