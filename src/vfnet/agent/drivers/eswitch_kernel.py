"""Handles on one network namespace for the software eswitch: rtnetlink, nftables and tc.

Sockets keep the namespace they were born in, so each handle is opened once with this
thread switched into the namespace and used from anywhere afterwards: no process per
command. nftables goes through libnftables (what ``nft`` itself links), in process.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import json
import os
import socket
import struct
import subprocess
from collections.abc import Iterator, Sequence
from typing import Any

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from vfnet.agent.drivers.netlink import errno_reason, os_reason
from vfnet.agent.drivers.netlink_messages import (
    RTM_GETLINK,
    RTM_GETQDISC,
    RTM_NEWLINK,
    RTM_NEWQDISC,
    RTM_SETLINK,
    carrier,
    link_query,
    link_summary,
    links_request,
    qdiscs_request,
    tbf_rate,
)
from vfnet.agent.drivers.netlink_socket import NETNS_RUN_DIR, RtnlSocket, inside
from vfnet.errors import DriverError

SIOCGIFINDEX = 0x8933
_NFT_OUTPUT_JSON = 1 << 4

__all__ = [
    "NETNS_RUN_DIR",
    "NetlinkError",
    "Netns",
    "Nft",
    "create_netns",
    "delete_netns",
    "kernel_errors",
    "netns_exists",
]


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def netns_exists(name: str) -> bool:
    return os.path.exists(os.path.join(NETNS_RUN_DIR, name))


def create_netns(name: str) -> None:
    """A named namespace as ``ip netns add`` makes it (bind mount under /run/netns)."""
    _run(["ip", "netns", "add", name])


def delete_netns(name: str) -> None:
    """Unmounts the namespace; the kernel frees its links asynchronously afterwards."""
    if netns_exists(name):
        _run(["ip", "netns", "delete", name])


def _run(argv: list[str], stdin: str | None = None) -> None:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DriverError(f"{' '.join(argv[:4])}: {done.stderr.strip() or done.returncode}")


class Nft:
    """A libnftables context whose netlink socket lives in one namespace."""

    def __init__(self) -> None:
        path = ctypes.util.find_library("nftables") or "libnftables.so.1"
        lib = ctypes.CDLL(path)
        lib.nft_ctx_new.restype = ctypes.c_void_p
        lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
        lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
        for fn in ("nft_ctx_buffer_output", "nft_ctx_buffer_error"):
            getattr(lib, fn).argtypes = [ctypes.c_void_p]
        for fn in ("nft_ctx_get_output_buffer", "nft_ctx_get_error_buffer"):
            getattr(lib, fn).argtypes = [ctypes.c_void_p]
            getattr(lib, fn).restype = ctypes.c_char_p
        lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
        lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        self._lib = lib
        self._ctx = lib.nft_ctx_new(0)
        lib.nft_ctx_buffer_output(self._ctx)
        lib.nft_ctx_buffer_error(self._ctx)
        self.run("list tables")  # opens the netlink socket here, in this namespace

    def run(self, script: str) -> str:
        """Runs a whole script as one transaction (all or nothing), as ``nft -f -`` does."""
        lib = self._lib
        lib.nft_ctx_output_set_flags(self._ctx, 0)
        if lib.nft_run_cmd_from_buffer(self._ctx, script.encode()) != 0:
            error = (lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode().strip()
            raise DriverError(f"nft: {error}")
        return (lib.nft_ctx_get_output_buffer(self._ctx) or b"").decode()

    def list_json(self, what: str) -> list[dict[str, Any]]:
        """``nft -j list <what>``: the ``nftables`` array of objects."""
        lib = self._lib
        lib.nft_ctx_output_set_flags(self._ctx, _NFT_OUTPUT_JSON)
        try:
            if lib.nft_run_cmd_from_buffer(self._ctx, f"list {what}".encode()) != 0:
                error = (lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode().strip()
                raise DriverError(f"nft list {what}: {error}")
            output = (lib.nft_ctx_get_output_buffer(self._ctx) or b"{}").decode()
        finally:
            lib.nft_ctx_output_set_flags(self._ctx, 0)
        items: list[dict[str, Any]] = json.loads(output).get("nftables", [])
        return items

    def close(self) -> None:
        if self._ctx:
            self._lib.nft_ctx_free(self._ctx)
            self._ctx = None


class Netns:
    """rtnetlink and nftables handles on one named namespace, and tc for what they lack."""

    def __init__(self, name: str) -> None:
        self.name = name
        with inside(name):
            self.ipr = IPRoute()
            self.ipr.get_links(0)  # the socket is made lazily: make it now, in here
            self.nft = Nft()
            # Link settings in batches, encoded by hand: no general encoder in the way.
            self.rtnl = RtnlSocket()
            # Resolves names by ioctl in this namespace: no netlink message to decode.
            self._names = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def set_links(self, requests: Sequence[bytes]) -> None:
        """Sends RTM_SETLINK ``requests`` (from ``link_settings``) in one batch.

        Raises:
            DriverError: the kernel refused one (the others were still applied).
        """
        answers = self.rtnl.exchange([(RTM_SETLINK, request) for request in requests])
        for answer in answers:
            if answer.errno:
                raise DriverError(f"setting a link in {self.name}: {errno_reason(answer.errno)}")

    def links(self) -> list[tuple[int, int, str, int]]:
        """Every link here as (ifindex, flags, name, master ifindex or 0)."""
        answer = self.rtnl.dump(RTM_GETLINK, links_request())
        if answer.errno:
            raise DriverError(f"links of {self.name}: {errno_reason(answer.errno)}")
        return [link_summary(payload) for kind, payload in answer.messages if kind == RTM_NEWLINK]

    def tbf_rates(self) -> dict[int, int]:
        """ifindex -> rate in bytes/s of every tbf here."""
        answer = self.rtnl.dump(RTM_GETQDISC, qdiscs_request())
        if answer.errno:
            raise DriverError(f"qdiscs of {self.name}: {errno_reason(answer.errno)}")
        rates = (tbf_rate(payload) for kind, payload in answer.messages if kind == RTM_NEWQDISC)
        return dict(rate for rate in rates if rate is not None)

    def carrier(self, index: int) -> bool:
        """Whether link ``index`` has carrier."""
        (answer,) = self.rtnl.exchange([(RTM_GETLINK, link_query(index))])
        if answer.errno:
            raise DriverError(f"link {index} in {self.name}: {errno_reason(answer.errno)}")
        return any(carrier(payload) for _, payload in answer.messages)

    def sysctl(self, key: str, value: str) -> None:
        """Writes ``/proc/sys/<key>`` as this namespace sees it (net.* is per namespace)."""
        with inside(self.name), open(f"/proc/sys/{key.replace('.', '/')}", "w") as file:
            file.write(value)

    def index(self, ifname: str) -> int | None:
        """The ifindex of ``ifname`` in this namespace, or None when there is no such link."""
        request = struct.pack("16si", ifname.encode(), 0)
        try:
            reply = fcntl.ioctl(self._names, SIOCGIFINDEX, request)
        except OSError as error:
            if error.errno == errno.ENODEV:
                return None
            raise
        index: int = struct.unpack("16si", reply)[1]
        return index

    def tc_batch(self, commands: list[str]) -> None:
        """Runs ``tc`` commands in one process: for the actions pyroute2 cannot encode."""
        _run(["tc", "-n", self.name, "-force", "-batch", "-"], stdin="\n".join(commands) + "\n")

    def close(self) -> None:
        self.ipr.close()
        self.nft.close()
        self.rtnl.close()
        self._names.close()


@contextlib.contextmanager
def kernel_errors(what: str) -> Iterator[None]:
    """A kernel's refusal inside (pyroute2's NetlinkError, an OSError) as a DriverError
    naming ``what`` (the PF, the VF) and the errno: a driver lets neither out, since the
    agent survives only its own errors."""
    try:
        yield
    except NetlinkError as error:
        raise DriverError(f"{what}: {errno_reason(error.code)}") from error
    except OSError as error:
        raise DriverError(f"{what}: {os_reason(error)}") from error


def ignoring(*codes: int) -> contextlib.AbstractContextManager[None]:
    """Suppresses a netlink error with one of ``codes`` (ENOENT on a delete, EEXIST...)."""
    return _Ignoring(codes)


class _Ignoring(contextlib.AbstractContextManager[None]):
    def __init__(self, codes: tuple[int, ...]) -> None:
        self._codes = codes or (errno.ENOENT, errno.ENODEV)

    def __exit__(self, kind: object, error: BaseException | None, tb: object) -> bool:
        return isinstance(error, NetlinkError) and error.code in self._codes
