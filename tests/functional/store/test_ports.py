"""Ports persisted: MAC and fixed IPs in one transaction, addresses given back, bindings written."""

from __future__ import annotations

import pytest

from tests.functional.store.networking import (
    ADMIN,
    BASE_MAC,
    PROJECT,
    addresses,
    port,
    subnet,
    vlan_network,
)
from vfnet.errors import Conflict, Forbidden, IpAddressExhausted, NotFound, ValidationError
from vfnet.network.ports import PortRequest
from vfnet.store.records import FixedIpRequest

POOL = [{"start": "10.0.0.10", "end": "10.0.0.13"}]


def test_a_port_gets_a_base_mac_and_the_lowest_address_of_each_ip_version(store):
    network = vlan_network(store)
    v4 = subnet(store, network.id, "10.0.0.0/24")
    v6 = subnet(store, network.id, "2001:db8::/64")
    created = port(store, network.id, name="vm-1", vnic_type="direct")
    assert created.mac_address.startswith("fa:16:3e:")
    assert [(f.subnet_id, f.ip_address) for f in created.fixed_ips] == [
        (v4.id, "10.0.0.2"),
        (v6.id, "2001:db8::2"),
    ]
    assert (created.status, created.vif_type, created.host) == ("DOWN", "unbound", None)
    assert store.get_port(created.id) == created


def test_a_network_without_subnets_gives_ports_no_address(store):
    assert port(store, vlan_network(store).id).fixed_ips == ()


def test_an_empty_fixed_ips_list_asks_for_no_address(store):
    network = vlan_network(store)
    subnet(store, network.id)
    assert port(store, network.id, fixed_ips=[]).fixed_ips == ()


def test_a_given_mac_is_normalised_and_kept(store):
    network = vlan_network(store)
    assert port(store, network.id, mac_address="FA-16-3E-00-00-01").mac_address == (
        "fa:16:3e:00:00:01"
    )


def test_a_mac_already_used_on_the_network_is_refused(store):
    network = vlan_network(store)
    port(store, network.id, mac_address="fa:16:3e:00:00:01")
    with pytest.raises(Conflict, match="mac_address: fa:16:3e:00:00:01 is already used"):
        port(store, network.id, mac_address="fa:16:3e:00:00:01")
    assert len(store.list_ports()) == 1


def test_the_same_mac_on_another_network_is_fine(store):
    port(store, vlan_network(store, 100).id, mac_address="fa:16:3e:00:00:01")
    assert port(store, vlan_network(store, 101).id, mac_address="fa:16:3e:00:00:01")


@pytest.mark.parametrize("mac", ["fa:16:3e:00:00", "01:00:5e:00:00:01", "00:00:00:00:00:00"])
def test_malformed_multicast_and_zero_macs_are_refused(store, mac):
    with pytest.raises(ValidationError, match="mac_address"):
        port(store, vlan_network(store).id, mac_address=mac)


def test_a_generated_mac_that_collides_is_drawn_again(store):
    network = vlan_network(store)
    first = port(store, network.id, seed=7)
    second = port(store, network.id, seed=7)  # same random draws: its first MAC is taken
    assert first.mac_address != second.mac_address


