"""Matching PCI requests against pools: Nova's spec rules, NUMA policies, and joint fitting.

Public API:
    spec_matches(spec, key) -> bool           one spec dict against one pool key
    PoolMatcher(pools)                        per pool set: remembers which pools suit which
                                              request shape; ``candidates``, ``filter``, ``plan``
    filter_pools(pools, request, numa_cells=None, sockets=None) -> list[Pool]
    refusing_pfs(request, refused) -> frozenset  PFs that refused a VF attribute it needs
    support_requests(pools, requests, numa_cells=None, sockets=None) -> bool
    Plan                                      per request, the (pool index, count) taken

``numa_cells`` are the host NUMA cells the instance is pinned to (``None``: the instance
has no NUMA topology, so no NUMA filtering at all); ``sockets`` maps a host NUMA node to
its socket (``None`` for a node whose socket is unknown).

Unlike Nova's scheduler (quirk 8), fitting models the PF/VF dependency: taking VFs
from a PF's pools removes that PF, and taking a PF removes its VF and vDPA pools,
exactly as a claim on the host would. Requests sharing a ``pf_group`` are served from
different PFs; the fit tries alternatives for them (a small backtracking search).
``refused`` (PF address -> VF attributes its NIC refused) keeps a request away from
the PFs that refused an attribute in its ``vf_needs``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from vfnet.inventory.numa import numa_filter
from vfnet.inventory.pools import Pool, PoolKey
from vfnet.inventory.requests import PciRequest
from vfnet.pci.devices import DeviceType

# Keys a spec may carry that only placement reads.
# capability_type is only ever "pci" (the alias schema says so); Nova keeps it in the
# request spec, where no pool carries it, so such an alias could never match.
IGNORED_SPEC_KEYS = frozenset(
    {"resource_class", "traits", "rp_uuids", "rp_uuid", "capability_type"}
)
TRUE_WORDS = frozenset({"1", "t", "true", "on", "y", "yes"})
CHILD_TYPES = frozenset({DeviceType.VF.value, DeviceType.VDPA.value})

Take = tuple[int, int]  # (pool index, how many devices)
Plan = list[list[Take]]  # per request, in request order
Refused = Mapping[str, Collection[str]]  # PF address -> VF attributes its NIC refused
NO_REFUSALS: Refused = {}


def is_true(value: object) -> bool:
    """A lenient bool parse, as Nova reads ``remote_managed`` in specs and tags."""
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in TRUE_WORDS


def _value_matches(wanted: object, have: object) -> bool:
    if isinstance(wanted, list | tuple | set | frozenset):
        return isinstance(have, list | tuple | set | frozenset) and set(wanted) <= set(have)
    if isinstance(wanted, str) and isinstance(have, str):
        return wanted.lower() == have.lower()
    return wanted == have  # no int/str coercion: 0 is not "0"


def spec_matches(spec: Mapping[str, Any], key: PoolKey) -> bool:
    """Every spec key equals the pool's value; a key the pool lacks counts as ``None``."""
    values = key.as_dict()
    return all(
        _value_matches(wanted, values.get(name))
        for name, wanted in spec.items()
        if name not in IGNORED_SPEC_KEYS
    )


def refusing_pfs(request: PciRequest, refused: Refused) -> frozenset[str | None]:
    """The PFs that refused a VF attribute ``request`` needs: none of their devices serve it."""
    if not request.vf_needs or not refused:
        return frozenset()
    return frozenset(pf for pf, attrs in refused.items() if request.vf_needs.intersection(attrs))


def _asks(request: PciRequest, name: str, value: str) -> bool:
    return any(spec.get(name) == value for spec in request.specs)


def _live_migratable_wanted(request: PciRequest) -> str | None:
    """``true``/``false`` when every spec agrees on it, else ``None`` (no filtering)."""
    values = {str(spec.get("live_migratable")).lower() for spec in request.specs}
    if len(values) == 1 and values <= {"true", "false"}:
        return values.pop()
    return None


