"""An rtnetlink socket in one network namespace that sends requests in batches.

Several requests go out in one ``send``; the kernel handles them one after another, in
order, and acknowledges each on its own, so a batch costs one system call and keeps
every request's answer (an errno per request, as if each had been sent alone). Every
request asks for an acknowledgement, so each ends with exactly one NLMSG_ERROR; a dump
ends with NLMSG_DONE instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import socket
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from vfnet.agent.drivers.netlink_messages import (
    NLM_F_ACK,
    NLM_F_DUMP,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    error_code,
    header,
    message,
)
from vfnet.errors import DriverError

CLONE_NEWNET = 0x40000000
NETNS_RUN_DIR = "/run/netns"
_RCVBUF = 1 << 20  # a 256-VF table with its statistics fits many times over

__all__ = ["Answer", "RtnlSocket", "inside"]


@contextlib.contextmanager
def inside(netns: str) -> Iterator[None]:
    """This thread inside namespace ``netns`` for the duration, then back where it was.

    Sockets keep the namespace they were born in: one made in here is used from
    anywhere afterwards.
    """
    path = os.path.join(NETNS_RUN_DIR, netns)
    try:
        target = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise DriverError(f"network namespace {netns!r} is not there") from None
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        if libc.setns(target, CLONE_NEWNET) != 0:
            raise DriverError(f"setns {netns!r}: {os.strerror(ctypes.get_errno())}")
        yield
    finally:
        libc.setns(own, CLONE_NEWNET)
        os.close(own)
        os.close(target)


@dataclass(slots=True)
class Answer:
    """The kernel's answer to one request: its errno (0: done) and any messages it sent."""

    errno: int = 0
    messages: list[tuple[int, memoryview]] = field(default_factory=list)  # (type, payload)


class RtnlSocket:
    """One NETLINK_ROUTE socket, opened in ``netns`` (None: this thread's namespace)."""

    def __init__(self, netns: str | None = None) -> None:
        if netns is None:
            self._sock = self._open()
        else:
            with inside(netns):
                self._sock = self._open()
        self._seq = 0
        self._buffer = bytearray(_RCVBUF)

    @staticmethod
    def _open() -> socket.socket:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RCVBUF)
        sock.bind((0, 0))
        return sock

    def dump(self, msg_type: int, payload: bytes) -> Answer:
        """A dump request's answer: every object of the kind, then NLMSG_DONE."""
        return self.exchange([(msg_type, payload)], NLM_F_REQUEST | NLM_F_DUMP)[0]

    def exchange(
        self, requests: Sequence[tuple[int, bytes]], flags: int = NLM_F_REQUEST | NLM_F_ACK
    ) -> list[Answer]:
        """Sends ``requests`` ((type, payload) each) in one batch; their answers, in order."""
        first = self._seq + 1
        batch = b"".join(
            message(msg_type, flags, first + n, payload)
            for n, (msg_type, payload) in enumerate(requests)
        )
        self._seq += len(requests)
        self._sock.send(batch)
        answers = [Answer() for _ in requests]
        pending = len(requests)
        while pending:
            pending -= self._receive(answers, first)
        return answers

    def _receive(self, answers: list[Answer], first: int) -> int:
        """Reads one datagram into ``answers``; how many requests it finished."""
        size = self._sock.recv_into(self._buffer)
        data = memoryview(self._buffer)[:size]
        finished = offset = 0
        while offset + 16 <= size:
            length, msg_type, _, seq = header(data, offset)
            n = seq - first
            if 0 <= n < len(answers):  # else a late answer to an abandoned batch
                if msg_type == NLMSG_ERROR:
                    answers[n].errno = error_code(data, offset)
                    finished += 1
                elif msg_type == NLMSG_DONE:  # the end of a dump (asked without an ack)
                    finished += 1
                else:
                    payload = bytes(data[offset + 16 : offset + length])
                    answers[n].messages.append((msg_type, memoryview(payload)))
            offset += (length + 3) & ~3 if length else size
        return finished

    def close(self) -> None:
        self._sock.close()
