"""Listing devices: filters by host, type, state and physnet; one device by address."""

from __future__ import annotations

import pytest

from tests.functional.store.synthetic import host_report, pf, vf, vf_address
from vfnet.errors import NotFound
from vfnet.inventory.requests import PciRequest


@pytest.fixture
def fleet(store):
    store.register_host("compute-1")
    store.register_host("compute-2")
    store.report_inventory("compute-1", 1, host_report(1, 3))
    store.report_inventory(
        "compute-2", 1, [pf(0, physnet="physnet2"), vf(0, 0, physnet="physnet2")]
    )
    request = PciRequest(1, ({"dev_type": "type-VF"},), request_id="port-9")
    store.claim("compute-1", "vm-1", [request])
    return store


@pytest.mark.parametrize(
    ("filters", "count"),
    [
        ({}, 6),
        ({"host": "compute-2"}, 2),
        ({"dev_type": "type-PF"}, 2),
        ({"dev_type": "type-VF", "host": "compute-1"}, 3),
        ({"state": "claimed"}, 1),
        ({"state": "unclaimable"}, 1),
        ({"physnet": "physnet2"}, 2),
        ({"physnet": "physnet3"}, 0),
    ],
)
def test_devices_are_listed_by_filter(fleet, filters, count):
    assert len(fleet.list_devices(**filters)) == count


def test_a_device_reads_back_as_reported_with_its_owner(fleet):
    [claimed] = fleet.list_devices(state="claimed")
    device = fleet.get_device("compute-1", claimed.address)
    assert (device.owner, device.request_id, device.reported.driver) == ("vm-1", "port-9", "iavf")
    assert device.reported.ifname.startswith("ens0f0v")
    assert device.physnet == "physnet1"


def test_a_device_on_another_host_is_not_found(fleet):
    with pytest.raises(NotFound):
        fleet.get_device("compute-2", vf_address(0, 2))
