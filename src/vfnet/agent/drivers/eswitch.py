"""The VF driver of an emulated host: its VF table lives in its software switch's kernel state.

Where each attribute is kept, and so read back from:

- mac: nft set ``vf_mac`` (representor . MAC), also put on the VF netdev while it is
  still in the host namespace; vlan: the segment bridge the representor is a port of;
  spoofchk: nft set ``spoofchk_on``; link_state: the representor's admin state, with
  nft set ``link_auto`` marking the VFs that follow the PF's link: the PF netdev's
  carrier, down when the PF is set down or its cable's switch end is (not a segment's
  uplink, which many PFs share); :meth:`EswitchDriver.follow_uplinks` keeps them in
  step (see :mod:`eswitch_uplink`); max_tx_rate: the tbf on the VF's ifb.
- a kernel's refusal (pyroute2's NetlinkError, an OSError) leaves every method as a
  DriverError naming the PF or VF and the errno.
- what no bridge port holds, also in nft sets of the same table: trust (``trust_on``)
  and the VLAN priority (``vlan_qos``), so that it all goes when the namespace goes.
- refused, as by a NIC that cannot do them: min_tx_rate (no guaranteed rates) and
  vlan_proto 802.1ad (no QinQ; there are no tags at all, each VLAN is its own bridge).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from vfnet.agent.drivers import eswitch_names as names
from vfnet.agent.drivers import eswitch_tc as tc
from vfnet.agent.drivers import eswitch_uplink as uplink
from vfnet.agent.drivers.base import APPLY_ORDER, Refusal, VfAttr, VfSettings
from vfnet.agent.drivers.eswitch_kernel import NETNS_RUN_DIR, Netns, kernel_errors
from vfnet.agent.drivers.eswitch_topology import IFF_UP, HostSwitch, PfPorts, Segments
from vfnet.agent.drivers.netlink_messages import link_settings
from vfnet.errors import DriverError
from vfnet.network.vf_settings import ZERO_MAC, LinkState

_MAC = re.compile(r"[0-9a-f]{2}(:[0-9a-f]{2}){5}")
_SETS = ("spoofchk_on", "trust_on", "link_auto", "vf_mac", "vlan_qos")

__all__ = ["EswitchDriver"]


class _Batch:
    """What apply() calls gather to send at the end: link settings in one rtnetlink batch,
    set elements in one nft transaction."""

    def __init__(self, driver: EswitchDriver) -> None:
        self.driver = driver
        self.host = driver.host()
        self.segments = driver.segments()
        self.links: dict[int, dict[str, Any]] = {}  # ifindex -> link_settings' keywords
        self.members: list[str] = []
        self.keyed: dict[tuple[str, str], object | None] = {}  # (set, rep) -> value

    def send(self) -> None:
        if self.links:
            self.host.set_links([link_settings(i, **kw) for i, kw in self.links.items()])
        if not self.members and not self.keyed:
            return
        try:
            self.host.nft.run(self._script(self.driver.sets()))
        except DriverError:
            # The known set contents were stale (another process changed them): the
            # transaction did nothing, so read them and try once more.
            self.driver.forget_sets()
            self.host.nft.run(self._script(self.driver.sets()))
        sets = self.driver.sets()
        for (set_name, rep), value in self.keyed.items():
            sets[set_name].pop(rep, None)
            if value is not None:
                sets[set_name][rep] = [value]

    def _script(self, sets: dict[str, dict[str, list[Any]]]) -> str:
        lines = list(self.members)
        for (set_name, rep), value in self.keyed.items():
            prefix = f"element bridge {names.NFT_TABLE} {set_name}"
            lines.extend(
                f"delete {prefix} {{ {rep} . {old} }}" for old in sets[set_name].get(rep, ())
            )
            if value is not None:
                lines.append(f"add {prefix} {{ {rep} . {value} }}")
        return "\n".join(lines)


class _Pass:
    """One VF's share of a batch: its PF, its representor, the settings it gathers."""

    def __init__(self, batch: _Batch, pf: PfPorts, vf: int) -> None:
        self.batch = batch
        self.host = batch.host
        self.segments = batch.segments
        self.pf = pf
        self.vf = vf
        self.rep = names.representor(pf.pf, vf)
        index = self.host.index(self.rep)
        if self.host.index(pf.pf) is None or index is None:
            raise DriverError(f"VF {vf} of PF {pf.pf} is not on the switch")
        self.rep_index = index

    def link(self, index: int, **settings: Any) -> None:
        self.batch.links.setdefault(index, {}).update(settings)

    def member(self, set_name: str, on: bool) -> None:
        # "add" then "delete" removes whether or not it was there, without reading first.
        element = f"element bridge {names.NFT_TABLE} {set_name} {{ {self.rep} }}"
        self.batch.members.append(f"add {element}")
        if not on:
            self.batch.members.append(f"delete {element}")

    def keyed_element(self, set_name: str, value: object | None) -> None:
        self.batch.keyed[(set_name, self.rep)] = value


