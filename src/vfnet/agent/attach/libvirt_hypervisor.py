"""The Hypervisor on libvirt: the only vfnet module that imports libvirt.

Every definition goes through ``VIR_DOMAIN_DEFINE_VALIDATE``, so XML that libvirt's
RelaxNG schemas refuse never reaches a domain. A driver that cannot attach or detach
devices (``VIR_ERR_NO_SUPPORT``; libvirt's ``test:///`` driver is one) gets the same
change by rewriting the domain's inactive XML and defining it again; the caller learns
from ``Plugged.CONFIG`` that a running guest sees it only after its next start.

QEMU cannot save the memory of a guest that holds a VFIO device, so a caller suspends a
domain only after detaching its SR-IOV devices (as Nova does), and plugs them back after
resuming.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import libvirt

from vfnet.agent.attach.domain_xml_edit import with_device, without_device
from vfnet.agent.attach.hypervisor import DomainState, Plugged
from vfnet.errors import Conflict, DriverError, NotFound, ValidationError, VfnetError

__all__ = ["LibvirtHypervisor"]

_STATES: Mapping[int, DomainState] = {
    libvirt.VIR_DOMAIN_RUNNING: DomainState.RUNNING,
    libvirt.VIR_DOMAIN_PAUSED: DomainState.PAUSED,
    libvirt.VIR_DOMAIN_SHUTOFF: DomainState.SHUT_OFF,
}

# libvirt error codes to vfnet errors; ``what`` names the domain or the XML's field.
_ERRORS: Mapping[int, Callable[[str, str], VfnetError]] = {
    libvirt.VIR_ERR_NO_DOMAIN: lambda what, _: NotFound("domain", what),
    libvirt.VIR_ERR_DEVICE_MISSING: lambda what, message: NotFound("device", message),
    libvirt.VIR_ERR_OPERATION_INVALID: lambda what, message: Conflict(f"{what}: {message}"),
    libvirt.VIR_ERR_OPERATION_FAILED: lambda what, message: Conflict(f"{what}: {message}"),
    libvirt.VIR_ERR_XML_ERROR: ValidationError,
    libvirt.VIR_ERR_XML_INVALID_SCHEMA: ValidationError,
    libvirt.VIR_ERR_CONFIG_UNSUPPORTED: ValidationError,
}


def _ignore_error(_context: object, _error: object) -> None:
    """libvirt prints every error to stderr besides raising it; the raise is enough."""


class LibvirtHypervisor:
    """Domains on one libvirt connection (``qemu:///system`` on a host, ``test:///default``
    in tests)."""

    def __init__(self, uri: str = "qemu:///system") -> None:
        libvirt.registerErrorHandler(_ignore_error, None)
        self.uri = uri
        try:
            self._conn: Any = libvirt.open(uri)
        except libvirt.libvirtError as error:
            raise DriverError(f"cannot connect to libvirt at {uri}: {error}") from None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> LibvirtHypervisor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def define(self, xml: str) -> str:
        with _translated("domain_xml"):
            domain = self._conn.defineXMLFlags(xml, libvirt.VIR_DOMAIN_DEFINE_VALIDATE)
        return str(domain.name())

    def undefine(self, name: str) -> None:
        domain = self._domain(name)
        with _translated(name):
            if domain.isActive():
                # libvirt would keep it running as a transient domain vfnet cannot manage.
                raise Conflict(f"{name}: is running; destroy it before undefining it")
            domain.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)

    def names(self) -> list[str]:
        with _translated(self.uri):
            return sorted(domain.name() for domain in self._conn.listAllDomains())

    def state(self, name: str) -> DomainState:
        domain = self._domain(name)
        with _translated(name):
            state = _STATES.get(domain.state()[0], DomainState.OTHER)
            if state is DomainState.SHUT_OFF and domain.hasManagedSaveImage(0):
                return DomainState.SAVED
        return state

    def xml(self, name: str, *, inactive: bool = False) -> str:
        # SECURE keeps passwords (VNC, secrets) in the text, so redefining loses none.
        flags = libvirt.VIR_DOMAIN_XML_SECURE
        if inactive:
            flags |= libvirt.VIR_DOMAIN_XML_INACTIVE
        domain = self._domain(name)
        with _translated(name):
            return str(domain.XMLDesc(flags))

    def start(self, name: str) -> None:
        domain = self._in(name, DomainState.SHUT_OFF, DomainState.SAVED)
        with _translated(name):
            domain.create()

    def destroy(self, name: str) -> None:
        domain = self._domain(name)
        with _translated(name):
            if domain.isActive():
                domain.destroy()

    def attach(self, name: str, device_xml: str) -> Plugged:
        return self._change(name, device_xml, "attachDeviceFlags", with_device)

    def detach(self, name: str, device_xml: str) -> Plugged:
        return self._change(name, device_xml, "detachDeviceFlags", without_device)

    def suspend(self, name: str) -> None:
        domain = self._in(name, DomainState.RUNNING, DomainState.PAUSED)
        with _translated(name):
            domain.managedSave(0)

    def resume(self, name: str) -> None:
        domain = self._in(name, DomainState.SAVED)
        with _translated(name):
            domain.create()

    def pause(self, name: str) -> None:
        domain = self._in(name, DomainState.RUNNING)
        with _translated(name):
            domain.suspend()

    def unpause(self, name: str) -> None:
        domain = self._in(name, DomainState.PAUSED)
        with _translated(name):
            domain.resume()

    def _domain(self, name: str) -> Any:
        with _translated(name):
            return self._conn.lookupByName(name)

    def _in(self, name: str, *states: DomainState) -> Any:
        """The domain, when it is in one of ``states``: drivers disagree on the error
        code for a call its state does not allow (QEMU's is not the test driver's)."""
        state = self.state(name)
        if state not in states:
            raise Conflict(f"{name}: is {state.value}")
        return self._domain(name)

    def _change(
        self, name: str, device_xml: str, call: str, edit: Callable[[str, str], str]
    ) -> Plugged:
        domain = self._domain(name)
        with _translated(name):
            live = bool(domain.isActive())
        flags = libvirt.VIR_DOMAIN_AFFECT_CONFIG
        if live:
            flags |= libvirt.VIR_DOMAIN_AFFECT_LIVE
        try:
            with _translated("device_xml"):
                getattr(domain, call)(device_xml, flags)
            return Plugged.LIVE if live else Plugged.CONFIG
        except _NoSupport:
            pass
        # The driver cannot hot-plug: change what the domain next starts with instead.
        self.define(edit(self.xml(name, inactive=True), device_xml))
        return Plugged.CONFIG


class _NoSupport(DriverError):
    """The connection's driver does not implement the call (``VIR_ERR_NO_SUPPORT``)."""


@contextmanager
def _translated(what: str) -> Iterator[None]:
    """libvirt's errors raised as vfnet's, chosen by libvirt's error code."""
    try:
        yield
    except libvirt.libvirtError as error:
        code = error.get_error_code()
        message = error.get_error_message() or str(error)
        if code == libvirt.VIR_ERR_NO_SUPPORT:
            raise _NoSupport(f"{what}: {message}") from None
        make = _ERRORS.get(code)
        if make is None:
            raise DriverError(f"{what}: libvirt error {code}: {message}") from None
        raise make(what, message) from None
