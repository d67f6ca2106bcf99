"""Handlers of /v1/hosts: agents register their host, report its inventory, read its devices;
admins read hosts and clear what their PFs refused."""

from __future__ import annotations

from vfnet.api.context import Ctx
from vfnet.api.schemas.devices import DeviceList, DeviceOut
from vfnet.api.schemas.hosts import HostIn, HostList, HostOut, InventoryIn, InventoryOut
from vfnet.errors import InvalidPciAddress, ValidationError
from vfnet.pci.address import PciAddress
from vfnet.store.records import HostRecord


def _render(host: HostRecord) -> HostOut:
    return HostOut(
        name=host.name,
        generation=host.generation,
        report_generation=host.report_generation,
        numa_sockets={str(cell): socket for cell, socket in host.numa_sockets.items()},
        physnets=list(host.physnets),
        bridges=dict(host.bridges),
        created_at=host.created_at,
        reported_at=host.reported_at,
        manages_vfs=host.manages_vfs,
        desired_generation=host.desired_generation,
        problems=list(host.problems),
        refused={pf: list(attrs) for pf, attrs in host.refused.items()},
    )


def list_hosts(ctx: Ctx) -> HostList:
    """GET /v1/hosts: every registered host (admin)."""
    return HostList(hosts=[_render(host) for host in ctx.store.list_hosts()])


def get_host(name: str, ctx: Ctx) -> HostOut:
    """GET /v1/hosts/{name}: one host; an agent may read its own only."""
    return _render(ctx.store.get_host(name))


def register_host(body: HostIn, ctx: Ctx) -> HostOut:
    """POST /v1/hosts: create or update a host (an agent registers its own host); 201."""
    ctx.principal.check_host(body.name)
    host = ctx.store.register_host(
        body.name,
        numa_sockets={int(cell): socket for cell, socket in body.numa_sockets.items()},
        physnets=body.physnets,
        bridges=body.bridges,
        manages_vfs=body.manages_vfs,
    )
    return _render(host)


def report_inventory(name: str, body: InventoryIn, ctx: Ctx) -> InventoryOut:
    """PUT /v1/hosts/{name}/inventory: the agent's full device list for its host."""
    result = ctx.store.report_inventory(
        name, body.report_generation, body.reported_devices(), body.problems
    )
    return InventoryOut(
        host=result.host,
        applied=result.applied,
        generation=result.generation,
        report_generation=result.report_generation,
        added=[str(address) for address in result.added],
        removed=[str(address) for address in result.removed],
        vanished=[str(address) for address in result.vanished],
    )


def list_host_devices(name: str, ctx: Ctx) -> DeviceList:
    """GET /v1/hosts/{name}/devices: the host's devices with state and owner, for its agent
    (which must not remove VFs in use when it changes ``sriov_numvfs``).

    A host not registered yet has none: its agent asks before its first registration,
    when it creates VFs at start.
    """
    return DeviceList(
        devices=[DeviceOut.of(record) for record in ctx.store.list_devices(host=name)]
    )


def forget_refused(name: str, ctx: Ctx, pf: str | None = None) -> HostOut:
    """DELETE /v1/hosts/{name}/refused?pf=ADDRESS: forget what the host's PFs (or the one
    PF) refused, once new NIC firmware may set them; ports needing them may go there again.
    """
    return _render(ctx.store.forget_refused(name, None if pf is None else pci_address("pf", pf)))


def pci_address(field: str, text: str) -> str:
    """``text`` as the kernel spells a PCI address, or a ValidationError naming ``field``."""
    try:
        return str(PciAddress.parse(text))
    except InvalidPciAddress as error:
        raise ValidationError(
            field, f"{text!r} is not a PCI address ({error.reason}), e.g. 0000:3b:00.0"
        ) from None