class EswitchDriver:
    """VfDriver over the software switch of one emulated host (see :mod:`eswitch_topology`)."""

    name = "eswitch"

    def __init__(self, switch: HostSwitch) -> None:
        self.switch = switch
        self._handles: tuple[int, Netns, Netns] | None = None
        self._segments: Segments | None = None
        # The sets as last read or written: a pass deletes a VF's old MAC and VLAN
        # priority elements by their full keys, and listing the table each time would
        # cost more than the rest of the pass. read() refreshes it.
        self._sets: dict[str, dict[str, list[Any]]] | None = None

    def sets(self) -> dict[str, dict[str, list[Any]]]:
        """Each set as representor -> the values of its elements (read when not known)."""
        if self._sets is None:
            self._sets = _read_sets(self.host())
        return self._sets

    def forget_sets(self) -> None:
        self._sets = None

    def host(self) -> Netns:
        return self._open()[1]

    def segments(self) -> Segments:
        _, host, fabric = self._open()
        if self._segments is None:
            self._segments = Segments(self.switch, host, fabric)
        return self._segments

    def _open(self) -> tuple[int, Netns, Netns]:
        """Handles on the host and fabric namespaces, reopened if the host was rebuilt."""
        try:
            inode = os.stat(os.path.join(NETNS_RUN_DIR, self.switch.netns)).st_ino
        except FileNotFoundError:
            raise DriverError(f"host {self.switch.host} has no switch: run ensure") from None
        if self._handles is None or self._handles[0] != inode:
            self.close()
            self._handles = (inode, Netns(self.switch.netns), Netns(self.switch.fabric))
            self._sets = None
        return self._handles

    def close(self) -> None:
        if self._handles is not None:
            for ns in self._handles[1:]:
                ns.close()
            self._handles = None
            self._segments = None

    def read(self, pf: str) -> Mapping[int, VfSettings]:
        with kernel_errors(f"PF {pf}: reading its VF table"):
            return self._read(pf)

    def _read(self, pf: str) -> Mapping[int, VfSettings]:
        host = self.host()
        links = {name: (index, flags, master) for index, flags, name, master in host.links()}
        if pf not in links:
            raise DriverError(f"PF {pf} is not on host {self.switch.host}")
        ifnames = {index: name for name, (index, _, _) in links.items()}
        self._sets = _read_sets(host)
        sets = {name: {rep: v[-1] for rep, v in got.items()} for name, got in self._sets.items()}
        rates = {ifnames.get(i): round(r * 8 / 1_000_000) for i, r in host.tbf_rates().items()}
        table: dict[int, VfSettings] = {}
        for name, (_, flags, master) in links.items():
            vf = names.representor_index(pf, name)
            if vf is None:
                continue
            state = LinkState.ENABLE if flags & IFF_UP else LinkState.DISABLE
            table[vf] = VfSettings(
                mac=str(sets["vf_mac"].get(name, ZERO_MAC)),
                vlan=names.bridge_vlan(ifnames.get(master, "")) or 0,
                qos=int(sets["vlan_qos"].get(name, 0)),
                spoofchk=name in sets["spoofchk_on"],
                trust=name in sets["trust_on"],
                max_tx_rate=rates.get(names.rate_limiter(pf, vf), 0),
                link_state=LinkState.AUTO if name in sets["link_auto"] else state,
            )
        return dict(sorted(table.items()))

    def apply(
        self, pf: str, vf: int, wanted: VfSettings, attrs: tuple[VfAttr, ...]
    ) -> tuple[Refusal, ...]:
        with kernel_errors(f"PF {pf} VF {vf}: setting {', '.join(map(str, attrs))}"):
            batch = _Batch(self)
            refusals = self._gather(batch, pf, vf, wanted, attrs)
            batch.send()
        return refusals

    def apply_many(
        self, changes: Sequence[tuple[str, int, VfSettings, tuple[VfAttr, ...]]]
    ) -> list[tuple[Refusal, ...] | DriverError]:
        """:meth:`apply` for many VFs at once, each (pf, vf, wanted, attrs): one rtnetlink
        batch and one nft transaction for all. Each VF's refusals, or the DriverError that
        kept anything from being set on it, in the order of ``changes``.

        Raises:
            DriverError: the kernel refused the batch (what was set of it stays set).
        """
        with kernel_errors(f"host {self.switch.host}: opening its switch"):
            batch = _Batch(self)
        outcomes: list[tuple[Refusal, ...] | DriverError] = []
        for pf, vf, wanted, attrs in changes:
            try:
                with kernel_errors(f"PF {pf} VF {vf}: setting {', '.join(map(str, attrs))}"):
                    outcomes.append(self._gather(batch, pf, vf, wanted, attrs))
            except DriverError as error:
                outcomes.append(error)
        with kernel_errors(f"host {self.switch.host}: sending the settings of {len(changes)} VFs"):
            batch.send()
        return outcomes

    def _gather(
        self, batch: _Batch, pf: str, vf: int, wanted: VfSettings, attrs: tuple[VfAttr, ...]
    ) -> tuple[Refusal, ...]:
        ports = self.switch.port(pf)
        if ports is None:
            raise DriverError(f"PF {pf} is not on host {self.switch.host}")
        step = _Pass(batch, ports, vf)
        refusals = []
        for attr in (a for a in APPLY_ORDER if a in attrs):
            reason = _APPLY[attr](step, wanted)
            if reason is not None:
                refusals.append(Refusal(attr, reason))
        return tuple(refusals)

    def mirror(self, pf: str, vf: int, to_vf: int | None) -> None:
        """Mirrors what VF ``vf`` sends and receives to VF ``to_vf``; None stops it."""
        if self.switch.port(pf) is None:
            raise DriverError(f"PF {pf} is not on host {self.switch.host}")
        with kernel_errors(f"PF {pf} VF {vf}: mirroring to VF {to_vf}"):
            host = self.host()
            rep = names.representor(pf, vf)
            to = None if to_vf is None else names.representor(pf, to_vf)
            rep_index = host.index(rep)
            if rep_index is None or (to is not None and host.index(to) is None):
                missing = vf if rep_index is None else to_vf
                raise DriverError(f"VF {missing} of PF {pf} is not there")
            tc.set_mirror(host, rep, rep_index, to)

    def follow_uplinks(self) -> list[uplink.UplinkFollowed]:
        """Sets each VF whose link state is ``auto`` down or up to match its PF's link (see
        :mod:`eswitch_uplink`); the VFs it changed, each (pf, vf, up).

        Raises:
            DriverError: the switch is gone, or the kernel refused a change.
        """
        with kernel_errors(f"host {self.switch.host}: following its PFs' links"):
            host = self.host()
            return uplink.follow(host, self.switch, uplink.auto_representors(host))


