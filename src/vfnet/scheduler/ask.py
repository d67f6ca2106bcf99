"""One scheduling decision's question: the requests, the NUMA cells, and their index classes."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace

from vfnet.inventory.matching import PoolMatcher
from vfnet.inventory.pools import Pool, PoolKey
from vfnet.inventory.requests import NumaPolicy, PciRequest
from vfnet.scheduler.index import RequestClass
from vfnet.scheduler.view import FleetView

_KINDS = {"type-VF": "VFs", "type-PF": "PFs", "vdpa": "vDPA devices", "type-PCI": "PCI devices"}


@dataclass(frozen=True, slots=True)
class ClassNeed:
    """Requests drawing on the same signatures: how many devices they need together, on
    how many different PFs at least (an anti-affinity group within them), in words."""

    request_class: RequestClass
    need: int
    words: str
    pfs: int = 1

    def met_by(self, host: str) -> bool:
        found = self.request_class
        return found.free(host) >= self.need and found.pfs(host) >= self.pfs

    def hosts(self, *, most_first: bool) -> Iterator[str]:
        return self.request_class.hosts_with(self.need, most_first=most_first, pfs=self.pfs)

    def host_count(self) -> int:
        """Hosts that may meet it: read from bucket sizes, not by looking at hosts."""
        return self.request_class.count_with(self.need, self.pfs)


@dataclass(frozen=True, slots=True)
class Ask:
    requests: tuple[PciRequest, ...]
    numa_cells: frozenset[int] | None
    needs: tuple[ClassNeed, ...]
    #: Physnets the instance's ``normal`` ports are on: the host needs a bridge for each.
    normal_physnets: frozenset[str] = frozenset()

    @classmethod
    def of(
        cls,
        view: FleetView,
        requests: Sequence[PciRequest],
        numa_cells: Collection[int] | None,
        normal_physnets: Collection[str] = (),
    ) -> Ask:
        cells = None if numa_cells is None else frozenset(numa_cells)
        grouped: dict[tuple[object, object], list[PciRequest]] = {}
        matches: dict[tuple[object, object], _SignatureMatch] = {}
        for request in requests:
            match = _SignatureMatch.of(request, cells)
            grouped.setdefault(match.class_key, []).append(request)
            matches[match.class_key] = match
        needs = tuple(
            ClassNeed(
                view.request_class(key, matches[key]),
                sum(member.count for member in members),
                describe(members[0]),
                _group_size(members, requests),
            )
            for key, members in grouped.items()
        )
        return cls(tuple(requests), cells, needs, frozenset(normal_physnets))

    def scarcest(self) -> ClassNeed:
        """The need the fewest hosts meet: candidates are drawn from it."""
        return min(self.needs, key=ClassNeed.host_count)


def _group_size(members: list[PciRequest], requests: Sequence[PciRequest]) -> int:
    """The largest anti-affinity group lying wholly among ``members``: PFs they need."""
    largest = 1
    for group in {m.pf_group for m in members if m.pf_group is not None}:
        in_group = [r for r in requests if r.pf_group == group]
        if all(any(r is m for m in members) for r in in_group):
            largest = max(largest, len(in_group))
    return largest


_SINGULAR = (("vDPA devices", "vDPA device"), ("PCI devices", "PCI device"), ("VFs", "VF"),
             ("PFs", "PF"), ("devices", "device"))  # fmt: skip


def counted(count: int, words: str) -> str:
    """``2 free VFs on ...`` but ``1 free VF on ...``."""
    if count == 1:
        for plural, singular in _SINGULAR:
            if plural in words:
                return f"1 free {words.replace(plural, singular, 1)}"
    return f"{count} free {words}"


def describe(request: PciRequest) -> str:
    """What a request asks for, as an operator would say it ("VFs on physnet 'physnet1'")."""
    spec = request.specs[0] if request.specs else {}
    kind = _KINDS.get(str(spec.get("dev_type")), "VFs" if request.requester_id else "devices")
    words = [kind]
    if request.alias_name is not None:
        words.append(f"of alias {request.alias_name!r}")
    if "physical_network" in spec:
        physnet = spec["physical_network"]
        words.append(f"on physnet {physnet!r}" if physnet else "without a physnet")
    if str(spec.get("remote_managed")).lower() == "true":
        words.insert(0, "remote-managed")
    if str(spec.get("trusted")).lower() == "true":
        words.insert(0, "trusted")
    return " ".join(words)


def reachable_numa_nodes(
    policy: NumaPolicy, cells: frozenset[int] | None
) -> frozenset[str | None] | None:
    """NUMA nodes (as pool key values) a policy could ever draw from; ``None``: any.

    A necessary bound only, so the index can skip hosts whose devices sit on nodes
    the policy never uses; the matcher still applies the policy exactly.
    """
    if cells is None:
        return None
    nodes = frozenset(str(cell) for cell in cells)
    if policy is NumaPolicy.REQUIRED:
        return nodes
    if policy is NumaPolicy.LEGACY:
        return nodes | {None}
    return None


@dataclass(frozen=True, slots=True)
class _SignatureMatch:
    """Whether a request could ever use a pool with this signature (counts aside)."""

    request: PciRequest
    numa_nodes: frozenset[str | None] | None

    @classmethod
    def of(cls, request: PciRequest, cells: frozenset[int] | None) -> _SignatureMatch:
        # Signatures have no parent PF address, so address is left to the exact fit.
        specs = tuple({k: v for k, v in spec.items() if k != "address"} for spec in request.specs)
        shape = replace(request, count=1, specs=specs, pf_group=None)
        return cls(shape, reachable_numa_nodes(request.numa_policy, cells))

    @property
    def class_key(self) -> tuple[object, object]:
        """Requests with equal keys draw on the same signatures."""
        return self.request.spec_key, self.numa_nodes

    def __call__(self, key: PoolKey) -> bool:
        if self.numa_nodes is not None and key.get("numa_node") not in self.numa_nodes:
            return False
        return bool(PoolMatcher([Pool(key)]).candidates(self.request))


def pools_by_request(
    matcher: PoolMatcher, plan: Sequence[Sequence[tuple[int, int]]]
) -> tuple[tuple[tuple[PoolKey, int], ...], ...]:
    """A matcher's plan (pool indices) as pool keys and counts."""
    return tuple(tuple((matcher.pools[index].key, n) for index, n in takes if n) for takes in plan)


def free_of(needs: Sequence[ClassNeed], host: str) -> int:
    return sum(need.request_class.free(host) for need in needs)
