"""NamespaceOps over rtnetlink (pyroute2): links, addresses and routes in named namespaces.

One rtnetlink socket per namespace, opened with this thread switched into it (pyroute2's
own ``netns=`` forks a helper per socket and creates missing namespaces, which would
bring a vanished container back), and reopened when the namespace was recreated.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import os
import socket
from collections.abc import Iterator
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from vfnet.agent.attach.netns import Link, Route
from vfnet.agent.drivers.eswitch_kernel import (
    NETNS_RUN_DIR,
    create_netns,
    delete_netns,
    netns_exists,
)
from vfnet.agent.drivers.netlink import errno_reason
from vfnet.agent.drivers.netlink_messages import (
    RTM_GETLINK,
    RTM_NEWLINK,
    link_record,
    links_request,
)
from vfnet.agent.drivers.netlink_socket import RtnlSocket
from vfnet.errors import DriverError, NotFound

CLONE_NEWNET = 0x40000000
IFF_UP = 1
_MAIN_TABLE = 254
_OWN_NETNS = "/proc/thread-self/ns/net"

__all__ = ["PyrouteNamespaces"]


def _ns_path(ns: str | None) -> str:
    return _OWN_NETNS if ns is None else os.path.join(NETNS_RUN_DIR, ns)


def _open_ns(ns: str | None) -> int:
    try:
        return os.open(_ns_path(ns), os.O_RDONLY)
    except FileNotFoundError:
        raise NotFound("network namespace", str(ns)) from None


@contextlib.contextmanager
def _inside(ns: str) -> Iterator[None]:
    """This thread inside namespace ``ns`` for the duration, then back where it was."""
    target = _open_ns(ns)
    own = os.open(_OWN_NETNS, os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise DriverError(f"setns {ns!r}: {os.strerror(ctypes.get_errno())}")
        yield
    finally:
        libc.setns(own, CLONE_NEWNET)
        os.close(own)
        os.close(target)


def _kernel(what: str, error: NetlinkError) -> DriverError:
    return DriverError(f"{what}: {errno_reason(error.code)}")


class PyrouteNamespaces:
    """The real :class:`~vfnet.agent.attach.netns.NamespaceOps`."""

    def __init__(self) -> None:
        self._sockets: dict[str | None, tuple[int, Any]] = {}
        self._dumpers: dict[str | None, tuple[int | None, RtnlSocket]] = {}

    def _rtnl(self, ns: str | None) -> RtnlSocket:
        """A plain rtnetlink socket in ``ns`` for link dumps: parsed by our own decoder,
        a 200-link dump costs a few ms instead of pyroute2's hundred."""
        try:
            inode = os.stat(_ns_path(ns)).st_ino
        except FileNotFoundError:
            raise NotFound("network namespace", str(ns)) from None
        held = self._dumpers.get(ns)
        if held is not None and held[0] == inode:
            return held[1]
        if held is not None:
            held[1].close()
        made = RtnlSocket(ns)
        self._dumpers[ns] = (inode, made)
        return made

    def _ipr(self, ns: str | None) -> Any:
        try:
            inode = os.stat(_ns_path(ns)).st_ino
        except FileNotFoundError:
            inode = None
        held = self._sockets.get(ns)
        if held is not None and held[0] == inode:
            return held[1]
        if held is not None:
            del self._sockets[ns]
            held[1].close()
        if inode is None:
            raise NotFound("network namespace", str(ns))
        context = contextlib.nullcontext() if ns is None else _inside(ns)
        with context:
            ipr = IPRoute()
            ipr.link("get", index=1)  # made lazily: make it now, in here (lo, not a dump)
        self._sockets[ns] = (inode, ipr)
        return ipr

    def release(self) -> None:
        for ns in [ns for ns in self._sockets if ns is not None]:
            self._sockets.pop(ns)[1].close()
        for ns in [ns for ns in self._dumpers if ns is not None]:
            self._dumpers.pop(ns)[1].close()

    def close(self) -> None:
        self.release()
        for _, ipr in self._sockets.values():
            ipr.close()
        self._sockets.clear()

    def exists(self, ns: str) -> bool:
        return netns_exists(ns)

    def create(self, ns: str) -> None:
        if not self.exists(ns):
            create_netns(ns)
        self._ipr(ns).link("set", index=1, state="up")  # lo is always index 1

    def delete(self, ns: str) -> None:
        held = self._sockets.pop(ns, None)
        if held is not None:
            held[1].close()
        dumper = self._dumpers.pop(ns, None)
        if dumper is not None:
            dumper[1].close()
        delete_netns(ns)

    def links(self, ns: str | None) -> list[Link]:
        answer = self._rtnl(ns).dump(RTM_GETLINK, links_request())
        if answer.errno:
            where = ns or "the host namespace"
            raise DriverError(f"links of {where}: {errno_reason(answer.errno)}")
        return [Link(*link_record(p)) for kind, p in answer.messages if kind == RTM_NEWLINK]

    def _index(self, ns: str | None, name: str) -> int:
        found = next((link.index for link in self.links(ns) if link.name == name), None)
        if found is None:
            raise NotFound("link", f"{name} in {ns or 'the host namespace'}")
        return found

    def move(self, ns: str | None, name: str, to_ns: str | None, new_name: str) -> None:
        index = self._index(ns, name)
        target = _open_ns(to_ns)
        try:
            self._ipr(ns).link("set", index=index, net_ns_fd=target, ifname=new_name)
        except NetlinkError as error:
            raise _kernel(f"move {name} to {to_ns or 'the host'} as {new_name}", error) from None
        finally:
            os.close(target)

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
        changes: dict[str, Any] = {}
        if new_name is not None:
            changes["ifname"] = new_name
        if mac is not None:
            changes["address"] = mac
        if mtu is not None:
            changes["mtu"] = mtu
        if alias is not None:
            changes["ifalias"] = alias
        if up is not None:
            changes["state"] = "up" if up else "down"
        if not changes:
            return
        index = self._index(ns, name)
        try:
            self._ipr(ns).link("set", index=index, **changes)
        except NetlinkError as error:
            raise _kernel(f"set {name} {sorted(changes)}", error) from None

    def addresses(self, ns: str | None, name: str) -> list[str]:
        index = self._index(ns, name)
        return [
            f"{message.get_attr('IFA_ADDRESS')}/{message['prefixlen']}"
            for message in self._ipr(ns).get_addr(index=index)
        ]

    def add_address(self, ns: str | None, name: str, cidr: str) -> None:
        self._address("add", ns, name, cidr)

    def delete_address(self, ns: str | None, name: str, cidr: str) -> None:
        self._address("del", ns, name, cidr)

    def _address(self, verb: str, ns: str | None, name: str, cidr: str) -> None:
        interface = ipaddress.ip_interface(cidr)
        index = self._index(ns, name)
        try:
            self._ipr(ns).addr(
                verb,
                index=index,
                address=str(interface.ip),
                prefixlen=interface.network.prefixlen,
            )
        except NetlinkError as error:
            raise _kernel(f"{verb} address {cidr} on {name}", error) from None

    def routes(self, ns: str | None, name: str) -> list[Route]:
        index = self._index(ns, name)
        found = []
        for family in (socket.AF_INET, socket.AF_INET6):
            for message in self._ipr(ns).get_routes(family=family, table=_MAIN_TABLE, oif=index):
                dst = message.get_attr("RTA_DST")
                cidr = "default" if dst is None else f"{dst}/{message['dst_len']}"
                found.append(Route(cidr, message.get_attr("RTA_GATEWAY")))
        return found

    def add_route(self, ns: str | None, name: str, route: Route) -> None:
        index = self._index(ns, name)
        family = _family(route)
        request: dict[str, Any] = {"oif": index, "family": family, "table": _MAIN_TABLE}
        if route.dst != "default":
            request["dst"] = route.dst
        if route.gateway is not None:
            request["gateway"] = route.gateway
        try:
            self._ipr(ns).route("add", **request)
        except NetlinkError as error:
            raise _kernel(f"add route {route.dst} via {route.gateway} on {name}", error) from None

    def add_veth(self, ns: str | None, name: str, peer_ns: str | None, peer: str) -> None:
        target = _open_ns(peer_ns)
        try:
            self._ipr(ns).link(
                "add", ifname=name, kind="veth", peer={"ifname": peer, "net_ns_fd": target}
            )
        except NetlinkError as error:
            where = peer_ns or "the host"
            raise _kernel(f"add veth {name} with peer {peer} in {where}", error) from None
        finally:
            os.close(target)

    def delete_link(self, ns: str | None, name: str) -> None:
        index = self._index(ns, name)
        try:
            self._ipr(ns).link("del", index=index)
        except NetlinkError as error:
            raise _kernel(f"delete {name}", error) from None

    def set_master(self, ns: str | None, name: str, master: str | None) -> None:
        index = self._index(ns, name)
        master_index = 0 if master is None else self._index(ns, master)
        try:
            self._ipr(ns).link("set", index=index, master=master_index)
        except NetlinkError as error:
            raise _kernel(f"set {name} master {master or 'none'}", error) from None

    def bridge_ports(self, ns: str | None, bridge: str) -> list[str]:
        index = self._index(ns, bridge)
        return [
            message.get_attr("IFLA_IFNAME")
            for message in self._ipr(ns).get_links()
            if message.get_attr("IFLA_MASTER") == index
        ]


def _family(route: Route) -> int:
    probe = route.gateway if route.dst == "default" else route.dst.split("/")[0]
    if probe is None:
        raise DriverError("a default route needs a gateway")
    return socket.AF_INET6 if ipaddress.ip_address(probe).version == 6 else socket.AF_INET