def _read_sets(host: Netns) -> dict[str, dict[str, list[Any]]]:
    """Each set of the table as representor -> its elements' values ([True] for plain
    membership; a representor may have been left with two by a race)."""
    sets: dict[str, dict[str, list[Any]]] = {name: {} for name in _SETS}
    for item in host.nft.list_json(f"table bridge {names.NFT_TABLE}"):
        found = item.get("set")
        if not found or found["name"] not in sets:
            continue
        for element in found.get("elem", []):
            if isinstance(element, dict) and "concat" in element:
                rep, value = element["concat"][:2]
                sets[found["name"]].setdefault(rep, []).append(value)
            else:
                sets[found["name"]][str(element)] = [True]
    return sets


def _apply_mac(step: _Pass, wanted: VfSettings) -> str | None:
    mac = wanted.mac.lower()
    if not _MAC.fullmatch(mac) or int(mac[:2], 16) & 1:
        return f"EINVAL: mac {wanted.mac!r} is not a unicast Ethernet address"
    assigned = mac != ZERO_MAC
    step.keyed_element("vf_mac", mac if assigned else None)
    step.member("mac_assigned", assigned)
    vf_netdev = step.host.index(step.pf.vfs[step.vf]) if step.vf < len(step.pf.vfs) else None
    if assigned and vf_netdev is not None:  # still in the host namespace: not yet attached
        step.link(vf_netdev, mac=mac)
    return None


