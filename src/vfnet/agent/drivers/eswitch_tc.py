"""tc on the eswitch's representors: a VF's max_tx_rate and its port mirror.

What a VF sends enters the switch at its representor's ingress, so the rate limit
redirects that ingress to an ifb whose tbf shapes it, and a mirror copies the
representor's ingress and egress to another VF's representor.

The ifb and the redirect are made with the representor (:func:`add_rate_limiter`), so
setting a rate is one tbf change and removing it one qdisc delete: an ifb without a tbf
passes everything on unshaped.
"""

from __future__ import annotations

import errno
import socket

from vfnet.agent.drivers import eswitch_names as names
from vfnet.agent.drivers.eswitch_kernel import Netns, ignoring

TC_H_ROOT = 0xFFFFFFFF
INGRESS = 0xFFFFFFF2  # clsact's ingress hook (TC_H_MIN_INGRESS under TC_H_CLSACT)
EGRESS = 0xFFFFFFF3
ETH_P_ALL = 0x0003
MIRROR_PREF = 10  # before the rate limit's redirect, which ends classification
RATE_PREF = 20
TBF_HANDLE = 0x10000
IFF_UP = 1
_MIN_BURST = 64 * 1024
_HZ = 250  # the coarsest timer tick tbf may run at: the burst must cover one tick


def set_max_tx_rate(ns: Netns, pf: str, vf: int, rep: int, mbps: int) -> None:
    """Shapes what VF ``vf`` sends to ``mbps`` Mbit/s; 0 removes the shaper."""
    limiter = ns.index(names.rate_limiter(pf, vf))
    if limiter is None:  # a switch built before representors came with their ifb
        if mbps == 0:
            _delete_filter(ns, rep, INGRESS, RATE_PREF)  # never redirect to nowhere
            return
        limiter = add_rate_limiter(ns, pf, vf, rep)
    if mbps == 0:
        with ignoring(errno.ENOENT, errno.EINVAL):
            ns.ipr.tc("del", index=limiter, parent=TC_H_ROOT)
        return
    rate = mbps * 1_000_000 // 8  # bytes/s
    ns.ipr.tc(
        "replace",
        "tbf",
        limiter,
        handle=TBF_HANDLE,
        rate=f"{mbps}mbit",
        burst=max(_MIN_BURST, rate // _HZ),
        latency="50ms",
    )


def add_rate_limiter(ns: Netns, pf: str, vf: int, rep: int) -> int:
    """VF ``vf``'s ifb, and its representor's ingress redirected to it: made if missing.

    Returns:
        The ifb's ifindex.
    """
    ifb = names.rate_limiter(pf, vf)
    limiter = ns.index(ifb)
    redirected = _has_filter(ns, rep, INGRESS, RATE_PREF)
    if limiter is None:
        if redirected:  # left redirecting to an ifb that is gone
            _delete_filter(ns, rep, INGRESS, RATE_PREF)
            redirected = False
        ns.ipr.link("add", ifname=ifb, kind="ifb", flags=IFF_UP, change=IFF_UP)
        limiter = ns.index(ifb)
        assert limiter is not None
    if redirected:
        return limiter
    ns.ipr.tc("replace", "clsact", rep)
    ns.ipr.tc(
        "add-filter",
        "u32",
        rep,
        parent=INGRESS,
        prio=RATE_PREF,
        protocol=ETH_P_ALL,
        target=0x10001,
        keys=["0x0/0x0+0"],  # match every frame
        action=[
            {"kind": "mirred", "direction": "egress", "action": "redirect", "ifindex": limiter}
        ],
    )
    return limiter


def set_mirror(ns: Netns, rep: str, rep_index: int, to: str | None) -> None:
    """Copies what passes representor ``rep`` both ways to representor ``to``; None stops.

    pyroute2 gives a mirror the ``pipe`` verdict, which ends u32 classification and so
    skips the rate limit behind it: the mirror is added with ``tc ... continue`` instead.
    """
    for hook in (INGRESS, EGRESS):
        _delete_filter(ns, rep_index, hook, MIRROR_PREF)
    if to is None:
        return
    ns.ipr.tc("replace", "clsact", rep_index)
    ns.tc_batch(
        [
            f"filter add dev {rep} {hook} pref {MIRROR_PREF} protocol all u32 match u32 0 0 "
            f"action mirred egress mirror dev {to} continue"
            for hook in ("ingress", "egress")
        ]
    )


def _delete_filter(ns: Netns, index: int, parent: int, pref: int) -> None:
    """Deletes the filter at ``pref``, if any; a zero pref would delete them all."""
    info = (pref << 16) | socket.htons(ETH_P_ALL)
    with ignoring(errno.ENOENT, errno.EINVAL):
        ns.ipr.tc("del-filter", index=index, parent=parent, info=info)


def _has_filter(ns: Netns, index: int, parent: int, pref: int) -> bool:
    with ignoring(errno.ENOENT, errno.EINVAL):
        return any(f["info"] >> 16 == pref for f in ns.ipr.get_filters(index=index, parent=parent))
    return False
