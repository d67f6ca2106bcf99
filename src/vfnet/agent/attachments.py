"""Where each VF netdev belongs, brought about after the settings pass: a container, or home.

Every managed VF has a home: the namespace its netdev lives in when no container holds
it (``home_ns``: None, the init namespace, for a NIC's VFs; ``vfnet-<host>`` for an
emulated host's switch) under the name discovery gave it. Each pass:

- a claimed VF attached to ``netns`` goes into that namespace as ``ifname`` with the
  port's MAC, MTU, addresses and routes (:func:`containers.attach`); vfnet's own
  namespaces (``vfnet-c-<instance>``) are made when missing, any other must exist. While
  its instance is ``suspended`` or ``migrating`` the VF goes home instead;
- every other VF (host or libvirt attach, unclaimed, released) found away from home,
  by its alias in a ``vfnet-c-*`` namespace or under another name where the kernel
  returns it, is brought home (:func:`containers.detach`). A release is verified only
  when the VF's netdev is home under its name: a VF still in a container is not free;
- ``vfnet-c-*`` namespaces of instances no longer on this host are removed, their VFs
  sent home first. Where several emulated hosts share one kernel (``owner_mark``), only
  this host's are: those holding one of its VFs, or marked as its own by the alias of
  their loopback (set while their instance is here, so the mark outlives a crash);
- a VF that died with its namespace (an emulated switch's veth) is reported, and the
  switch asked to make it again (``remake``).

Level-triggered and crash-safe: every step reads the kernel first, and the VF's home is
kept in its link alias, so a fresh agent converges. Cheap when idle: what was verified
is remembered by (address, claim generation, attachment), and an idle pass reads one
link dump per namespace holding attached VFs; anything unexpected turns it into a full
pass that reads every namespace concerned.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from vfnet.agent.attach import containers
from vfnet.agent.attach.containers import Home, Outcome
from vfnet.agent.attach.netns import Link, NamespaceOps, Route
from vfnet.agent.attach.own import CONTAINER_PREFIX, create_container, delete_container
from vfnet.agent.desired import AttachKind, ClaimedVf, DesiredState, InstanceState
from vfnet.agent.plan import VfLocation
from vfnet.errors import NotFound, VfnetError
from vfnet.pci.address import PciAddress

if TYPE_CHECKING:
    from vfnet.agent.loop import Discovery

log = logging.getLogger("vfnet.agent")

__all__ = [
    "AttachResult",
    "Attachments",
    "InstancePlugger",
    "NetdevNames",
    "Want",
    "discovered_names",
    "locate",
    "wanted",
]

# The VF netdev names of the managed VFs, by address, as they are at home.
NetdevNames = Callable[["Discovery", Mapping[PciAddress, VfLocation]], Mapping[PciAddress, str]]
DeleteContainer = Callable[[NamespaceOps, str], Mapping[str, Outcome]]
# A namespace never made: detach told of it looks only at home and in the init namespace.
_NOWHERE = CONTAINER_PREFIX
MARK_TAG = "vfnet-host "
LOOPBACK = "lo"


@dataclass(frozen=True, slots=True)
class Want:
    """Where one VF's netdev belongs this pass: in container namespace ``ns`` as
    ``ifname`` with what the port gives it, or (``ns`` None) home; ``verify``: a release,
    reported only once the netdev is home under its name."""

    netdev: str | None  # its name at home; None while not known
    ns: str | None = None
    ifname: str | None = None
    mac: str | None = None
    mtu: int | None = None
    addresses: tuple[str, ...] = ()
    routes: tuple[Route, ...] = ()
    claim_generation: int = 0
    verify: bool = False


@dataclass(frozen=True, slots=True)
class Located:
    """Where a VF netdev is: its namespace (None: the init one) and link; ``home`` when at
    home under its own name with no alias of ours left on it."""

    ns: str | None
    link: Link
    home: bool = False


def wanted(
    desired: DesiredState, devices: Mapping[PciAddress, VfLocation], names: Mapping[PciAddress, str]
) -> dict[PciAddress, Want]:
    """Where each managed VF belongs (pure): a claimed VF attached to a namespace goes
    there while its instance runs; everything else goes home."""
    found = {}
    for address in devices:
        claim = desired.claimed.get(address)
        name = names.get(address)
        if claim is not None and _inside(claim, desired):
            a = claim.attach
            found[address] = Want(
                name, a.name, a.ifname, claim.settings.mac.lower(), claim.mtu, a.addresses,
                a.routes, claim.claim_generation,
            )  # fmt: skip
        else:
            found[address] = Want(name, verify=address in desired.released)
    return found


def _inside(claim: ClaimedVf, desired: DesiredState) -> bool:
    if claim.attach.kind is not AttachKind.NETNS:
        return False
    instance = desired.instances.get(claim.attach.instance or "")
    return instance is None or instance.state is InstanceState.RUNNING


def locate(ops: NamespaceOps, home_ns: str | None, spaces: Sequence[str]) -> dict[str, Located]:
    """Each VF netdev of ``home_ns`` by its home name: at home (every link there, by name),
    or away, found by the alias that names its home (in ``spaces``, and in the init
    namespace, where the kernel returns a NIC's VF whose namespace went). One link dump
    per namespace."""
    found: dict[str, Located] = {}
    for link in ops.links(home_ns):
        home = Home.of(link.alias)
        if home is not None and home.ns == home_ns:
            found[home.name] = Located(home_ns, link)
        else:
            found.setdefault(link.name, Located(home_ns, link, home=True))
    elsewhere: list[str | None] = [ns for ns in spaces if ns != home_ns and ops.exists(ns)]
    if home_ns is not None:
        elsewhere.append(None)
    for ns in elsewhere:
        for link in ops.links(ns):
            home = Home.of(link.alias)
            if home is not None and home.ns == home_ns:
                found[home.name] = Located(ns, link)
    return found


class InstancePlugger(Protocol):
    """Builds what the host's instances need besides their VFs' netdevs (VMs in libvirt,
    normal ports on bridges); one ``sync`` a turn, after the VF pass."""

    def sync(self, desired: DesiredState, discovery: Discovery) -> Mapping[str, str]:
        """Brings ``desired.instances`` (and claimed VFs with libvirt attach) into being;
        returns port id -> reason for every port it could not plug. Never raises for one
        port."""
        ...


def discovered_names(
    discovery: Discovery, devices: Mapping[PciAddress, VfLocation]
) -> dict[PciAddress, str]:
    """The VF netdev names discovery read from sysfs (a NIC's VFs in the init namespace)."""
    found = {}
    for address in devices:
        device = discovery.host.get(address)
        if device is not None and device.netdevs:
            found[address] = device.netdevs[0].name
    return found


@dataclass(frozen=True, slots=True)
class AttachResult:
    """What a pass found: claimed VFs whose attachment does not hold and released VFs not
    home (why, by address); ``hurry`` when the next pass should not wait."""

    failed: Mapping[PciAddress, str] = field(default_factory=dict)
    away: Mapping[PciAddress, str] = field(default_factory=dict)
    hurry: bool = False


class Attachments:
    """The VFs of one host brought where the desired state says; one :meth:`sync` a turn."""

    def __init__(
        self,
        ops: NamespaceOps,
        *,
        home_ns: str | None,
        names: NetdevNames,
        namespaces: Callable[[], Iterable[str]],
        delete: DeleteContainer = delete_container,
        remake: Callable[[], None] | None = None,
        owner_mark: str | None = None,
    ) -> None:
        self.ops, self.home_ns = ops, home_ns
        self._netdev_names, self._namespaces = names, namespaces
        self.delete, self._remake = delete, remake
        # The loopback alias that marks this host's containers on a shared kernel.
        self.mark = None if owner_mark is None else f"{MARK_TAG}{owner_mark}"
        self.marked: set[str] = set()  # namespaces known to carry the mark
        self._names: dict[PciAddress, str] = {}  # learnt from discovery, kept while away
        self._seen = -1  # the discovery number the names were learnt from
        self.placed: dict[PciAddress, Want] = {}  # attached and verified as this
        self.ours: set[str] = set()  # instance ids whose namespace this agent may remove
        self._last: tuple[int, frozenset[str]] | None = None  # generation, namespaces
        self._clean = False  # the last pass found nothing wrong

    def sync(
        self,
        desired: DesiredState,
        devices: Mapping[PciAddress, VfLocation],
        discovery: Discovery,
    ) -> AttachResult:
        """One pass (see the module's docstring); never raises for one VF."""
        if discovery.number != self._seen:
            self._names.update(self._netdev_names(discovery, devices))
            self._seen, self._clean = discovery.number, False
        present = self._containers()
        wants = wanted(desired, devices, self._names)
        self.ours.update(_containers(desired, wants))
        if self._clean and self._last == (desired.generation, present) and self._idle(wants):
            return AttachResult()
        self.ops.release()  # a namespace that went must not be kept alive by a handle of ours
        try:
            turn = _Turn(self, wants, present)
            turn.run(desired)
        finally:
            self.ops.release()
        self._last = (desired.generation, self._containers())  # as this pass left them
        self._clean = not (turn.failed or turn.away or turn.hurry or turn.unsettled)
        return AttachResult(turn.failed, turn.away, turn.hurry)

    def _containers(self) -> frozenset[str]:
        return frozenset(ns for ns in self._namespaces() if ns.startswith(CONTAINER_PREFIX))

    def _idle(self, wants: Mapping[PciAddress, Want]) -> bool:
        """Whether every VF attached last pass is still as verified: one link dump per
        namespace holding one, nothing else read. The handles stay open for the next
        idle pass when every such namespace is vfnet's own: one that goes changes the
        namespaces listed, and the full pass that follows lets go of them first."""
        inside = [(a, w) for a, w in wants.items() if w.ns is not None]
        if any(self.placed.get(a) != w for a, w in inside):
            return False
        try:
            return self._verified(inside)
        finally:
            if not all(w.ns and w.ns.startswith(CONTAINER_PREFIX) for _, w in inside):
                self.ops.release()  # a runtime's namespace: never kept alive by us

    def _verified(self, inside: Sequence[tuple[PciAddress, Want]]) -> bool:
        dumps: dict[str, dict[str, Link]] = {}
        for address, want in inside:
            assert want.ns is not None
            if want.ns not in dumps:
                try:
                    dumps[want.ns] = {link.name: link for link in self.ops.links(want.ns)}
                except VfnetError:  # the namespace went: a full pass says what to do
                    return False
            if not _holds(dumps[want.ns].get(want.ifname or want.netdev or ""), self.home_ns, want):
                log.info("%s: %s is not as attached in %s; looking again", address,
                         want.netdev, want.ns)  # fmt: skip
                return False
        return True

    def learn(self, address: PciAddress, netdev: str) -> None:
        self._names[address] = netdev

    def gone(self, address: PciAddress, netdev: str) -> None:
        log.warning("%s: VF netdev %s is gone (it died with a namespace)", address, netdev)
        if self._remake is not None:
            self._remake()


class _Turn:
    """One full pass: every namespace concerned read once, each VF put where it belongs."""

    def __init__(
        self, owner: Attachments, wants: Mapping[PciAddress, Want], present: frozenset[str]
    ) -> None:
        self.owner, self.ops, self.home_ns = owner, owner.ops, owner.home_ns
        self.wants, self.present = wants, present
        self.failed: dict[PciAddress, str] = {}
        self.away: dict[PciAddress, str] = {}
        self.hurry = False
        self.unsettled = False  # something failed that no port or release reports
        self._where: dict[str, Located] | None = None

    def located(self) -> dict[str, Located]:
        """Every VF netdev of ours where it is now, by home name: the namespaces read once a
        pass, and again after a move."""
        if self._where is None:
            spaces = sorted(self.present | {w.ns for w in self.wants.values() if w.ns})
            self._where = locate(self.ops, self.home_ns, spaces)
        return self._where

    def where(self, netdev: str) -> Located | None:
        return self.located().get(netdev)

    def run(self, desired: DesiredState) -> None:
        kept = set(desired.instances) | _containers(desired, self.wants)
        if self.owner.mark is not None:  # before attaching: a namespace another host's
            # agent finds marked is not removed under this one (a migration's target)
            self._mark(sorted(ns for ns in self.present if _instance(ns) in kept))
        for address, want in sorted(self.wants.items()):
            try:
                if want.ns is not None:
                    self._attach(address, self._named(address, want))
                else:
                    self._home(address, want)
            except VfnetError as error:
                self._failed(address, want, str(error))
        if self.owner.mark is not None:
            self._mark(sorted(ns for ns in self.present if _instance(ns) in kept))
        self._remove_deleted(kept)

    def _mark(self, spaces: Iterable[str]) -> None:
        """This host's mark on its containers' loopback, where it is not yet known to be."""
        mark = self.owner.mark
        for ns in spaces:
            if ns in self.owner.marked:
                continue
            try:
                loopback = next((x for x in self.ops.links(ns) if x.name == LOOPBACK), None)
                if loopback is not None and loopback.alias != mark:
                    self.ops.set_link(ns, LOOPBACK, alias=mark)
            except VfnetError as error:
                log.warning("namespace %s: cannot mark it as this host's: %s", ns, error)
                continue
            self.owner.marked.add(ns)

    def _named(self, address: PciAddress, want: Want) -> Want:
        """``want`` with the VF's home name, learnt from the container when discovery has
        not seen it at home (an agent started while the VF was attached)."""
        if want.netdev is not None or want.ns is None or not self.ops.exists(want.ns):
            return want
        for link in self.ops.links(want.ns):
            home = Home.of(link.alias)
            if link.name == want.ifname and home is not None and home.ns == self.home_ns:
                self.owner.learn(address, home.name)
                return dataclasses.replace(want, netdev=home.name)
        raise _NotFound(f"{address}: its netdev's name is not known (not seen at home)")

    def _attach(self, address: PciAddress, want: Want) -> None:
        assert want.ns is not None and want.netdev is not None
        found = self.where(want.netdev)
        holds = found is not None and found.ns == want.ns and _holds(found.link, self.home_ns, want)
        if holds and self.owner.placed.get(address) == want:
            return
        self._ensure_namespace(want.ns)
        if found is None or found.ns not in (want.ns, self.home_ns):
            self._detach(address, want.netdev, found)  # elsewhere, or gone: home first
            if self.where(want.netdev) is None:
                raise _NotFound(f"VF netdev {want.netdev} is gone; its switch makes it again")
        try:
            self._plug(want)
        except NotFound as error:
            if error.kind != "network namespace" or not want.ns.startswith(CONTAINER_PREFIX):
                raise
            # Removed under us: on a shared kernel, by the host this instance just left.
            log.info("namespace %s went while attaching %s: made again", want.ns, want.netdev)
            self._ensure_namespace(want.ns)
            self._plug(want)
        self.owner.placed[address] = want
        self._where = None

    def _ensure_namespace(self, ns: str) -> None:
        """The container's namespace, made when it is vfnet's own, and marked this host's
        on a shared kernel before anything goes in."""
        if not self.ops.exists(ns):
            if not ns.startswith(CONTAINER_PREFIX):
                raise _NotFound(f"namespace {ns} not found")
            create_container(self.ops, ns.removeprefix(CONTAINER_PREFIX))
        if self.owner.mark is not None:
            self.owner.marked.discard(ns)  # read again: another host may have marked it since
            self._mark([ns])

    def _plug(self, want: Want) -> None:
        assert want.ns is not None and want.netdev is not None
        containers.attach(
            self.ops, want.netdev, self.home_ns, want.ns, ifname=want.ifname or want.netdev,
            mac=want.mac, mtu=want.mtu, addresses=want.addresses, routes=want.routes,
        )  # fmt: skip

    def _home(self, address: PciAddress, want: Want) -> None:
        self.owner.placed.pop(address, None)
        if want.netdev is None:
            if want.verify:
                self.away[address] = f"{address}: its netdev's name is not known (not seen at home)"
            return
        found = self.where(want.netdev)
        if found is not None and not found.home:
            self._detach(address, want.netdev, found)
            found = self.where(want.netdev)
        elif found is None and want.verify:  # a released VF that died with its namespace
            self.owner.gone(address, want.netdev)
            self.hurry = True
        if want.verify and (found is None or not found.home):
            where = "gone" if found is None else f"in {found.ns or 'the host namespace'}"
            home = self.home_ns or "the host namespace"
            self.away[address] = (
                f"{address}: its netdev {want.netdev} is not back in {home} ({where})"
            )

    def _detach(self, address: PciAddress, netdev: str, found: Located | None) -> None:
        from_ns = _NOWHERE if found is None or found.ns in (None, self.home_ns) else found.ns
        outcome = containers.detach(self.ops, netdev, self.home_ns, from_ns)
        self._where = None
        if outcome is Outcome.GONE:
            self.owner.gone(address, netdev)
            self.hurry = True
        elif outcome is Outcome.RECOVERED:
            log.info("%s: %s came back from a vanished namespace: home again", address, netdev)
            self.hurry = True
        elif outcome is Outcome.RETURNED:
            log.info("%s: %s brought home from %s", address, netdev, from_ns)

    def _failed(self, address: PciAddress, want: Want, reason: str) -> None:
        self.owner.placed.pop(address, None)
        log.warning("%s: attach: %s", address, reason)
        if want.ns is not None:
            self.failed[address] = f"attach: {reason}"
        elif want.verify:
            self.away[address] = f"{address}: {reason}"
        else:
            self.unsettled = True

    def _remove_deleted(self, kept: set[str]) -> None:
        """The namespaces of this host's instances that are gone from it, VFs sent home
        first (see :meth:`_ours`)."""
        for ns in sorted(self.present):
            instance = _instance(ns)
            if instance in kept:
                continue
            try:
                if not self._ours(ns):
                    self.owner.ours.discard(instance)
                    self.owner.marked.discard(ns)
                    continue
                outcomes = self.owner.delete(self.ops, instance)
            except VfnetError as error:
                log.warning("namespace %s of a deleted instance: %s", ns, error)
                self.unsettled = True
                continue
            self.owner.ours.discard(instance)
            self.owner.marked.discard(ns)
            self._where = None
            home = ", ".join(f"{name} {o.value}" for name, o in sorted(outcomes.items()))
            log.info("namespace %s of instance %s removed; VFs: %s", ns, instance, home or "none")

    def _ours(self, ns: str) -> bool:
        """Every container namespace is this host's on a kernel of its own; on a shared one,
        those holding one of its VFs, marked by it, or holding an instance of it, unless
        another host has marked it since (its instance migrated there: its VFs here were
        sent home as releases before this)."""
        if self.owner.mark is None:
            return True
        alias = next((x.alias for x in self.ops.links(ns) if x.name == LOOPBACK), None)
        if alias is not None and alias.startswith(MARK_TAG) and alias != self.owner.mark:
            return False
        if _instance(ns) in self.owner.ours:
            return True
        if any(found.ns == ns for found in self.located().values()):
            return True
        return alias == self.owner.mark


def _instance(ns: str) -> str:
    return ns.removeprefix(CONTAINER_PREFIX)


class _NotFound(VfnetError):
    """A VF's namespace or netdev that is not there."""


def _holds(link: Link | None, home_ns: str | None, want: Want) -> bool:
    """Whether ``link`` is the VF netdev as ``want`` puts it in a container (the parts a
    link dump shows: name, home in its alias, up, MAC, MTU)."""
    if link is None or link.name != (want.ifname or want.netdev) or not link.up:
        return False
    home = Home.of(link.alias)
    if home is None or (home.ns, home.name) != (home_ns, want.netdev):
        return False
    mac_ok = want.mac is None or link.mac == want.mac.lower()
    return mac_ok and (want.mtu is None or link.mtu == want.mtu)


def _containers(desired: DesiredState, wants: Mapping[PciAddress, Want]) -> set[str]:
    ids = {i for i, spec in desired.instances.items() if spec.kind == "container"}
    return ids | {
        w.ns.removeprefix(CONTAINER_PREFIX)
        for w in wants.values()
        if w.ns and w.ns.startswith(CONTAINER_PREFIX)
    }
