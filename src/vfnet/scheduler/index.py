"""The fleet index: per pool signature, which hosts have how many free devices, without scans.

Pool keys repeat across hosts except for ``address`` (the parent PF), so a fleet of
10,000 hosts has only a handful of distinct *signatures* (the key without ``address``).
A request is matched against those signatures once; the signatures it can draw from
form a *class*, and each class keeps every host's free total in count buckets, so
"hosts with at least N free" is read bucket by bucket, fewest or most first, instead
of by looking at every host. Classes are built on first use and then kept in step by
the host deltas, never rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Mapping

from vfnet.inventory.pools import PoolKey

SignatureMatch = Callable[[PoolKey], bool]


def signature(key: PoolKey) -> PoolKey:
    """The pool key without the parent PF address: what repeats from host to host."""
    return PoolKey(frozenset(item for item in key.items if item[0] != "address"))


class _Buckets:
    """Hosts by free count; dicts as ordered sets, so ties come out in arrival order."""

    def __init__(self) -> None:
        self._hosts: dict[int, dict[str, None]] = {}

    def move(self, host: str, old: int, new: int) -> None:
        if old:
            bucket = self._hosts[old]
            del bucket[host]
            if not bucket:
                del self._hosts[old]
        if new:
            self._hosts.setdefault(new, {})[host] = None

    def count_with(self, at_least: int) -> int:
        return sum(len(hosts) for free, hosts in self._hosts.items() if free >= at_least)

    def hosts_with(self, at_least: int, most_first: bool) -> Iterator[str]:
        for free in sorted((f for f in self._hosts if f >= at_least), reverse=most_first):
            yield from self._hosts[free]


class RequestClass:
    """Every host's free total, and how many PFs hold it, over one kind of request's signatures.

    Hosts whose free devices sit on two PFs or more are bucketed apart as well, so an
    anti-affinity group skips hosts with a single usable PF without looking at them.
    """

    def __init__(self, matches: SignatureMatch) -> None:
        self.matches = matches
        self.signatures: set[int] = set()
        self.totals: dict[str, int] = {}
        self.pf_counts: dict[str, int] = {}
        self._all = _Buckets()
        self._spread = _Buckets()

    def free(self, host: str) -> int:
        return self.totals.get(host, 0)

    def pfs(self, host: str) -> int:
        return self.pf_counts.get(host, 0)

    def set(self, host: str, free: int, pfs: int) -> None:
        old_free, old_pfs = self.totals.pop(host, 0), self.pf_counts.pop(host, 0)
        self._all.move(host, old_free, free)
        self._spread.move(host, old_free if old_pfs >= 2 else 0, free if pfs >= 2 else 0)
        if free:
            self.totals[host], self.pf_counts[host] = free, pfs

    def count_with(self, at_least: int, pfs: int = 1) -> int:
        """How many hosts have ``at_least`` free (reads bucket sizes, not hosts)."""
        return (self._spread if pfs >= 2 else self._all).count_with(at_least)

    def hosts_with(self, at_least: int, *, most_first: bool = False, pfs: int = 1) -> Iterator[str]:
        """Hosts with ``at_least`` free (on two PFs or more if ``pfs`` >= 2), fewest first.

        Lazy: a caller that stops after a few hosts pays for those few, not the fleet.
        The index must not change while the iterator is in use.
        """
        return (self._spread if pfs >= 2 else self._all).hosts_with(at_least, most_first)


class SignatureIndex:
    """Signatures, each host's free devices per signature, and the request classes over them."""

    def __init__(self) -> None:
        self._ids: dict[PoolKey, int] = {}
        self._signatures: list[PoolKey] = []
        # host -> signature -> (free total, PFs holding free devices)
        self._hosts: dict[str, dict[int, tuple[int, frozenset[str | None]]]] = {}
        self._classes: dict[Hashable, RequestClass] = {}
        self._classes_of: dict[int, list[RequestClass]] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def set_host(self, host: str, pools: Mapping[PoolKey, int]) -> None:
        """Make ``host``'s indexed free counts those of ``pools`` (empty: not indexed)."""
        free: dict[int, int] = {}
        pfs: dict[int, set[str | None]] = {}
        for key, count in pools.items():
            if count > 0:
                sig = self._intern(signature(key))
                free[sig] = free.get(sig, 0) + count
                pfs.setdefault(sig, set()).add(key.get("address"))
        new = {sig: (free[sig], frozenset(pfs[sig])) for sig in free}
        old = self._hosts.pop(host, {})
        if new:
            self._hosts[host] = new
        changed = {sig for sig in old.keys() | new.keys() if old.get(sig) != new.get(sig)}
        touched = {id(c): c for sig in changed for c in self._classes_of.get(sig, ())}
        for request_class in touched.values():
            self._refresh(request_class, host)

    def request_class(self, class_key: Hashable, matches: SignatureMatch) -> RequestClass:
        """The class named ``class_key``, built once over every host when first asked for."""
        found = self._classes.get(class_key)
        if found is not None:
            return found
        request_class = RequestClass(matches)
        self._classes[class_key] = request_class
        for sig, key in enumerate(self._signatures):
            if matches(key):
                self._join(request_class, sig)
        for host in self._hosts:
            self._refresh(request_class, host)
        return request_class

    def _refresh(self, request_class: RequestClass, host: str) -> None:
        held = self._hosts.get(host, {})
        free, pfs = 0, set[str | None]()
        for sig in request_class.signatures & held.keys():
            count, holders = held[sig]
            free += count
            pfs |= holders
        request_class.set(host, free, len(pfs))

    def _intern(self, key: PoolKey) -> int:
        sig = self._ids.get(key)
        if sig is None:
            sig = self._ids[key] = len(self._signatures)
            self._signatures.append(key)
            for request_class in self._classes.values():
                if request_class.matches(key):
                    self._join(request_class, sig)
        return sig

    def _join(self, request_class: RequestClass, sig: int) -> None:
        request_class.signatures.add(sig)
        self._classes_of.setdefault(sig, []).append(request_class)
