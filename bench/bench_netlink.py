"""The netlink driver's own cost of configuring VFs, kernel time left out; one JSON line each.

- encode: building and encoding the 64 x 6 RTM_SETLINK requests (one attribute each);
- decode: reading a 64-VF RTM_NEWLINK answer back into VfSettings;
- as root, on a veth in a throwaway namespace (whose kernel answer, EOPNOTSUPP, is quick,
  so what is left is the caller's cost): the same 384 requests over the driver's one
  socket (one send per VF), against one `ip link set ... vf N ...` process per VF per
  attribute. The driver's whole side of a pass adds two table reads (before and after).

Target (issue 5): the driver's side of configuring 64 VFs, kernel time left out, <= 20 ms.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
import uuid
from collections.abc import Callable

from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from vfnet.agent.drivers.netlink import NetlinkDriver
from vfnet.agent.drivers.netlink_messages import RTM_SETLINK, setlink_request, vf_table
from vfnet.agent.drivers.netlink_socket import RtnlSocket
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
            setlink_request("enp1s0f0", vf, WANTED, attr)


def answer_bytes() -> bytes:
    """A 64-VF RTM_NEWLINK payload (after struct nlmsghdr), as the kernel would send it."""
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
    return bytes(msg.data)[16:]


def decode(data: bytes) -> None:
    assert len(vf_table(data)) == VFS


def socket_requests(rtnl: RtnlSocket) -> None:
    # What apply does for each VF, without the VF-table check it adds on a refusal: a
    # veth refuses everything, a real PF almost nothing.
    for vf in range(VFS):
        requests = [(RTM_SETLINK, setlink_request("pf0", vf, WANTED, a)) for a in APPLY_ORDER]
        answers = rtnl.exchange(requests)
        assert all(answer.errno for answer in answers)


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
        rtnl = RtnlSocket(netns)
        try:
            ms = median_ms(lambda: socket_requests(rtnl))
            emit("netlink_setlink_one_socket_veth", ms, VFS * len(APPLY_ORDER))
            data = answer_bytes()
            ms = median_ms(lambda: (decode(data), socket_requests(rtnl), decode(data)))
            emit("netlink_driver_side_64_vfs", ms, VFS * len(APPLY_ORDER), target_ms=20.0)
        finally:
            rtnl.close()
        with NetlinkDriver(netns=netns) as driver:
            driver.read("pf0")  # opens the socket outside the timing
            ms = median_ms(lambda: driver.read("pf0"))
        emit("netlink_read_vf_table_veth", ms, 1)
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
