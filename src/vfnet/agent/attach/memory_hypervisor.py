"""A Hypervisor that keeps domains in a dictionary: for tests of the code that plugs VMs.

It follows libvirt where a caller can tell: the running guest has its own copy of the
XML taken at start, a redefinition changes only what the domain next starts with, a
name keeps its UUID, and the operations a state does not allow raise ``Conflict``. With
``hot_plug=False`` it answers attach and detach as a driver without hot-plug does through
``LibvirtHypervisor``'s fallback: the configuration changes, the guest does not.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from vfnet.agent.attach.domain_xml_edit import with_device, without_device
from vfnet.agent.attach.hypervisor import DomainState, Plugged
from vfnet.errors import Conflict, NotFound, ValidationError

__all__ = ["MemoryHypervisor"]

_ACTIVE = (DomainState.RUNNING, DomainState.PAUSED)


@dataclass(slots=True)
class _Domain:
    config: str  # the inactive XML
    state: DomainState = DomainState.SHUT_OFF
    live: str | None = None  # the running guest's XML


class MemoryHypervisor:
    def __init__(self, *, hot_plug: bool = True) -> None:
        self.hot_plug = hot_plug
        self._domains: dict[str, _Domain] = {}

    def define(self, xml: str) -> str:
        root = _parse(xml)
        name = root.findtext("name")
        if not name:
            raise ValidationError("domain_xml", "has no <name>")
        known = self._domains.get(name)
        old_uuid = _parse(known.config).findtext("uuid") if known else None
        new_uuid = root.findtext("uuid")
        if old_uuid and new_uuid and uuid.UUID(old_uuid) != uuid.UUID(new_uuid):
            raise Conflict(f"domain {name!r} already exists with uuid {old_uuid}")
        if not new_uuid:
            ET.SubElement(root, "uuid").text = old_uuid or str(uuid.uuid4())
        text = ET.tostring(root, encoding="unicode")
        if known is None:
            self._domains[name] = _Domain(text)
        else:
            known.config = text
        return name

    def undefine(self, name: str) -> None:
        if self._domain(name).state in _ACTIVE:
            raise Conflict(f"{name}: is running; destroy it before undefining it")
        del self._domains[name]

    def names(self) -> list[str]:
        return sorted(self._domains)

    def state(self, name: str) -> DomainState:
        return self._domain(name).state

    def xml(self, name: str, *, inactive: bool = False) -> str:
        domain = self._domain(name)
        return domain.config if inactive or domain.live is None else domain.live

    def start(self, name: str) -> None:
        domain = self._in(name, DomainState.SHUT_OFF, DomainState.SAVED)
        domain.state, domain.live = DomainState.RUNNING, domain.config

    def destroy(self, name: str) -> None:
        domain = self._domain(name)
        if domain.state in _ACTIVE:
            domain.state, domain.live = DomainState.SHUT_OFF, None

    def attach(self, name: str, device_xml: str) -> Plugged:
        return self._change(name, device_xml, add=True)

    def detach(self, name: str, device_xml: str) -> Plugged:
        return self._change(name, device_xml, add=False)

    def suspend(self, name: str) -> None:
        domain = self._in(name, *_ACTIVE)
        domain.state, domain.live = DomainState.SAVED, None

    def resume(self, name: str) -> None:
        self._in(name, DomainState.SAVED)
        self.start(name)

    def pause(self, name: str) -> None:
        self._in(name, DomainState.RUNNING).state = DomainState.PAUSED

    def unpause(self, name: str) -> None:
        self._in(name, DomainState.PAUSED).state = DomainState.RUNNING

    def _change(self, name: str, device_xml: str, *, add: bool) -> Plugged:
        domain = self._domain(name)
        edit = with_device if add else without_device
        live = domain.live is not None and self.hot_plug
        # Check the guest first, so a refused change leaves both copies as they were.
        new_live = edit(domain.live, device_xml) if live and domain.live is not None else None
        domain.config = edit(domain.config, device_xml)
        if new_live is not None:
            domain.live = new_live
            return Plugged.LIVE
        return Plugged.CONFIG

    def _domain(self, name: str) -> _Domain:
        try:
            return self._domains[name]
        except KeyError:
            raise NotFound("domain", name) from None

    def _in(self, name: str, *states: DomainState) -> _Domain:
        domain = self._domain(name)
        if domain.state not in states:
            raise Conflict(f"{name}: is {domain.state.value}")
        return domain


def _parse(xml: str) -> ET.Element:
    try:
        return ET.fromstring(xml)
    except ET.ParseError as error:
        raise ValidationError("domain_xml", f"is not well-formed XML: {error}") from None
