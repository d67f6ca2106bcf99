"""Handler of /v1/hosts/{name}/status: the agent's report after reconciling its desired state.

A port goes ACTIVE only when bound on the reporting host, and only as
``network.binding.reported`` says (an admin-down port stays DOWN); ERROR keeps the
agent's reason, naming refused attributes, and the host records them against the PF
of the port's device, so the scheduler keeps ports needing them off that PF. A report
about an older desired generation changes no port: its agent reconciles the newer one
and reports again. A verified release frees the VF only at the claim generation it
was released at.
"""

from __future__ import annotations

import logging

from vfnet.api import booting
from vfnet.api.context import Ctx
from vfnet.api.schemas.status import PortReportIn, StatusIn, StatusOut
from vfnet.errors import NotFound
from vfnet.network.binding import Binding, reported
from vfnet.pci.address import PciAddress
from vfnet.scheduler.refusals import RATE, recorded, vf_needs
from vfnet.store import Store
from vfnet.store.records import PortRecord

ERROR = "ERROR"

log = logging.getLogger(__name__)


def report_status(name: str, body: StatusIn, ctx: Ctx) -> StatusOut:
    """POST /v1/hosts/{name}/status: port statuses and verified resets of the host."""
    store = ctx.store
    current = store.desired_generation(name)
    shown: dict[str, str] = {}
    ignored: list[str] = []
    refused: dict[str, set[str]] = {}
    for item in body.ports:
        record = _apply(store, name, item) if body.generation >= current else None
        if record is None:
            ignored.append(item.port_id)
        else:
            shown[item.port_id] = record.status
            booting.port_reported(store, record)
            if record.status == ERROR and item.refused:
                for pf, attrs in _refusals(store, name, record, item).items():
                    refused.setdefault(pf, set()).update(attrs)
    if refused and store.record_refused(name, refused):
        log.warning("host %s: PFs refused VF attributes: %s", name, _listed(refused))
    verified = {
        PciAddress.parse(r.address): r.claim_generation for r in body.releases if r.verified
    }
    freed = store.verify_resets(name, verified) if verified else []
    if body.generation >= current:
        store.set_status_generation(name, body.generation)
    return StatusOut(
        host=name,
        generation=store.desired_generation(name),
        ports=shown,
        ignored=ignored,
        freed=[str(address) for address in freed],
    )


def _apply(store: Store, host: str, item: PortReportIn) -> PortRecord | None:
    try:
        port = store.get_port(item.port_id)
    except NotFound:  # deleted since the agent read its desired state
        return None
    if port.host != host:
        return None
    if item.status == ERROR:
        return store.set_reported_status(port.id, host=host, status=ERROR, reason=_reason(item))
    binding = Binding(host, port.vif_type, port.vif_details, port.profile, port.mac_address)
    status = reported(binding, applied=True, admin_state_up=port.admin_state_up).status
    return store.set_reported_status(port.id, host=host, status=status.value, reason=None)


def _refusals(
    store: Store, host: str, port: PortRecord, item: PortReportIn
) -> dict[str, frozenset[str]]:
    """What the port's refusal says about the PF of its device (none if it has no device)."""
    slot = port.profile.get("pci_slot")
    try:
        device = store.get_device(host, str(slot)).reported if slot else None
    except NotFound:  # released since: the refusal is not placed on any PF
        device = None
    if device is None:
        return {}
    pf = str(device.parent_addr or device.address)
    if RATE not in item.refused:
        return {pf: frozenset(item.refused)}
    policy_id = port.qos_policy_id or store.get_network(port.network_id).qos_policy_id
    policy = store.get_qos_policy(policy_id).to_policy() if policy_id else None
    needs = vf_needs(
        policy, propagate_uplink_status=port.propagate_uplink_status, mirror_to=port.mirror_to
    )
    return {pf: recorded(item.refused, needs)}


def _listed(refused: dict[str, set[str]]) -> str:
    return "; ".join(f"{pf} {', '.join(sorted(attrs))}" for pf, attrs in sorted(refused.items()))


def _reason(item: PortReportIn) -> str:
    reason = item.reason or "the agent could not apply the port's VF settings"
    # The agent's reason names refusals as "<attr> refused by <pf>: ..."; list the others.
    missing = [attr for attr in item.refused if f"{attr} refused" not in reason]
    return f"{reason} (refused: {', '.join(missing)})" if missing else reason
