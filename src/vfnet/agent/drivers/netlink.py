"""The netlink VF driver: a host's real PFs, through rtnetlink.

read: one RTM_GETLINK with RTEXT_FILTER_VF per PF -> ``IFLA_VFINFO_LIST`` -> VfSettings.
apply: one RTM_SETLINK per attribute, in the kernel's order, all of a VF's in one send;
a refusal is the kernel's errno, kept as a :class:`Refusal`, and the attributes set
before it stay set (the kernel handles the requests of a batch one by one).
A failing socket (an OSError on send or receive) is a DriverError naming the PF, the
VF and the errno, as is every other error the driver raises.
"""

from __future__ import annotations

import contextlib
import errno
import os
from collections.abc import Iterator, Mapping
from types import MappingProxyType, TracebackType

from vfnet.agent.drivers.base import APPLY_ORDER, Refusal, VfAttr, VfSettings
from vfnet.agent.drivers.netlink_messages import (
    RTM_GETLINK,
    RTM_NEWLINK,
    RTM_SETLINK,
    getlink_request,
    setlink_request,
    vf_table,
)
from vfnet.agent.drivers.netlink_socket import RtnlSocket
from vfnet.errors import DriverError

# Python names errno 95 ENOTSUP; iproute2, the kernel and operators call it EOPNOTSUPP.
_ERRNO_NAMES = {errno.EOPNOTSUPP: "EOPNOTSUPP"}


def errno_reason(code: int) -> str:
    """``"EOPNOTSUPP: Operation not supported"``: the errno's name and the C library's text."""
    name = _ERRNO_NAMES.get(code) or errno.errorcode.get(code, f"errno {code}")
    return f"{name}: {os.strerror(code)}"


def os_reason(error: OSError) -> str:
    """An OSError as :func:`errno_reason` words it, with the file it was about, if any."""
    if not error.errno:
        return str(error)
    where = f" ({error.filename})" if error.filename else ""
    return f"{errno_reason(error.errno)}{where}"


@contextlib.contextmanager
def kernel_errors(what: str) -> Iterator[None]:
    """An OSError inside (our own netlink socket's send or receive failed) as a
    DriverError naming ``what`` (the PF, the VF) and the errno: none leaves a driver."""
    try:
        yield
    except OSError as error:
        raise DriverError(f"{what}: {os_reason(error)}") from error


class NetlinkDriver:
    """VF tables of the PFs in one network namespace (the agent's own by default)."""

    name = "netlink"

    def __init__(self, netns: str | None = None, *, rtnl: RtnlSocket | None = None) -> None:
        """``rtnl``: the socket to use, already open (else one is opened in ``netns``)."""
        self.netns = netns
        self._socket: RtnlSocket | None = rtnl
        self._refused: dict[str, dict[VfAttr, str]] = {}

    def read(self, pf: str) -> Mapping[int, VfSettings]:
        with kernel_errors(f"PF {pf}: reading its VF table"):
            (answer,) = self._rtnl().exchange([(RTM_GETLINK, getlink_request(pf))])
        if answer.errno:
            raise _pf_error(pf, "cannot read its VF table", answer.errno)
        links = [payload for kind, payload in answer.messages if kind == RTM_NEWLINK]
        if not links:
            raise DriverError(f"PF {pf}: the kernel sent no link for its VF table")
        return vf_table(links[0])

    def apply(
        self, pf: str, vf: int, wanted: VfSettings, attrs: tuple[VfAttr, ...]
    ) -> tuple[Refusal, ...]:
        # Every value is put on the wire before any is sent: a bad one sets nothing.
        order = [a for a in APPLY_ORDER if a in attrs]
        requests = [(RTM_SETLINK, setlink_request(pf, vf, wanted, a)) for a in order]
        with kernel_errors(f"PF {pf} VF {vf}: setting {', '.join(map(str, order))}"):
            answers = self._rtnl().exchange(requests) if requests else []
        refusals: list[Refusal] = []
        for attr, answer in zip(order, answers, strict=True):
            if answer.errno == errno.ENODEV:
                raise _pf_error(pf, f"cannot set {attr} of VF {vf}", answer.errno)
            if answer.errno and not refusals:
                # The kernel answers a VF index past numvfs with a plain EINVAL (or
                # EOPNOTSUPP on a netdev without VFs): only the table tells them apart.
                self._require_vf(pf, vf, attr, answer.errno)
            if answer.errno:
                refusals.append(Refusal(attr, errno_reason(answer.errno)))
            else:
                self._refused.get(pf, {}).pop(attr, None)
        for refusal in refusals:
            self._refused.setdefault(pf, {})[refusal.attr] = refusal.reason
        return tuple(refusals)

    def refused(self, pf: str) -> Mapping[VfAttr, str]:
        """The attributes ``pf`` refused and its last reason for each, for the agent's
        report; an attribute leaves this view once the PF accepts it again."""
        return MappingProxyType(dict(self._refused.get(pf, {})))

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> NetlinkDriver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _require_vf(self, pf: str, vf: int, attr: VfAttr, code: int) -> None:
        table = self.read(pf)
        if vf not in table:
            count = f"{len(table)} VFs" if table else "no VFs"
            raise DriverError(
                f"PF {pf} has no VF {vf} ({count}); setting {attr}: {errno_reason(code)}"
            )

    def _rtnl(self) -> RtnlSocket:
        if self._socket is None:
            try:
                self._socket = RtnlSocket(self.netns)
            except OSError as error:
                where = f"network namespace {self.netns}" if self.netns else "this host"
                raise DriverError(f"cannot open rtnetlink in {where}: {error}") from error
        return self._socket


def _pf_error(pf: str, doing: str, code: int) -> DriverError:
    if code == errno.ENODEV:
        return DriverError(f"PF {pf}: no such network interface ({doing})")
    return DriverError(f"PF {pf}: {doing}: {errno_reason(code)}")
