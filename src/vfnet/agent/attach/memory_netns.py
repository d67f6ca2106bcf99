"""A NamespaceOps kept in memory that answers as the kernel does: for tests and hosts without root.

What it copies from the kernel, because attachment depends on it: a link keeps its
index, MAC, MTU and alias across a move, but goes down and loses its addresses and
routes; a rename of a link that is up is EBUSY, a name taken is EEXIST; deleting a
namespace destroys its virtual links and sends a NIC's netdevs (``kind`` None) back
to the host namespace, under their name there or ``devN`` when it is taken. A veth is
born with its peer and dies with it; only a bridge takes ports.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import itertools

from vfnet.agent.attach.netns import Link, Route
from vfnet.errors import DriverError, NotFound

__all__ = ["MemoryNamespaces"]


@dataclasses.dataclass
class _State:
    link: Link
    addresses: list[str] = dataclasses.field(default_factory=list)
    routes: list[Route] = dataclasses.field(default_factory=list)


class MemoryNamespaces:
    """Namespaces (``None``: the host's) holding links; ``moves`` counts namespace moves."""

    def __init__(self) -> None:
        self.spaces: dict[str | None, dict[str, _State]] = {None: {}}
        self._indexes = itertools.count(2)
        self.moves = 0
        self._peers: dict[int, int] = {}  # a veth's index -> its peer's, both ways
        self._masters: dict[int, int] = {}  # a bridge port's index -> its bridge's

    def add_link(self, ns: str | None, name: str, mac: str, *, kind: str | None = None) -> Link:
        """A link born in ``ns`` (a VF's netdev appearing on the host), down, MTU 1500."""
        link = Link(name, next(self._indexes), mac, 1500, False, None, kind)
        self._space(ns)[name] = _State(link)
        return link

    def _space(self, ns: str | None) -> dict[str, _State]:
        if ns not in self.spaces:
            raise NotFound("network namespace", str(ns))
        return self.spaces[ns]

    def _state(self, ns: str | None, name: str) -> _State:
        state = self._space(ns).get(name)
        if state is None:
            raise NotFound("link", f"{name} in {ns or 'the host namespace'}")
        return state

    def exists(self, ns: str) -> bool:
        return ns in self.spaces

    def release(self) -> None:
        pass  # holds no handles

    def create(self, ns: str) -> None:
        self.spaces.setdefault(ns, {})

    def delete(self, ns: str) -> None:
        gone = self.spaces.pop(ns, {})
        host = self.spaces[None]
        for state in gone.values():
            if state.link.kind is not None:
                continue  # virtual: destroyed with its namespace
            name = state.link.name
            if name in host:
                name = next(f"dev{n}" for n in itertools.count() if f"dev{n}" not in host)
            host[name] = _State(dataclasses.replace(state.link, name=name, up=False))

    def links(self, ns: str | None) -> list[Link]:
        return [state.link for state in self._space(ns).values()]

    def move(self, ns: str | None, name: str, to_ns: str | None, new_name: str) -> None:
        state = self._state(ns, name)
        target = self._space(to_ns)
        if new_name in target:
            raise DriverError(f"move {name} as {new_name}: EEXIST: File exists")
        del self._space(ns)[name]
        target[new_name] = _State(dataclasses.replace(state.link, name=new_name, up=False))
        self.moves += 1

    def set_link(
        self,
        ns: str | None,
        name: str,
        *,
        new_name: str | None = None,
        mac: str | None = None,
        mtu: int | None = None,
        up: bool | None = None,
        alias: str | None = None,
    ) -> None:
        state = self._state(ns, name)
        space = self._space(ns)
        link = state.link
        if new_name is not None and new_name != name:
            if link.up:
                raise DriverError(f"rename {name}: EBUSY: Device or resource busy")
            if new_name in space:
                raise DriverError(f"rename {name} to {new_name}: EEXIST: File exists")
            del space[name]
            space[new_name] = state
            link = dataclasses.replace(link, name=new_name)
        if mac is not None:
            link = dataclasses.replace(link, mac=mac)
        if mtu is not None:
            link = dataclasses.replace(link, mtu=mtu)
        if up is not None:
            link = dataclasses.replace(link, up=up)
        if alias is not None:
            link = dataclasses.replace(link, alias=alias or None)
        if up is False:
            state.routes.clear()  # the kernel flushes routes through a link that goes down
        state.link = link

    def addresses(self, ns: str | None, name: str) -> list[str]:
        return list(self._state(ns, name).addresses)

    def add_address(self, ns: str | None, name: str, cidr: str) -> None:
        state = self._state(ns, name)
        if cidr in state.addresses:
            raise DriverError(f"add address {cidr} on {name}: EEXIST: File exists")
        state.addresses.append(cidr)

    def delete_address(self, ns: str | None, name: str, cidr: str) -> None:
        state = self._state(ns, name)
        if cidr not in state.addresses:
            raise DriverError(f"del address {cidr} on {name}: EADDRNOTAVAIL")
        state.addresses.remove(cidr)

    def routes(self, ns: str | None, name: str) -> list[Route]:
        state = self._state(ns, name)
        connected = [Route(str(ipaddress.ip_interface(cidr).network)) for cidr in state.addresses]
        return [*state.routes, *connected] if state.link.up else []

    def add_route(self, ns: str | None, name: str, route: Route) -> None:
        state = self._state(ns, name)
        if not state.link.up:
            raise DriverError(f"add route {route.dst} on {name}: ENETDOWN: Network is down")
        if route in self.routes(ns, name):
            raise DriverError(f"add route {route.dst} on {name}: EEXIST: File exists")
        state.routes.append(route)

    def add_veth(self, ns: str | None, name: str, peer_ns: str | None, peer: str) -> None:
        space, peer_space = self._space(ns), self._space(peer_ns)
        if name in space or peer in peer_space or (ns == peer_ns and name == peer):
            raise DriverError(f"add veth {name} with peer {peer}: EEXIST: File exists")
        ends = []
        for where, end in ((space, name), (peer_space, peer)):
            index = next(self._indexes)
            mac = f"02:00:00:00:{index >> 8 & 0xFF:02x}:{index & 0xFF:02x}"  # local, unicast
            where[end] = _State(Link(end, index, mac, 1500, False, None, "veth"))
            ends.append(index)
        self._peers[ends[0]], self._peers[ends[1]] = ends[1], ends[0]

    def delete_link(self, ns: str | None, name: str) -> None:
        state = self._state(ns, name)
        if state.link.kind is None:
            raise DriverError(f"delete {name}: EOPNOTSUPP: a NIC's netdev cannot be deleted")
        doomed = {state.link.index, self._peers.get(state.link.index, state.link.index)}
        for space in self.spaces.values():
            for other in [n for n, s in space.items() if s.link.index in doomed]:
                del space[other]
        for index in doomed:
            self._peers.pop(index, None)
            self._masters.pop(index, None)
        self._masters = {port: br for port, br in self._masters.items() if br not in doomed}

    def set_master(self, ns: str | None, name: str, master: str | None) -> None:
        state = self._state(ns, name)
        if master is None:
            self._masters.pop(state.link.index, None)
            return
        bridge = self._state(ns, master).link
        if bridge.kind != "bridge":
            raise DriverError(f"set {name} master {master}: EOPNOTSUPP: not a bridge")
        self._masters[state.link.index] = bridge.index

    def bridge_ports(self, ns: str | None, bridge: str) -> list[str]:
        index = self._state(ns, bridge).link.index
        return [
            state.link.name
            for state in self._space(ns).values()
            if self._masters.get(state.link.index) == index
        ]