def _apply_vlan(step: _Pass, wanted: VfSettings) -> str | None:
    if wanted.vlan_proto != "802.1Q":
        return f"EPROTONOSUPPORT: vlan_proto {wanted.vlan_proto}: this switch has no QinQ"
    if not 0 <= wanted.vlan <= 4094 or not 0 <= wanted.qos <= 7:
        return f"EINVAL: vlan {wanted.vlan} qos {wanted.qos} out of range (0-4094, 0-7)"
    bridge = step.segments.bridge(step.pf.physnet, wanted.vlan)
    step.link(step.rep_index, master=bridge)
    step.keyed_element("vlan_qos", wanted.qos or None)
    return None


def _apply_rate(step: _Pass, wanted: VfSettings) -> str | None:
    if wanted.min_tx_rate:
        return f"EOPNOTSUPP: min_tx_rate {wanted.min_tx_rate}: this switch cannot guarantee rates"
    if wanted.max_tx_rate < 0:
        return f"EINVAL: max_tx_rate {wanted.max_tx_rate} is negative"
    tc.set_max_tx_rate(step.host, step.pf.pf, step.vf, step.rep_index, wanted.max_tx_rate)
    return None


def _apply_spoofchk(step: _Pass, wanted: VfSettings) -> str | None:
    step.member("spoofchk_on", wanted.spoofchk)
    return None


def _apply_link_state(step: _Pass, wanted: VfSettings) -> str | None:
    up = wanted.link_state is LinkState.ENABLE
    if wanted.link_state is LinkState.AUTO:  # follows the PF's carrier, taken now
        pf = step.host.index(step.pf.pf)
        up = pf is not None and step.host.carrier(pf)
    step.link(step.rep_index, up=up)
    step.member("link_auto", wanted.link_state is LinkState.AUTO)
    return None


def _apply_trust(step: _Pass, wanted: VfSettings) -> str | None:
    step.member("trust_on", wanted.trust)
    return None


_APPLY: dict[VfAttr, Callable[[_Pass, VfSettings], str | None]] = {
    VfAttr.MAC: _apply_mac,
    VfAttr.VLAN: _apply_vlan,
    VfAttr.RATE: _apply_rate,
    VfAttr.SPOOFCHK: _apply_spoofchk,
    VfAttr.LINK_STATE: _apply_link_state,
    VfAttr.TRUST: _apply_trust,
}
