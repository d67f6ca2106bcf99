"""The netlink driver's own cost of configuring VFs, kernel time left out; one JSON line each.

- encode: building and encoding the 64 x 6 RTM_SETLINK requests (one attribute each);
- decode: reading a 64-VF RTM_NEWLINK answer back into VfSettings;
- as root, on a veth in a throwaway namespace (whose kernel answer, EOPNOTSUPP, is quick,
  so what is left is the caller's cost): the same 384 requests over the driver's one
  socket, against one `ip link set ... vf N ...` process per VF per attribute.
"""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable

from pyroute2.netlink import NLM_F_ACK, NLM_F_REQUEST
from pyroute2.netlink.exceptions import NetlinkError
from pyroute2.netlink.rtnl import RTM_SETLINK
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from vfnet.agent.drivers.netlink import NetlinkDriver
from vfnet.agent.drivers.netlink_messages import setlink_request, vf_table
from vfnet.network.vf_settings import APPLY_ORDER, VfSettings

VFS = 64
RUNS = 7
WANTED = VfSettings(
    mac="02:00:00:00:00:01", vlan=100, qos=3, spoofchk=False, trust=True, max_tx_rate=100
)
IP_ARGS = {  # what iproute2 is given for each attribute
    "mac": ["mac", WANTED.mac],
    "vlan": ["vlan", "100", "qos", "3"],
    "rate": ["min_tx_rate", "0", "max_tx_rate", "100"],
    "spoofchk": ["spoofchk", "off"],
    "link_state": ["state", "auto"],
    "trust": ["trust", "on"],
}


def median_ms(work: Callable[[], object], runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def emit(name: str, total_ms: float, calls: int, **extra: object) -> None:
    line = {"bench": name, "vfs": VFS, "calls": calls, "total_ms": round(total_ms, 2)}
    line |= {"per_call_us": round(total_ms * 1000 / calls, 1), **extra}
    print(json.dumps(line), flush=True)


def encode_all() -> None:
    for vf in range(VFS):
        for attr in APPLY_ORDER:
            setlink_request("enp1s0f0", vf, WANTED, attr).encode()


def answer_bytes() -> bytes:
    info = []
    for vf in range(VFS):
        attrs = [
            ("IFLA_VF_MAC", {"vf": vf, "mac": f"02:00:00:00:00:{vf:02x}"}),
            ("IFLA_VF_VLAN", {"vf": vf, "vlan": 100, "qos": 3}),
            ("IFLA_VF_RATE", {"vf": vf, "min_tx_rate": 0, "max_tx_rate": 100}),
            ("IFLA_VF_SPOOFCHK", {"vf": vf, "spoofchk": 0}),
            ("IFLA_VF_LINK_STATE", {"vf": vf, "link_state": 0}),
            ("IFLA_VF_TRUST", {"vf": vf, "trust": 1}),
        ]
        info.append(("IFLA_VF_INFO", {"attrs": attrs}))
    msg = ifinfmsg()
    msg["attrs"] = [("IFLA_IFNAME", "enp1s0f0"), ("IFLA_VFINFO_LIST", {"attrs": info})]
    msg.encode()
    return bytes(msg.data)


def decode(data: bytes) -> None:
    msg = ifinfmsg(data)
    msg.decode()
    assert len(vf_table(msg)) == VFS


def socket_requests(driver: NetlinkDriver) -> None:
    for vf in range(VFS):
        for attr in APPLY_ORDER:
            request = setlink_request("pf0", vf, WANTED, attr)
            # The driver's exchange itself, without the VF-table check apply adds on a
            # refusal: a veth refuses everything, a real PF almost nothing.
            with contextlib.suppress(NetlinkError):
                driver._request(request, RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK)


def ip_processes(netns: str) -> None:
    for vf in range(VFS):
        for attr in APPLY_ORDER:
            argv = ["ip", "-n", netns, "link", "set", "dev", "pf0", "vf", str(vf)]
            subprocess.run(argv + IP_ARGS[attr.value], capture_output=True, check=False)


def against_a_veth() -> None:
    netns = f"vfnet-bench-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    try:
        subprocess.run(
            ["ip", "-n", netns, "link", "add", "pf0", "type", "veth", "peer", "name", "pf1"],
            check=True,
        )
        with NetlinkDriver(netns=netns) as driver:
            driver.read("pf0")  # opens the socket outside the timing
            ms = median_ms(lambda: socket_requests(driver))
        emit("netlink_setlink_one_socket_veth", ms, VFS * len(APPLY_ORDER))
        ms = median_ms(lambda: ip_processes(netns), runs=1)
        emit("ip_link_set_process_per_attr_veth", ms, VFS * len(APPLY_ORDER), runs=1)
    finally:
        subprocess.run(["ip", "netns", "del", netns], check=False)


def main() -> None:
    emit("netlink_encode_setlink", median_ms(encode_all), VFS * len(APPLY_ORDER))
    data = answer_bytes()
    emit("netlink_decode_vf_table", median_ms(lambda: decode(data)), 1)
    if os.geteuid() == 0:
        against_a_veth()
    else:
        print(json.dumps({"bench": "netlink_veth", "skipped": "needs root (namespaces)"}))


if __name__ == "__main__":
    main()
