"""Where a migrating instance goes: the requests it makes of a host, and the target's claim.

The target is asked for what the instance holds now: a device per SR-IOV port (same
vnic type, physical network, trust) and its flavor's alias devices, plus a bridge per
physical network of its normal ports. The claim is made before anything moves, under
an owner of its own, so a failure later releases exactly what the migration took.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from vfnet.api import booting
from vfnet.api.placing import Chooser, Wanted
from vfnet.errors import InsufficientDevices, NoValidHost, StaleGeneration
from vfnet.pci.alias import Alias
from vfnet.store import Store
from vfnet.store.instances import InstanceRecord
from vfnet.store.records import ClaimRecord

log = logging.getLogger(__name__)


def wanted_of(store: Store, instance: InstanceRecord, aliases: Mapping[str, Alias]) -> Wanted:
    """What the instance asks of a host (its ports' and its flavor's requests)."""
    ports = [store.get_port(port_id) for port_id in instance.port_ids]
    networks = {nid: store.get_network(nid) for nid in sorted({p.network_id for p in ports})}
    alias_requests, default = booting.flavor_requests(store, instance.flavor, aliases, None)
    needs = booting.port_needs(store, ports, networks)
    requests, normal = booting.port_requests(ports, networks, {}, default, needs)
    return Wanted(tuple(alias_requests + requests), None, "pack", normal)


def claim_target(
    store: Store,
    chooser: Chooser,
    wanted: Wanted,
    *,
    source: str,
    target: str | None,
    owner: str,
    attempts: int,
) -> ClaimRecord:
    """Claim the instance's devices on ``target``, or on the best host that is not
    ``source``, for ``owner``.

    Raises:
        NotFound: ``target`` is not a registered host.
        NoValidHost: the target (or every host but the source) cannot take the
            instance; the reason says why.
    """
    if target is not None:
        return _claim_on(store, wanted, target, owner)
    try:
        found = chooser.candidates(wanted)
    except NoValidHost as refused:
        raise NoValidHost(f"no host can take the instance: {refused}") from None
    candidates = [candidate for candidate in found if candidate.host != source][:attempts]
    if not candidates:
        raise NoValidHost(f"no host other than its own ({source}) can take the instance")
    for candidate in candidates:
        try:
            claim = store.claim(candidate.host, owner, wanted.requests)
        except (StaleGeneration, InsufficientDevices):
            log.info("migration claim on %s lost a race; trying the next", candidate.host)
            continue
        chooser.claimed(candidate, claim.generation)
        return claim
    tried = ", ".join(candidate.host for candidate in candidates)
    raise NoValidHost(f"every candidate host changed under the claim ({tried})")


def _claim_on(store: Store, wanted: Wanted, target: str, owner: str) -> ClaimRecord:
    bridges = store.get_host(target).bridges
    missing = sorted(wanted.normal_physnets - set(bridges))
    if missing:
        raise NoValidHost(
            f"host {target} has no bridge for physical network {missing[0]}, "
            "which a normal port of the instance needs"
        )
    try:
        return store.claim_with_retry(target, owner, wanted.requests)
    except InsufficientDevices as refused:
        raise NoValidHost(f"host {target} cannot take the instance: {refused}") from None