class PoolMatcher:
    """One pool set's fixed facts (type, PF, NUMA node per pool) and its match memo.

    Which pools suit a request depends only on pool keys and request specs, so it is
    worked out once per request shape; counts are read at each use.
    """

    def __init__(self, pools: Sequence[Pool]) -> None:
        self.pools = tuple(pools)
        self.numa_nodes = tuple(pool.numa_node for pool in self.pools)
        self.pf_of = tuple(pool.key.get("address") for pool in self.pools)
        types = tuple(pool.dev_type for pool in self.pools)
        self.relatives = tuple(self._relatives(index, types) for index in range(len(types)))
        self._memo: dict[object, tuple[int, ...]] = {}

    def _relatives(self, index: int, types: tuple[str, ...]) -> tuple[int, ...]:
        """Pools emptied by taking from pool ``index``: a PF's children, or a child's PF."""
        if types[index] == DeviceType.PF.value:
            related = CHILD_TYPES
        elif types[index] in CHILD_TYPES:
            related = frozenset({DeviceType.PF.value})
        else:
            return ()
        pf = self.pf_of[index]
        return tuple(
            other for other, kind in enumerate(types) if kind in related and self.pf_of[other] == pf
        )

    def candidates(self, request: PciRequest) -> tuple[int, ...]:
        """Indices of pools the request may use whatever the counts (Nova steps 1, 3, 4, 5, 7)."""
        found = self._memo.get(request.spec_key)
        if found is None:
            found = self._memo[request.spec_key] = tuple(self._match(request))
        return found

    def _match(self, request: PciRequest) -> list[int]:
        pf_ok = _asks(request, "dev_type", DeviceType.PF.value)
        vdpa_ok = _asks(request, "dev_type", DeviceType.VDPA.value)
        remote_ok = any(is_true(spec.get("remote_managed")) for spec in request.specs)
        live = _live_migratable_wanted(request)
        found = []
        for index, pool in enumerate(self.pools):
            kind = pool.dev_type
            if (kind == DeviceType.PF.value and not pf_ok) or (
                kind == DeviceType.VDPA.value and not vdpa_ok
            ):
                continue
            if not remote_ok and is_true(pool.key.get("remote_managed")):
                continue
            if live is not None and pool.key.get("live_migratable") != live:
                continue
            if any(spec_matches(spec, pool.key) for spec in request.specs):
                found.append(index)
        return found

    def usable(
        self,
        request: PciRequest,
        counts: Sequence[int],
        numa_cells: frozenset[int] | None = None,
        sockets: Mapping[int, int | None] | None = None,
        banned_pfs: frozenset[str | None] = frozenset(),
    ) -> list[int]:
        """Non-empty pools the request may take from, in consumption order (total unchecked)."""
        found = self._memo.get(request.spec_key)
        if found is None:
            found = self.candidates(request)
        usable = [i for i in found if counts[i]]
        if banned_pfs:
            usable = [i for i in usable if self.pf_of[i] not in banned_pfs]
        if numa_cells is not None:
            usable = numa_filter(
                usable, counts, self.numa_nodes, request, numa_cells, sockets or {}
            )
        return usable

    def filter(
        self,
        request: PciRequest,
        counts: Sequence[int],
        numa_cells: frozenset[int] | None = None,
        sockets: Mapping[int, int | None] | None = None,
        banned_pfs: frozenset[str | None] = frozenset(),
    ) -> list[int]:
        """Usable pool indices in consumption order, or ``[]`` when they hold too few."""
        found = self.usable(request, counts, numa_cells, sockets, banned_pfs)
        if sum([counts[i] for i in found]) < request.count:
            return []
        return found

    def plan(
        self,
        requests: Sequence[PciRequest],
        counts: Sequence[int] | None = None,
        numa_cells: frozenset[int] | None = None,
        sockets: Mapping[int, int | None] | None = None,
        refused: Refused = NO_REFUSALS,
    ) -> Plan | None:
        """How to serve every request together from ``counts`` (default: the pools' own)."""
        if counts is None:
            counts = [pool.count for pool in self.pools]
        if len(requests) == 1 and requests[0].pf_group is None:
            # The common case, a single request, consumes nothing it must remember.
            request = requests[0]
            pools = self.usable(
                request, counts, numa_cells, sockets, refusing_pfs(request, refused)
            )
            alone = _greedy(request.count, pools, counts)
            return None if alone is None else [alone]
        start = list(counts)
        for request in requests:
            if request.pf_group is not None:
                return _Fit(self, requests, numa_cells, sockets, refused).search(0, start, {})
        return self._plan_in_order(requests, start, numa_cells, sockets, refused)

    def _plan_in_order(
        self,
        requests: Sequence[PciRequest],
        counts: list[int],
        numa_cells: frozenset[int] | None,
        sockets: Mapping[int, int | None] | None,
        refused: Refused,
    ) -> Plan | None:
        """Without anti-affinity there is nothing to search: each request takes in turn."""
        plan: Plan = []
        for request in requests:
            banned = refusing_pfs(request, refused)
            takes = _greedy(
                request.count, self.usable(request, counts, numa_cells, sockets, banned), counts
            )
            if takes is None:
                return None
            self.consume(counts, takes)
            plan.append(takes)
        return plan

    def consume(self, counts: list[int], takes: list[Take]) -> None:
        """Take devices from ``counts``, emptying the pools of the relatives they block."""
        for index, count in takes:
            counts[index] -= count
            for relative in self.relatives[index]:
                counts[relative] = 0


