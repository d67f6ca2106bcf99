"""From a placement request to a claim: PCI requests, host choice, claim with bounded retry."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from vfnet.api.schemas.placements import PlacementIn
from vfnet.errors import NoValidHost, StaleGeneration, ValidationError
from vfnet.inventory.requests import PciRequest
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
    numa_cells: int
    policy: str


@dataclass(frozen=True, slots=True)
class Choice:
    host: str
    numa_cells: Sequence[int] | None = None


class Chooser(Protocol):
    def __call__(self, wanted: Wanted, exclude: frozenset[str]) -> Choice: ...


def requests_of(body: PlacementIn, store: Store, aliases: Mapping[str, Any]) -> Wanted:
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
    cells = body.numa_cells or (flavor.numa_cells if flavor else 0) or 1
    return Wanted(tuple(requests), cells, body.policy)


def place(store: Store, choose: Chooser, wanted: Wanted, attempts: int) -> ClaimRecord:
    """Claim on the chosen host; a lost race (StaleGeneration) moves on to the next host.

    Raises:
        NoValidHost: no host fits, or every attempt lost its race.
    """
    owner = str(uuid.uuid4())
    tried: set[str] = set()
    for _ in range(attempts):
        choice = choose(wanted, frozenset(tried))
        try:
            return store.claim(
                choice.host, owner, list(wanted.requests), numa_cells=choice.numa_cells
            )
        except StaleGeneration:
            log.info("claim on %s lost a race; trying the next candidate", choice.host)
            tried.add(choice.host)
    raise NoValidHost(f"every candidate host changed under the claim ({attempts} tried)")


def scheduler_chooser(store: Store) -> Chooser:
    """The scheduler's choice over the store's pools as they are now."""

    def choose(wanted: Wanted, exclude: frozenset[str]) -> Choice:
        raise NoValidHost("host selection is not available yet")

    return choose
