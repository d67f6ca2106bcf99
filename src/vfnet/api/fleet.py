"""The server's fleet view, kept in step with the store by host change stamps, not rebuilt.

Each server process holds one FleetCache. Before a decision it asks the store which
hosts were stamped since its last look and reloads those alone; after a claim it
takes the claimed devices out of the view at once. Servers sharing one database each
keep their own cache: a view that is a moment behind can only send a claim to a host
that no longer fits, and the claim's generation compare-and-set turns that into a
lost race that moves on to the alternates.
"""

from __future__ import annotations

import logging
import threading

from vfnet.api.placing import Candidate, Wanted
from vfnet.errors import Conflict, NotFound
from vfnet.scheduler.select import select_host
from vfnet.scheduler.view import FleetView
from vfnet.store import Store
from vfnet.store.changes import HostFacts

log = logging.getLogger(__name__)

ALL_HOSTS = 1_000_000  # as many candidates and alternates as there are hosts

# The high-water mark before the first look: every host is stamped after it.
NEVER_SYNCED = -1


class FleetCache:
    """A FleetView of the store and the change stamp it is current to; a Chooser.

    Placements run in a thread pool, so every use of the view holds ``_lock``.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._view = FleetView()
        self._generations: dict[str, int] = {}
        self._since = NEVER_SYNCED
        self._lock = threading.Lock()
        self.reloaded = 0  # hosts reloaded over the cache's life, for tests and figures

    @property
    def since(self) -> int:
        return self._since

    @property
    def view(self) -> FleetView:
        """The view itself, for reading; only the cache changes it."""
        return self._view

    def sync(self) -> int:
        """Reload the hosts stamped since the last sync; returns how many were reloaded."""
        with self._lock:
            return self._sync()

    def candidates(self, wanted: Wanted) -> list[Candidate]:
        """The scheduler's choice over the synced view: best host first, then alternates."""
        # A host chosen by an admin must be weighed even when it is not among the best.
        every = {"candidates": ALL_HOSTS, "alternates": ALL_HOSTS} if wanted.host else {}
        with self._lock:
            self._sync()
            chosen = select_host(
                self._view,
                wanted.requests,
                wanted.numa_cells,
                policy=wanted.policy,
                normal_physnets=wanted.normal_physnets,
                **every,
            )
        return [
            Candidate(placement.host, placement.consumption())
            for placement in (chosen, *chosen.alternates)
        ]

    def claimed(self, candidate: Candidate, generation: int) -> None:
        """Take a committed claim out of the view, unless a sync already read it back."""
        with self._lock:
            if self._generations.get(candidate.host, generation) >= generation:
                return
            try:
                self._view.consume(candidate.host, candidate.taken)
            except (Conflict, NotFound):
                # The claim picked other pools than the plan: the next sync reloads the host.
                log.debug("view of %s left to the next sync", candidate.host)

    def _sync(self) -> int:
        high, names = self._store.host_changes(self._since)
        if not names:
            return 0
        everything = self._since == NEVER_SYNCED
        found = self._store.host_facts(None if everything else names)
        for facts in found:
            self._put(facts)
        for gone in set(names) - {facts.name for facts in found}:
            self._view.remove_host(gone)
            self._generations.pop(gone, None)
        self._since = high
        self.reloaded += len(found)
        log.debug("fleet view: %d hosts reloaded, current to change %d", len(found), high)
        return len(found)

    def _put(self, facts: HostFacts) -> None:
        self._view.update_host(
            facts.name,
            facts.pools,
            numa_sockets=facts.numa_sockets,
            has_pci=facts.has_pci,
            normal_physnets=facts.normal_physnets,
            refused=facts.refused,
        )
        self._generations[facts.name] = facts.generation