class _Fit:
    """A depth-first search over take choices; only pf_group requests have alternatives."""

    def __init__(
        self,
        matcher: PoolMatcher,
        requests: Sequence[PciRequest],
        numa_cells: frozenset[int] | None,
        sockets: Mapping[int, int | None] | None,
        refused: Refused,
    ) -> None:
        self.matcher = matcher
        self.requests = requests
        self.numa_cells = numa_cells
        self.sockets = sockets
        self.refused = refused

    def search(
        self, at: int, counts: list[int], used: dict[str, frozenset[str | None]]
    ) -> Plan | None:
        if at == len(self.requests):
            return []
        request = self.requests[at]
        group = request.pf_group
        banned = used.get(group, frozenset()) if group is not None else frozenset()
        refusing = refusing_pfs(request, self.refused)
        pools = self.matcher.filter(
            request, counts, self.numa_cells, self.sockets, banned | refusing
        )
        for takes in self._options(request, pools, counts):
            after = self._consume(counts, takes)
            now_used = used
            if group is not None:
                pfs = frozenset(self.matcher.pf_of[index] for index, _ in takes)
                now_used = {**used, group: banned | pfs}
            rest = self.search(at + 1, after, now_used)
            if rest is not None:
                return [takes, *rest]
        return None

    def _options(
        self, request: PciRequest, pools: list[int], counts: list[int]
    ) -> list[list[Take]]:
        if not pools:
            return []
        first = _greedy(request.count, pools, counts)
        if first is None:
            return []
        options = [first]
        if request.pf_group is not None:
            # Alternatives: the whole request from any single PF's pool.
            options += [
                [(index, request.count)]
                for index in pools
                if counts[index] >= request.count and [(index, request.count)] != options[0]
            ]
        return options

    def _consume(self, counts: list[int], takes: list[Take]) -> list[int]:
        after = list(counts)
        self.matcher.consume(after, takes)
        return after


def _greedy(count: int, pools: list[int], counts: Sequence[int]) -> list[Take] | None:
    """Take from each pool in turn, as Nova does; ``None`` when they hold too few."""
    takes: list[Take] = []
    for index in pools:
        have = counts[index]
        if have >= count:
            takes.append((index, count))
            return takes
        takes.append((index, have))
        count -= have
    return None


def filter_pools(
    pools: Sequence[Pool],
    request: PciRequest,
    numa_cells: frozenset[int] | None = None,
    sockets: Mapping[int, int | None] | None = None,
) -> list[Pool]:
    """Nova's ``_filter_pools``: the pools a request may use, in order; ``[]`` if too few."""
    matcher = PoolMatcher(pools)
    counts = [pool.count for pool in matcher.pools]
    return [matcher.pools[i] for i in matcher.filter(request, counts, numa_cells, sockets)]


def support_requests(
    pools: Sequence[Pool],
    requests: Sequence[PciRequest],
    numa_cells: frozenset[int] | None = None,
    sockets: Mapping[int, int | None] | None = None,
) -> bool:
    """Whether every request fits together; the pools themselves are left untouched."""
    return PoolMatcher(pools).plan(requests, None, numa_cells, sockets) is not None
