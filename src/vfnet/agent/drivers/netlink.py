"""The netlink VF driver: a host's real PFs, through rtnetlink (pyroute2).

read: one RTM_GETLINK with RTEXT_FILTER_VF per PF -> ``IFLA_VFINFO_LIST`` -> VfSettings.
apply: one RTM_SETLINK per attribute, in the kernel's order; a refusal is the kernel's
errno, kept as a :class:`Refusal`, and the attributes set before it stay set.

The driver keeps one netlink socket and a private event loop (pyroute2 0.9's synchronous
``nlm_request`` is broken; its asynchronous one is not). It must therefore not be called
from a thread that is running an event loop already.
"""

from __future__ import annotations

import asyncio
import errno
import os
from collections.abc import Mapping
from types import MappingProxyType, TracebackType
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_GETLINK, RTM_SETLINK

from vfnet.agent.drivers.base import APPLY_ORDER, Refusal, VfAttr, VfSettings
from vfnet.agent.drivers.netlink_messages import getlink_request, setlink_request, vf_table
from vfnet.errors import DriverError

# Python names errno 95 ENOTSUP; iproute2, the kernel and operators call it EOPNOTSUPP.
_ERRNO_NAMES = {errno.EOPNOTSUPP: "EOPNOTSUPP"}


def errno_reason(code: int) -> str:
    """``"EOPNOTSUPP: Operation not supported"``: the errno's name and the C library's text."""
    name = _ERRNO_NAMES.get(code) or errno.errorcode.get(code, f"errno {code}")
    return f"{name}: {os.strerror(code)}"


class NetlinkDriver:
    """VF tables of the PFs in one network namespace (the agent's own by default)."""

    name = "netlink"

    def __init__(self, netns: str | None = None) -> None:
        self.netns = netns
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ipr: Any = None
        self._refused: dict[str, dict[VfAttr, str]] = {}

    def read(self, pf: str) -> Mapping[int, VfSettings]:
        try:
            answers = self._request(getlink_request(pf), RTM_GETLINK, NLM_F_REQUEST)
        except NetlinkError as error:
            raise _pf_error(pf, "cannot read its VF table", error) from error
        if not answers:
            raise DriverError(f"PF {pf}: the kernel sent no link for its VF table")
        return vf_table(answers[0])

    def apply(
        self, pf: str, vf: int, wanted: VfSettings, attrs: tuple[VfAttr, ...]
    ) -> tuple[Refusal, ...]:
        # Every value is put on the wire before any is sent: a bad one sets nothing.
        requests = [(a, setlink_request(pf, vf, wanted, a)) for a in APPLY_ORDER if a in attrs]
        refusals: list[Refusal] = []
        vf_checked = False
        for attr, request in requests:
            try:
                self._request(request, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK)
            except NetlinkError as error:
                if error.code == errno.ENODEV:
                    raise _pf_error(pf, f"cannot set {attr} of VF {vf}", error) from error
                if not vf_checked:
                    # The kernel answers a VF index past numvfs with a plain EINVAL (or
                    # EOPNOTSUPP on a netdev without VFs): only the table tells them apart.
                    self._require_vf(pf, vf, attr, error)
                    vf_checked = True
                refusals.append(Refusal(attr, errno_reason(error.code)))
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
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None
        if self._loop is not None:
            self._loop.close()
            self._loop = None

    def __enter__(self) -> NetlinkDriver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _require_vf(self, pf: str, vf: int, attr: VfAttr, error: NetlinkError) -> None:
        table = self.read(pf)
        if vf not in table:
            count = f"{len(table)} VFs" if table else "no VFs"
            raise DriverError(
                f"PF {pf} has no VF {vf} ({count}); setting {attr}: {errno_reason(error.code)}"
            ) from error

    def _request(self, msg: Any, msg_type: int, flags: int) -> list[Any]:
        loop, ipr = self._socket()

        async def exchange() -> list[Any]:
            return [answer async for answer in await ipr.nlm_request(msg, msg_type, flags)]

        return loop.run_until_complete(exchange())

    def _socket(self) -> tuple[asyncio.AbstractEventLoop, Any]:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        if self._ipr is None:
            # flags=0: join the namespace, never create it.
            ipr = AsyncIPRoute(netns=self.netns, flags=0) if self.netns else AsyncIPRoute()
            try:
                self._loop.run_until_complete(ipr.setup_endpoint())
            except OSError as error:
                where = f"network namespace {self.netns}" if self.netns else "this host"
                raise DriverError(f"cannot open rtnetlink in {where}: {error}") from error
            self._ipr = ipr
        return self._loop, self._ipr


def _pf_error(pf: str, doing: str, error: NetlinkError) -> DriverError:
    if error.code == errno.ENODEV:
        return DriverError(f"PF {pf}: no such network interface ({doing})")
    return DriverError(f"PF {pf}: {doing}: {errno_reason(error.code)}")
