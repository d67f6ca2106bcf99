"""PFs that refused a VF attribute: ports needing it go elsewhere, other ports still come."""

from __future__ import annotations

from typing import Any

import pytest

from vfnet.errors import NoValidHost
from vfnet.inventory.requests import PciRequest
from vfnet.network.qos import BANDWIDTH_LIMIT, MINIMUM_BANDWIDTH, QosPolicy, QosRule
from vfnet.scheduler.ask import Ask
from vfnet.scheduler.filters import RefusedVfAttributeFilter
from vfnet.scheduler.refusals import recorded, vf_needs
from vfnet.scheduler.requests import request_for_port
from vfnet.scheduler.select import select_host
from vfnet.scheduler.view import FleetView

from .fleet import vf_pool

PF_A, PF_B = "0000:3b:00.0", "0000:3c:00.0"
MIN_BW = QosPolicy("min", (QosRule(MINIMUM_BANDWIDTH, 1000),))
LIMIT = QosPolicy("limit", (QosRule(BANDWIDTH_LIMIT, 5000),))


def port(
    port_id: str = "p1",
    *,
    policy: QosPolicy | None = None,
    propagate_uplink_status: bool = False,
    mirror_to: str | None = None,
) -> PciRequest:
    needs = vf_needs(policy, propagate_uplink_status=propagate_uplink_status, mirror_to=mirror_to)
    made = request_for_port(port_id, "direct", "physnet1", vf_needs=needs)
    assert made is not None
    return made


def view_of(refused: dict[str, list[str]], pfs: tuple[str, ...] = (PF_A,)) -> FleetView:
    view = FleetView()
    view.update_host("h1", {vf_pool(pf): 2 for pf in pfs}, refused=refused)
    return view


@pytest.mark.parametrize(
    ("fields", "needs"),
    [
        ({}, set()),
        ({"policy": MIN_BW}, {"min_tx_rate", "rate"}),
        ({"policy": LIMIT}, {"rate"}),
        ({"propagate_uplink_status": True}, {"link_state"}),
        ({"mirror_to": "p2"}, {"mirror"}),
    ],
)
def test_a_port_needs_the_vf_attributes_its_settings_ask_for(
    fields: dict[str, Any], needs: set[str]
) -> None:
    assert port(**fields).vf_needs == needs


@pytest.mark.parametrize(
    ("refused", "policy", "kept"),
    [
        (["rate"], MIN_BW, {"min_tx_rate"}),
        (["rate"], LIMIT, {"rate"}),
        (["rate", "mirror"], None, {"rate", "mirror"}),
        (["link_state"], MIN_BW, {"link_state"}),
    ],
)
def test_a_refused_rate_is_recorded_as_the_half_the_port_asked_for(
    refused: list[str], policy: QosPolicy | None, kept: set[str]
) -> None:
    needs = vf_needs(policy, propagate_uplink_status=False, mirror_to=None)
    assert recorded(refused, needs) == kept


def test_a_pf_that_refused_min_tx_rate_is_skipped_for_a_minimum_bandwidth_port() -> None:
    view = view_of({PF_A: ["min_tx_rate"]}, pfs=(PF_A, PF_B))
    placed = select_host(view, [port(policy=MIN_BW)])
    assert placed.requests[0].pfs == (PF_B,)


def test_a_pf_that_refused_min_tx_rate_still_takes_plain_and_limited_ports() -> None:
    view = view_of({PF_A: ["min_tx_rate"]})
    assert select_host(view, [port()]).requests[0].pfs == (PF_A,)
    assert select_host(view, [port(policy=LIMIT)]).requests[0].pfs == (PF_A,)


def test_a_pf_that_refused_rates_takes_no_limited_port() -> None:
    view = view_of({PF_A: ["rate"]})
    with pytest.raises(NoValidHost):
        select_host(view, [port(policy=LIMIT)])


@pytest.mark.parametrize(
    ("refused", "fields"),
    [("link_state", {"propagate_uplink_status": True}), ("mirror", {"mirror_to": "p2"})],
)
def test_each_refused_attribute_keeps_off_the_ports_that_need_it(
    refused: str, fields: dict[str, Any]
) -> None:
    view = view_of({PF_A: [refused]}, pfs=(PF_A, PF_B))
    assert select_host(view, [port(**fields)]).requests[0].pfs == (PF_B,)


def test_a_boot_no_pf_can_serve_names_the_host_the_pf_and_the_refused_attribute() -> None:
    view = view_of({PF_A: ["min_tx_rate", "mirror"]})
    with pytest.raises(NoValidHost) as refused:
        select_host(view, [port("p9", policy=MIN_BW)])
    assert str(refused.value) == (
        "no host fits every request: hosts rejected: h1: PF 0000:3b:00.0 refused "
        "min_tx_rate, which port p9 needs for a minimum bandwidth rule (1 host)"
    )


def test_the_filter_passes_while_the_pfs_that_did_not_refuse_hold_enough() -> None:
    view = view_of({PF_A: ["min_tx_rate"]}, pfs=(PF_A, PF_B))
    host, needs = view.host("h1"), frozenset({"min_tx_rate"})
    two, three = (PciRequest(n, port().specs, vf_needs=needs) for n in (2, 3))
    assert RefusedVfAttributeFilter().passes(host, Ask.of(view, [two], None))
    assert not RefusedVfAttributeFilter().passes(host, Ask.of(view, [three], None))


def test_ports_in_an_anti_affinity_group_avoid_refusing_pfs_too() -> None:
    view = view_of({PF_A: ["mirror"]}, pfs=(PF_A, PF_B, "0000:3d:00.0"))
    first = request_for_port("a", "direct", "physnet1", pf_group="g", vf_needs={"mirror"})
    second = request_for_port("b", "direct", "physnet1", pf_group="g", vf_needs={"mirror"})
    assert first is not None and second is not None
    placed = select_host(view, [first, second])
    assert {pf for request in placed.requests for pf in request.pfs} == {PF_B, "0000:3d:00.0"}


def test_forgotten_refusals_let_the_pf_serve_again() -> None:
    view = view_of({PF_A: ["min_tx_rate"]})
    view.set_refused("h1", {})
    assert select_host(view, [port(policy=MIN_BW)]).requests[0].pfs == (PF_A,)
