"""From a placement request to a claim: PCI requests, host choice, claim with bounded retry."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from vfnet.api.schemas.placements import PlacementIn
from vfnet.errors import NoValidHost, StaleGeneration, ValidationError
from vfnet.inventory.pools import PoolKey
from vfnet.inventory.requests import PciRequest
from vfnet.pci.alias import Alias
from vfnet.scheduler.requests import (
    ALIAS_SPEC,
    instance_numa_policy,
    request_for_port,
    requests_for_flavor,
)
from vfnet.store import Store
from vfnet.store.records import ClaimRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Wanted:
    """Everything one instance asks of a host."""

    requests: tuple[PciRequest, ...]
    #: The host NUMA nodes the instance runs on; None: no NUMA topology, no NUMA filtering.
    numa_cells: frozenset[int] | None
    policy: str
    #: Physnets of the instance's normal ports: only hosts with a bridge for each fit.
    normal_physnets: frozenset[str] = frozenset()
    #: The one host to place on (an admin's choice); None: the scheduler's.
    host: str | None = None

    def cells(self) -> list[int] | None:
        return None if self.numa_cells is None else sorted(self.numa_cells)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A host to claim on, and the devices per pool the scheduler expects to take there."""

    host: str
    taken: Mapping[PoolKey, int]


class Chooser(Protocol):
    """Picks a placement's hosts, best first then alternates; hears where the claim landed."""

    def candidates(self, wanted: Wanted) -> Sequence[Candidate]: ...

    def claimed(self, candidate: Candidate, generation: int) -> None: ...


def requests_of(body: PlacementIn, store: Store, aliases: Mapping[str, Alias]) -> Wanted:
    """The flavor's alias requests, the inline alias requests, then one per SR-IOV port.

    Raises:
        NotFound: the flavor does not exist.
        ValidationError: an alias is not configured, or NUMA policies disagree.
    """
    flavor = store.get_flavor(body.flavor) if body.flavor else None
    extra_specs = dict(flavor.extra_specs) if flavor else {}
    image_policy = body.numa_policy.value if body.numa_policy else None
    requests = requests_for_flavor(extra_specs, aliases, image_numa_policy=image_policy)
    for position, item in enumerate(body.pci_requests):
        if item.alias not in aliases:
            field = f"pci_requests[{position}].alias"
            raise ValidationError(field, f"alias {item.alias!r} is not defined")
        spec = {ALIAS_SPEC: f"{item.alias}:{item.count}"}
        (made,) = requests_for_flavor(spec, aliases, image_numa_policy=image_policy)
        requests.append(replace(made, request_id=f"request-{position}", pf_group=item.pf_group))
    default_policy = instance_numa_policy(extra_specs, image_policy)
    for port in body.ports:
        made_for_port = request_for_port(
            port.id,
            port.vnic_type,
            port.physnet,
            trusted=port.trusted,
            numa_policy=port.numa_policy,
            pf_group=port.pf_group,
            default_numa_policy=default_policy,
        )
        if made_for_port is not None:
            requests.append(made_for_port)
    cells = None if body.numa_cells is None else frozenset(body.numa_cells)
    return Wanted(tuple(requests), cells, body.policy)


def place(store: Store, chooser: Chooser, wanted: Wanted, attempts: int) -> ClaimRecord:
    """Claim on the chosen host; a lost race (StaleGeneration) moves on to the next host.

    Raises:
        NoValidHost: no host fits, or every candidate tried lost its race.
    """
    owner = str(uuid.uuid4())
    candidates = list(chooser.candidates(wanted))
    if wanted.host is not None:
        fitting = ", ".join(sorted(c.host for c in candidates))
        candidates = [c for c in candidates if c.host == wanted.host]
        if not candidates:
            raise NoValidHost(
                f"host {wanted.host} cannot take the instance (hosts that can: {fitting})"
            )
    candidates = candidates[:attempts]
    for candidate in candidates:
        try:
            claim = store.claim(candidate.host, owner, wanted.requests, numa_cells=wanted.cells())
        except StaleGeneration:
            log.info("claim on %s lost a race; trying the next candidate", candidate.host)
            continue
        chooser.claimed(candidate, claim.generation)
        return claim
    raise NoValidHost(f"every candidate host changed under the claim ({len(candidates)} tried)")
