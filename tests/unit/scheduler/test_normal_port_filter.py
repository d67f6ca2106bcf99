"""Normal ports place an instance only on hosts with a bridge for their physical network."""

from __future__ import annotations

import pytest

from vfnet.errors import NoValidHost
from vfnet.scheduler.requests import request_for_port
from vfnet.scheduler.select import select_host
from vfnet.scheduler.view import FleetView

from .fleet import vf_pool

PF = "0000:3b:00.0"


def view_of(**bridges: list[str]) -> FleetView:
    """Hosts with one free VF on physnet1 each, and bridges for the physnets given."""
    view = FleetView()
    for name, physnets in bridges.items():
        view.update_host(name, {vf_pool(PF): 1}, normal_physnets=physnets)
    return view


def test_a_normal_port_alone_goes_to_the_host_with_a_bridge_for_its_physnet() -> None:
    view = view_of(h1=[], h2=["physnet2"], h3=["physnet1"])
    assert select_host(view, [], normal_physnets={"physnet1"}).host == "h3"


def test_normal_and_direct_ports_together_need_the_bridge_and_the_vf_on_one_host() -> None:
    view = view_of(h1=["physnet1"], h2=[])
    direct = request_for_port("p1", "direct", "physnet1")
    assert direct is not None
    assert select_host(view, [direct], normal_physnets={"physnet1"}).host == "h1"


def test_no_host_with_the_bridge_is_no_valid_host_naming_the_missing_bridge() -> None:
    view = view_of(h1=["physnet2"])
    with pytest.raises(NoValidHost, match="no bridge for the physical network of a normal port"):
        select_host(view, [], normal_physnets={"physnet1"})


def test_without_normal_ports_bridges_do_not_matter() -> None:
    assert select_host(view_of(h1=[]), []).host == "h1"
