"""What a host's PFs refused: added up across reports, read with the host, kept out of claims."""

from __future__ import annotations

import pytest

from tests.functional.store.synthetic import host_report, pf_address
from vfnet.errors import InsufficientDevices, NotFound
from vfnet.inventory.requests import PciRequest
from vfnet.store import Store

HOST = "compute-1"
PF0, PF1 = str(pf_address(0)), str(pf_address(1))
MIN_BW_PORT = PciRequest(
    1, ({"dev_type": "type-VF"},), request_id="port", vf_needs=frozenset({"min_tx_rate"})
)


@pytest.fixture
def host(store: Store) -> str:
    store.register_host(HOST)
    store.report_inventory(HOST, 1, host_report(2, 2))
    return HOST


def test_a_new_host_has_refused_nothing(store: Store, host: str) -> None:
    assert store.get_host(host).refused == {}


def test_refusals_add_up_per_pf_across_reports(store: Store, host: str) -> None:
    assert store.record_refused(host, {PF0: ["min_tx_rate"]}) is True
    assert store.record_refused(host, {PF0: ["mirror"], PF1: ["link_state"]}) is True
    assert store.get_host(host).refused == {
        PF0: ("min_tx_rate", "mirror"),
        PF1: ("link_state",),
    }


def test_a_refusal_already_known_changes_nothing(store: Store, host: str) -> None:
    store.record_refused(host, {PF0: ["mirror"]})
    since, _ = store.host_changes(-1)
    assert store.record_refused(host, {PF0: ["mirror"]}) is False
    assert store.host_changes(since) == (since, [])


def test_a_new_refusal_stamps_the_host_for_schedulers_to_reload(store: Store, host: str) -> None:
    since, _ = store.host_changes(-1)
    store.record_refused(host, {PF0: ["rate"]})
    assert store.host_changes(since)[1] == [host]


def test_an_inventory_report_keeps_what_the_pfs_refused(store: Store, host: str) -> None:
    store.record_refused(host, {PF0: ["min_tx_rate"]})
    store.report_inventory(host, 2, host_report(2, 3))
    assert store.get_host(host).refused == {PF0: ("min_tx_rate",)}


def test_forgetting_one_pf_keeps_the_others(store: Store, host: str) -> None:
    store.record_refused(host, {PF0: ["min_tx_rate"], PF1: ["mirror"]})
    assert store.forget_refused(host, PF0).refused == {PF1: ("mirror",)}
    assert store.forget_refused(host).refused == {}


def test_forgetting_a_pf_with_nothing_recorded_is_not_found(store: Store, host: str) -> None:
    with pytest.raises(NotFound, match=f"refused attributes of PF '{HOST}/{PF1}' not found"):
        store.forget_refused(host, PF1)


def test_refusals_of_an_unknown_host_are_not_found(store: Store) -> None:
    with pytest.raises(NotFound, match="host 'nowhere'"):
        store.record_refused("nowhere", {PF0: ["mirror"]})
    with pytest.raises(NotFound, match="host 'nowhere'"):
        store.forget_refused("nowhere")


def test_a_claim_needing_a_refused_attribute_takes_a_vf_of_another_pf(
    store: Store, host: str
) -> None:
    store.record_refused(host, {PF0: ["min_tx_rate"]})
    [address] = store.claim(host, "vm", [MIN_BW_PORT]).addresses
    assert str(store.get_device(host, address).reported.parent_addr) == PF1


def test_a_claim_every_pf_refused_is_insufficient_naming_the_pfs(store: Store, host: str) -> None:
    store.record_refused(host, {PF0: ["min_tx_rate"], PF1: ["min_tx_rate"]})
    with pytest.raises(InsufficientDevices, match=f"PF {PF0} refused min_tx_rate"):
        store.claim(host, "vm", [MIN_BW_PORT])
