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


class RequestClass:
    """Every host's free total over the signatures one kind of request can use."""

    def __init__(self, matches: SignatureMatch) -> None:
        self.matches = matches
        self.signatures: set[int] = set()
        self.totals: dict[str, int] = {}
        # Dicts as ordered sets: ties come out in the order hosts reached the bucket.
        self._buckets: dict[int, dict[str, None]] = {}

    def free(self, host: str) -> int:
        return self.totals.get(host, 0)

    def add(self, host: str, delta: int) -> None:
        old = self.totals.get(host, 0)
        new = old + delta
        if old:
            bucket = self._buckets[old]
            del bucket[host]
            if not bucket:
                del self._buckets[old]
        if new:
            self.totals[host] = new
            self._buckets.setdefault(new, {})[host] = None
        else:
            self.totals.pop(host, None)

    def count_with(self, at_least: int) -> int:
        """How many hosts have ``at_least`` free (reads bucket sizes, not hosts)."""
        return sum(len(hosts) for free, hosts in self._buckets.items() if free >= at_least)

    def hosts_with(self, at_least: int, *, most_first: bool = False) -> Iterator[str]:
        """Hosts with ``at_least`` free, fewest free first (or most first).

        Lazy: a caller that stops after a few hosts pays for those few, not the fleet.
        The index must not change while the iterator is in use.
        """
        for free in sorted((f for f in self._buckets if f >= at_least), reverse=most_first):
            yield from self._buckets[free]


class SignatureIndex:
    """Signatures, each host's free total per signature, and the request classes over them."""

    def __init__(self) -> None:
        self._ids: dict[PoolKey, int] = {}
        self._signatures: list[PoolKey] = []
        self._host_totals: dict[str, dict[int, int]] = {}
        self._classes: dict[Hashable, RequestClass] = {}
        self._classes_of: dict[int, list[RequestClass]] = {}

    def __len__(self) -> int:
        return len(self._signatures)

    def set_host(self, host: str, pools: Mapping[PoolKey, int]) -> None:
        """Make ``host``'s indexed free counts those of ``pools`` (empty: not indexed)."""
        new: dict[int, int] = {}
        for key, free in pools.items():
            if free > 0:
                sig = self._intern(signature(key))
                new[sig] = new.get(sig, 0) + free
        old = self._host_totals.pop(host, {})
        for sig in old.keys() | new.keys():
            delta = new.get(sig, 0) - old.get(sig, 0)
            if delta:
                for request_class in self._classes_of.get(sig, ()):
                    request_class.add(host, delta)
        if new:
            self._host_totals[host] = new

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
        for host, totals in self._host_totals.items():
            free = sum(totals.get(sig, 0) for sig in request_class.signatures)
            if free:
                request_class.add(host, free)
        return request_class

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
