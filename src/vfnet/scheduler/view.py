"""The fleet view: every host's pools, NUMA sockets and health, kept in step by deltas."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from vfnet.errors import Conflict, NotFound, ValidationError
from vfnet.inventory.matching import PoolMatcher
from vfnet.inventory.pools import Pool, PoolKey
from vfnet.scheduler.index import RequestClass, SignatureIndex, SignatureMatch

PoolCounts = Mapping[PoolKey, int] | Iterable[tuple[PoolKey, int]]


@dataclass(frozen=True, slots=True)
class HostState:
    """One host as the scheduler sees it: free counts per pool, never device lists.

    ``numa_sockets`` maps each host NUMA node to its socket (``None`` when unknown);
    ``has_pci`` says whether the host has PCI devices at all, free or not;
    ``normal_physnets`` are the physnets with a bridge backend for ``normal`` ports;
    ``refused`` maps a PF address to the VF attributes its NIC refused.
    ``pools`` keeps empty pools, so the set of keys, and the ``matcher`` built on them,
    only change when the host reports new devices.
    """

    name: str
    pools: Mapping[PoolKey, int]
    numa_sockets: Mapping[int, int | None]
    healthy: bool = True
    has_pci: bool = False
    normal_physnets: frozenset[str] = frozenset()
    refused: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    matcher: PoolMatcher = field(default_factory=lambda: PoolMatcher(()), compare=False, repr=False)

    def free(self, key: PoolKey) -> int:
        return self.pools.get(key, 0)

    def counts(self) -> list[int]:
        """Free counts in the order of ``matcher.pools``."""
        return [self.pools.get(pool.key, 0) for pool in self.matcher.pools]


class FleetView:
    """Every host's :class:`HostState`, with a :class:`SignatureIndex` over the healthy ones.

    The store feeds it deltas (``update_host``, ``remove_host``, ``set_health``,
    ``set_refused``, ``consume``, ``release``); a decision reads it and never rebuilds it.
    """

    def __init__(self) -> None:
        self._hosts: dict[str, HostState] = {}
        self._index = SignatureIndex()
        self._without_pci: dict[str, None] = {}

    def __len__(self) -> int:
        return len(self._hosts)

    def __contains__(self, name: object) -> bool:
        return name in self._hosts

    def __iter__(self) -> Iterator[HostState]:
        return iter(self._hosts.values())

    def host(self, name: str) -> HostState:
        try:
            return self._hosts[name]
        except KeyError:
            raise NotFound("host", name) from None

    def update_host(
        self,
        name: str,
        pools: PoolCounts,
        *,
        numa_sockets: Mapping[int, int | None] | None = None,
        healthy: bool = True,
        has_pci: bool | None = None,
        normal_physnets: Iterable[str] = (),
        refused: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """Add ``name`` or replace what the view knows of it (a host's full report)."""
        items = list(pools.items() if isinstance(pools, Mapping) else pools)
        counts = _counts(items)
        self._put(
            HostState(
                name=name,
                pools=MappingProxyType(counts),
                numa_sockets=MappingProxyType(dict(numa_sockets or {})),
                healthy=healthy,
                has_pci=bool(items) if has_pci is None else has_pci,
                normal_physnets=frozenset(normal_physnets),
                refused=_refused(refused),
                matcher=_matcher(counts),
            )
        )

    def remove_host(self, name: str) -> None:
        self._hosts.pop(name, None)
        self._without_pci.pop(name, None)
        self._index.set_host(name, {})

    def set_health(self, name: str, healthy: bool) -> None:
        self._put(replace(self.host(name), healthy=healthy))

    def set_refused(self, name: str, refused: Mapping[str, Iterable[str]]) -> None:
        """What the host's PFs refused now (an agent's report, an admin forgetting some)."""
        self._put(replace(self.host(name), refused=_refused(refused)))

    def consume(self, name: str, taken: Mapping[PoolKey, int]) -> None:
        """Take devices from ``name``'s pools (a placement made, or claimed elsewhere).

        Relatives go too, as the claim on the host will make them unclaimable: VFs
        taken empty their PF's pool, a PF taken empties its VF and vDPA pools. The
        host's next report gives them back once freed.
        """
        host = self.host(name)
        for key, count in taken.items():
            if host.free(key) < count:
                raise Conflict(f"host {name!r} has {host.free(key)} free in a pool, not {count}")
        deltas = {key: -count for key, count in taken.items()}
        for at, pool in enumerate(host.matcher.pools):
            if taken.get(pool.key):
                for relative in host.matcher.relatives[at]:
                    key = host.matcher.pools[relative].key
                    deltas[key] = -host.free(key)
        self._apply(host, deltas)

    def release(self, name: str, given: Mapping[PoolKey, int]) -> None:
        """Give devices back to ``name``'s pools (a claim lost, an instance deleted)."""
        self._apply(self.host(name), given)

    def request_class(self, class_key: object, matches: SignatureMatch) -> RequestClass:
        return self._index.request_class(class_key, matches)

    def hosts_without_pci(self) -> Iterator[str]:
        """Healthy hosts with no PCI devices at all, in the order they were added."""
        return iter(self._without_pci)

    def healthy_hosts(self) -> Iterator[str]:
        return (host.name for host in self._hosts.values() if host.healthy)

    @property
    def signature_count(self) -> int:
        return len(self._index)

    def _apply(self, host: HostState, deltas: Mapping[PoolKey, int]) -> None:
        counts = dict(host.pools)
        for key, delta in deltas.items():
            counts[key] = max(0, counts.get(key, 0) + delta)
        matcher = host.matcher if counts.keys() == host.pools.keys() else _matcher(counts)
        self._put(replace(host, pools=MappingProxyType(counts), matcher=matcher))

    def _put(self, host: HostState) -> None:
        self._hosts[host.name] = host
        # Only healthy hosts are indexed: an unhealthy one is never a candidate.
        self._index.set_host(host.name, host.pools if host.healthy else {})
        if host.healthy and not host.has_pci:
            self._without_pci[host.name] = None
        else:
            self._without_pci.pop(host.name, None)


def _counts(items: Iterable[tuple[PoolKey, int]]) -> dict[PoolKey, int]:
    counts: dict[PoolKey, int] = {}
    for key, free in items:
        if free < 0:
            raise ValidationError("pools", f"a pool cannot have {free} free devices")
        counts[key] = counts.get(key, 0) + free
    return counts


def _refused(refused: Mapping[str, Iterable[str]] | None) -> Mapping[str, frozenset[str]]:
    kept = {pf: frozenset(attrs) for pf, attrs in (refused or {}).items()}
    return MappingProxyType({pf: attrs for pf, attrs in kept.items() if attrs})


def _matcher(counts: Mapping[PoolKey, int]) -> PoolMatcher:
    # Nova's pool order: fewer keys first, stable; counts are passed at each use.
    return PoolMatcher([Pool(key) for key in sorted(counts, key=len)])