def test_a_requested_address_is_given_and_skipped_by_later_ports(store):
    network = vlan_network(store)
    made = subnet(store, network.id, pools=POOL)
    asked = port(store, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.10")])
    assert addresses(asked) == ["10.0.0.10"]
    assert addresses(port(store, network.id)) == ["10.0.0.11"]


def test_an_address_alone_finds_its_subnet(store):
    network = vlan_network(store)
    subnet(store, network.id, "10.0.0.0/24")
    v6 = subnet(store, network.id, "2001:db8::/64")
    asked = port(store, network.id, fixed_ips=[FixedIpRequest(ip_address="2001:db8::99")])
    assert [(f.subnet_id, f.ip_address) for f in asked.fixed_ips] == [(v6.id, "2001:db8::99")]


def test_a_subnet_alone_gives_its_lowest_address(store):
    network = vlan_network(store)
    subnet(store, network.id, "10.0.0.0/24")
    second = subnet(store, network.id, "10.0.1.0/24")
    asked = port(store, network.id, fixed_ips=[FixedIpRequest(subnet_id=second.id)])
    assert addresses(asked) == ["10.0.1.2"]


def test_a_requested_address_in_use_is_refused(store):
    network = vlan_network(store)
    made = subnet(store, network.id)
    port(store, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.5")])
    with pytest.raises(Conflict, match=r"fixed_ips: 10\.0\.0\.5 is already in use"):
        port(store, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.5")])


def test_one_address_asked_twice_in_one_port_is_refused_and_nothing_is_kept(store):
    network = vlan_network(store)
    made = subnet(store, network.id)
    twice = [FixedIpRequest(made.id, "10.0.0.5"), FixedIpRequest(ip_address="10.0.0.5")]
    with pytest.raises(Conflict, match="already in use"):
        port(store, network.id, fixed_ips=twice)
    assert store.list_ports() == []
    assert addresses(port(store, network.id, fixed_ips=twice[:1])) == ["10.0.0.5"]


@pytest.mark.parametrize(
    ("asked", "reason"),
    [
        ("10.0.1.5", r"10\.0\.1\.5 is outside every subnet"),
        ("10.0.0.1", r"10\.0\.0\.1 is the gateway"),
        ("10.0.0.255", "broadcast address"),
        ("ten", "is not an IP address"),
    ],
)
def test_requested_addresses_outside_reserved_or_malformed_are_refused(store, asked, reason):
    network = vlan_network(store)
    subnet(store, network.id)
    with pytest.raises(ValidationError, match=reason):
        port(store, network.id, fixed_ips=[FixedIpRequest(ip_address=asked)])


def test_a_subnet_of_another_network_is_refused(store):
    network = vlan_network(store, 100)
    elsewhere = subnet(store, vlan_network(store, 101).id)
    with pytest.raises(ValidationError, match="is not on network"):
        port(store, network.id, fixed_ips=[FixedIpRequest(subnet_id=elsewhere.id)])
    with pytest.raises(NotFound, match="subnet 'nope'"):
        port(store, network.id, fixed_ips=[FixedIpRequest(subnet_id="nope")])


def test_a_full_subnet_is_exhausted_naming_it_until_a_port_goes(store):
    network = vlan_network(store)
    made = subnet(store, network.id, pools=POOL)
    held = [port(store, network.id) for _ in range(4)]
    assert [addresses(p) for p in held] == [
        ["10.0.0.10"],
        ["10.0.0.11"],
        ["10.0.0.12"],
        ["10.0.0.13"],
    ]
    with pytest.raises(IpAddressExhausted, match=f"subnet {made.id} .*10.0.0.10-10.0.0.13"):
        port(store, network.id)
    assert len(store.list_ports()) == 4
    store.delete_port(held[1].id)
    assert addresses(port(store, network.id)) == ["10.0.0.11"]


def test_given_back_addresses_come_out_lowest_first(store):
    network = vlan_network(store)
    subnet(store, network.id, pools=POOL)
    held = [port(store, network.id) for _ in range(4)]
    for index in (2, 0, 1):
        store.delete_port(held[index].id)
    again = [addresses(port(store, network.id)) for _ in range(3)]
    assert again == [["10.0.0.10"], ["10.0.0.11"], ["10.0.0.12"]]


def test_an_address_asked_outside_the_pools_is_not_pooled_when_given_back(store):
    network = vlan_network(store)
    made = subnet(store, network.id, pools=POOL)
    outside = port(store, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.100")])
    store.delete_port(outside.id)
    ports = [port(store, network.id) for _ in range(4)]
    assert addresses(ports[-1]) == ["10.0.0.13"]
    with pytest.raises(IpAddressExhausted):
        port(store, network.id)


def test_a_port_on_a_missing_network_or_policy_is_not_found(store):
    with pytest.raises(NotFound, match="network 'nope'"):
        port(store, "nope")
    with pytest.raises(NotFound, match="qos_policy 'gold'"):
        port(store, vlan_network(store).id, qos_policy_id="gold")


def test_security_groups_on_a_direct_port_are_refused(store):
    with pytest.raises(ValidationError, match="security_groups"):
        port(store, vlan_network(store).id, vnic_type="direct", security_groups=["default"])


def test_mirror_to_a_missing_port_is_not_found(store):
    with pytest.raises(NotFound, match="port 'ghost'"):
        port(store, vlan_network(store).id, vnic_type="direct", mirror_to="ghost")


def test_mirror_to_a_port_on_another_physnet_is_refused(store):
    target = port(store, vlan_network(store, 100, physnet="physnet2").id, vnic_type="direct")
    with pytest.raises(ValidationError, match="mirror_to"):
        port(store, vlan_network(store, 100).id, vnic_type="direct", mirror_to=target.id)


def test_a_mirror_stops_when_its_target_is_deleted(store):
    network = vlan_network(store)
    target = port(store, network.id, vnic_type="direct")
    mirrored = port(store, network.id, vnic_type="direct", mirror_to=target.id)
    assert mirrored.mirror_to == target.id
    store.delete_port(target.id)
    assert store.get_port(mirrored.id).mirror_to is None


def test_a_port_cannot_mirror_to_itself(store):
    created = port(store, vlan_network(store).id, vnic_type="direct")
    with pytest.raises(ValidationError, match="itself"):
        store.update_port(created.id, {"mirror_to": created.id}, role=ADMIN)


def test_ports_list_by_network_project_and_host(store):
    first, second = vlan_network(store, 100), vlan_network(store, 101)
    a = port(store, first.id)
    b = port(store, second.id, project_id="project-b")
    store.set_port_binding(
        b.id,
        host="compute-1",
        vif_type="bridge",
        vif_details={},
        profile={},
        status="DOWN",
        failure_reason=None,
        claim_owner=None,
    )
    assert [p.id for p in store.list_ports(network_id=first.id)] == [a.id]
    assert [p.id for p in store.list_ports(project_id=PROJECT)] == [a.id]
    assert [p.id for p in store.list_ports(host="compute-1")] == [b.id]
    assert [p.id for p in store.list_ports()] == [a.id, b.id]


def test_an_update_changes_the_named_fields(store):
    created = port(store, vlan_network(store).id, vnic_type="direct")
    updated = store.update_port(
        created.id,
        {"name": "eth1", "admin_state_up": False, "binding:profile": {"trusted": "true"}},
        role=ADMIN,
    )
    assert (updated.name, updated.admin_state_up, updated.profile) == (
        "eth1",
        False,
        {"trusted": True},
    )


def test_a_member_may_not_write_the_binding_profile(store):
    created = port(store, vlan_network(store).id)
    with pytest.raises(Forbidden, match="binding:profile"):
        store.update_port(created.id, {"binding:profile": {"trusted": True}}, role="member")


def test_an_unknown_field_cannot_be_updated(store):
    created = port(store, vlan_network(store).id)
    with pytest.raises(ValidationError, match="status: cannot be updated"):
        store.update_port(created.id, {"status": "ACTIVE"}, role=ADMIN)


def bind(store, port_id, **extra):
    return store.set_port_binding(
        port_id,
        host="compute-1",
        vif_type="hw_veb",
        vif_details={"vlan": "100", "port_filter": False},
        profile={"trusted": True, "pci_slot": "0000:81:00.2", "physical_network": "physnet1"},
        status="DOWN",
        failure_reason=None,
        claim_owner=f"port:{port_id}",
        **extra,
    )


def test_a_binding_is_written_and_cleared_keeping_the_users_profile(store):
    created = port(store, vlan_network(store).id, vnic_type="direct")
    bound = bind(store, created.id)
    assert (bound.host, bound.vif_type, bound.claim_owner, bound.bound) == (
        "compute-1",
        "hw_veb",
        f"port:{created.id}",
        True,
    )
    assert bound.vif_details == {"vlan": "100", "port_filter": False}
    unbound = store.clear_port_binding(created.id)
    assert (unbound.host, unbound.vif_type, unbound.claim_owner) == (None, "unbound", None)
    assert unbound.profile == {"trusted": True}
    assert unbound.status == "DOWN"


def test_a_bound_port_keeps_its_mac_and_vnic_type(store):
    created = port(store, vlan_network(store).id, vnic_type="direct")
    bind(store, created.id)
    with pytest.raises(Conflict, match="mac_address: cannot change while the port is bound"):
        store.update_port(created.id, {"mac_address": "fa:16:3e:00:00:09"}, role=ADMIN)
    with pytest.raises(Conflict, match="binding:vnic_type"):
        store.update_port(created.id, {"binding:vnic_type": "macvtap"}, role=ADMIN)


def test_an_unbound_port_may_change_its_mac_but_not_to_a_taken_one(store):
    network = vlan_network(store)
    port(store, network.id, mac_address="fa:16:3e:00:00:01")
    created = port(store, network.id)
    changed = store.update_port(created.id, {"mac_address": "fa:16:3e:00:00:02"}, role=ADMIN)
    assert changed.mac_address == "fa:16:3e:00:00:02"
    with pytest.raises(Conflict, match="fa:16:3e:00:00:01 is already used"):
        store.update_port(created.id, {"mac_address": "fa:16:3e:00:00:01"}, role=ADMIN)


def test_a_profile_update_on_a_bound_port_keeps_the_device_keys(store):
    created = port(store, vlan_network(store).id, vnic_type="direct")
    bind(store, created.id)
    updated = store.update_port(created.id, {"binding:profile": {}}, role=ADMIN)
    assert updated.profile == {"pci_slot": "0000:81:00.2", "physical_network": "physnet1"}


def test_a_whole_pf_binding_takes_the_pf_mac_unless_another_port_has_it(store):
    network = vlan_network(store)
    port(store, network.id, mac_address="3c:fd:fe:00:00:01")
    created = port(store, network.id, vnic_type="direct-physical")
    assert bind(store, created.id, mac_address="3c:fd:fe:00:00:02").mac_address == (
        "3c:fd:fe:00:00:02"
    )
    other = port(store, network.id, vnic_type="direct-physical")
    with pytest.raises(Conflict, match="3c:fd:fe:00:00:01 is already used"):
        bind(store, other.id, mac_address="3c:fd:fe:00:00:01")


def test_an_agent_status_is_kept_and_a_bad_one_refused(store):
    created = port(store, vlan_network(store).id)
    assert store.set_port_status(created.id, "ACTIVE").status == "ACTIVE"
    with pytest.raises(ValidationError, match="status"):
        store.set_port_status(created.id, "UP")
    with pytest.raises(NotFound):
        store.set_port_status("nope", "DOWN")


def test_deleting_a_port_returns_it_with_its_claim_owner(store):
    created = port(store, vlan_network(store).id, vnic_type="direct")
    bind(store, created.id)
    assert store.delete_port(created.id).claim_owner == f"port:{created.id}"
    with pytest.raises(NotFound):
        store.get_port(created.id)


def test_the_port_record_gives_the_pure_port(store):
    network = vlan_network(store)
    subnet(store, network.id)
    created = store.create_port(
        PortRequest(network.id, vnic_type="macvtap", port_security_enabled=False),
        project_id=PROJECT,
        role=ADMIN,
        base_mac=BASE_MAC,
    )
    pure = created.to_port()
    assert (pure.id, pure.vnic_type.value, pure.spoofchk) == (created.id, "macvtap", False)
    assert [str(ip) for ip in pure.fixed_ips] == ["10.0.0.2"]


def test_addresses_come_in_order_across_many_ports_of_a_large_pool(store):
    network = vlan_network(store)
    subnet(store, network.id, "10.0.0.0/16")
    subnet(store, network.id, "2001:db8::/64")
    given = [addresses(port(store, network.id)) for _ in range(40)]
    assert given == [[f"10.0.0.{n}", f"2001:db8::{n:x}"] for n in range(2, 42)]


def test_an_address_asked_for_between_chosen_ones_is_skipped_later(store):
    network = vlan_network(store)
    made = subnet(store, network.id)
    assert addresses(port(store, network.id)) == ["10.0.0.2"]
    port(store, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.4")])
    port(store, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.40")])
    chosen = [addresses(port(store, network.id))[0] for _ in range(3)]
    assert chosen == ["10.0.0.3", "10.0.0.5", "10.0.0.6"]
    with pytest.raises(Conflict, match=r"10\.0\.0\.40 is already in use"):
        port(store, network.id, fixed_ips=[FixedIpRequest(made.id, "10.0.0.40")])
