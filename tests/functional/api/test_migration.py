"""Migrating instances over HTTP, with stand-in agents on both hosts: every port moves to a
VF on the target with its MAC, VLAN and addresses and the source's VFs come back verified;
a refused, failed, timed-out or deleted migration leaves no claim and no device behind."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import error_of, network, port, subnet
from tests.functional.api.standin_agent import StandInAgent
from tests.functional.api.test_instances import PFS, pf, vf
from vfnet.api.handlers.instances import migration_settings
from vfnet.api.migration import MigrationSettings

HOSTS = {"compute-1": "agent", "compute-2": "other-agent"}  # host -> its agent's caller
SLOW = 30.0  # seconds: a timeout no test reaches unless an agent never answers
SHORT = 1.0  # seconds: the timeout of tests where an agent never answers


def report(api: Api, host: str, devices: list[dict[str, Any]]) -> None:
    body = {"report_generation": 1, "devices": devices}
    response: Any = api.call("PUT", f"/v1/hosts/{host}/inventory", HOSTS[host], json=body)
    assert response.status_code == 200, response.text


def vfs_by_state(api: Api, host: str) -> Counter[str]:
    response: Any = api.call("GET", f"/v1/devices?host={host}", "admin")
    return Counter(d["state"] for d in response.json()["devices"] if d["dev_type"] != "type-PF")


def owners(api: Api) -> set[str]:
    response: Any = api.call("GET", "/v1/devices", "admin")
    return {d["owner"] for d in response.json()["devices"] if d["owner"]}


def timeout(api: Api, seconds: float) -> None:
    settings = MigrationSettings(timeout=seconds, poll_interval=0.02)
    app: Any = api.client.app
    app.dependency_overrides[migration_settings] = lambda: settings


def get(api: Api, path: str) -> dict[str, Any]:
    response: Any = api.call("GET", path, "admin")
    assert response.status_code == 200, response.text
    return dict(response.json())


def migrate(api: Api, instance_id: str, status: int = 200, **body: Any) -> dict[str, Any]:
    response: Any = api.call("POST", f"/v1/instances/{instance_id}/migrate", "admin", json=body)
    assert response.status_code == status, response.text
    return dict(response.json())


@pytest.fixture
def hosts(api: Api) -> Api:
    """compute-1 and compute-2 on physnet1, agents verifying resets; compute-1 has two PFs
    of two VFs each, compute-2 reports its own (``second_host``) once an instance is up."""
    for host in HOSTS:
        api.store.register_host(host, physnets=["physnet1"], manages_vfs=True)
    report(api, "compute-1", [pf(p) for p in PFS] + [vf(p, i) for p in PFS for i in range(2)])
    timeout(api, SLOW)
    return api


def second_host(api: Api, vfs: int = 2) -> None:
    parent = next(iter(PFS))
    report(api, "compute-2", [pf(parent)] + [vf(parent, i) for i in range(vfs)])


@pytest.fixture
def agents(hosts: Api) -> Iterator[tuple[StandInAgent, StandInAgent]]:
    with (
        StandInAgent(hosts, "compute-1", "agent") as source,
        StandInAgent(hosts, "compute-2", "other-agent") as target,
    ):
        yield source, target


def boot(api: Api, source: StandInAgent, count: int = 2, **body: Any) -> dict[str, Any]:
    """An ACTIVE container with ``count`` direct ports on compute-1 (VLAN 100)."""
    net = network(api, vlan=100)
    subnet(api, net)
    ports = [str(port(api, net, **{"binding:vnic_type": "direct"})["id"]) for _ in range(count)]
    body = {"name": "web", "kind": "container", "ports": ports, **body}
    response: Any = api.call("POST", "/v1/instances", "member", json=body)
    assert response.status_code == 201, response.text
    made = dict(response.json())
    assert made["host"] == "compute-1"
    source.until(lambda: get(api, f"/v1/instances/{made['id']}")["state"] == "ACTIVE")
    return made


def test_a_live_migration_moves_every_port_to_a_target_vf_with_its_mac_vlan_and_addresses(
    hosts: Api, agents: tuple[StandInAgent, StandInAgent]
) -> None:
    source, _ = agents
    made = boot(hosts, source)
    second_host(hosts)
    before = {p["id"]: get(hosts, f"/v1/ports/{p['id']}") for p in made["ports"]}
    moved = migrate(hosts, made["id"], host="compute-2", live=True)
    assert (moved["host"], moved["state"], moved["reason"]) == ("compute-2", "ACTIVE", None)
    assert moved["migration"] is None
    assert {d["request_id"] for d in moved["devices"]} == set(before)
    for port_id, was in before.items():
        now = get(hosts, f"/v1/ports/{port_id}")
        assert (now["binding:host_id"], now["status"]) == ("compute-2", "ACTIVE")
        assert (now["mac_address"], now["fixed_ips"]) == (was["mac_address"], was["fixed_ips"])
        assert now["binding:vif_details"]["vlan"] == "100"
    slots = {p["pci_slot"] for p in moved["ports"]}
    assert slots == {d["address"] for d in moved["devices"]}
    unplugging = [d for d in source.documents if made["id"] in d.get("instances", {})]
    assert "migrating" in {d["instances"][made["id"]]["state"] for d in unplugging}
    source.caught_up()
    assert vfs_by_state(hosts, "compute-1") == Counter(available=4)
    assert vfs_by_state(hosts, "compute-2") == Counter(claimed=2)
    assert len(owners(hosts)) == 1  # the target's claim, now the instance's only one


def test_a_cold_migration_goes_where_the_scheduler_sends_it_never_its_own_host(
    hosts: Api, agents: tuple[StandInAgent, StandInAgent]
) -> None:
    source, _ = agents
    made = boot(hosts, source, count=1)
    second_host(hosts)
    moved = migrate(hosts, made["id"])
    assert (moved["host"], moved["state"]) == ("compute-2", "ACTIVE")
    source.caught_up()
    assert vfs_by_state(hosts, "compute-1") == Counter(available=4)
    assert vfs_by_state(hosts, "compute-2") == Counter(claimed=1, available=1)


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"host": "compute-1"}, 400, ["compute-1", "own host"]),
        ({"host": "compute-9"}, 404, ["compute-9"]),
        ({"host": "compute-2"}, 409, ["compute-2", "cannot take the instance"]),
        ({}, 409, ["no host other than its own (compute-1)"]),
    ],
)
def test_a_migration_nowhere_to_go_is_refused_naming_why_and_changes_nothing(
    hosts: Api,
    agents: tuple[StandInAgent, StandInAgent],
    body: dict[str, Any],
    status: int,
    words: list[str],
) -> None:
    source, _ = agents
    made = boot(hosts, source)
    second_host(hosts, vfs=1)  # one VF: too few for two ports
    response: Any = hosts.call("POST", f"/v1/instances/{made['id']}/migrate", "admin", json=body)
    message = error_of(response, status)["message"]
    assert all(word in message for word in words), message
    after = get(hosts, f"/v1/instances/{made['id']}")
    assert (after["host"], after["state"], after["migration"]) == ("compute-1", "ACTIVE", None)
    assert vfs_by_state(hosts, "compute-1") == Counter(claimed=2, available=2)
    assert vfs_by_state(hosts, "compute-2") == Counter(available=1)


def test_only_an_active_instance_migrates(
    hosts: Api, agents: tuple[StandInAgent, StandInAgent]
) -> None:
    source, _ = agents
    made = boot(hosts, source)
    second_host(hosts)
    hosts.call("POST", f"/v1/instances/{made['id']}/suspend", "member")
    error = error_of(
        hosts.call("POST", f"/v1/instances/{made['id']}/migrate", "admin", json={}), 409
    )
    assert "SUSPENDED" in error["message"]
    assert vfs_by_state(hosts, "compute-2") == Counter(available=2)


def test_a_port_the_target_agent_cannot_plug_rolls_the_migration_back_with_its_reason(
    hosts: Api,
) -> None:
    with StandInAgent(hosts, "compute-1", "agent") as source:
        made = boot(hosts, source)
        second_host(hosts)
        slots = {p["id"]: p["pci_slot"] for p in made["ports"]}
        with StandInAgent(hosts, "compute-2", "other-agent", answer="ERROR") as target:
            back = migrate(hosts, made["id"], host="compute-2", live=True)
            assert (back["host"], back["state"], back["migration"]) == ("compute-1", "ACTIVE", None)
            assert back["reason"].startswith("migration to compute-2 failed: port ")
            assert "vlan refused by ens1f0" in back["reason"]
            assert {p["id"]: p["pci_slot"] for p in back["ports"]} == slots
            for port_id in slots:
                assert get(hosts, f"/v1/ports/{port_id}")["binding:host_id"] == "compute-1"
            target.caught_up()
            assert vfs_by_state(hosts, "compute-2") == Counter(available=2)
        source.until(lambda: all(
            get(hosts, f"/v1/ports/{port_id}")["status"] == "ACTIVE" for port_id in slots
        ))  # fmt: skip
    assert vfs_by_state(hosts, "compute-1") == Counter(claimed=2, available=2)
    assert get(hosts, f"/v1/instances/{made['id']}")["reason"] == back["reason"]


def test_a_target_agent_that_never_plugs_times_the_migration_out_and_back(hosts: Api) -> None:
    timeout(hosts, SHORT)
    with StandInAgent(hosts, "compute-1", "agent") as source:
        made = boot(hosts, source, count=1)
        second_host(hosts)
        with StandInAgent(hosts, "compute-2", "other-agent", answer=None) as target:
            back = migrate(hosts, made["id"], host="compute-2")
            assert (back["host"], back["state"]) == ("compute-1", "ACTIVE")
            assert "did not report every port ACTIVE within 1 s" in back["reason"]
            target.caught_up()
        assert vfs_by_state(hosts, "compute-2") == Counter(available=2)
        assert vfs_by_state(hosts, "compute-1") == Counter(claimed=1, available=3)


def test_a_source_agent_that_never_unplugs_times_a_live_migration_out_before_any_move(
    hosts: Api,
) -> None:
    with StandInAgent(hosts, "compute-1", "agent") as source:
        made = boot(hosts, source, count=1)
    second_host(hosts)
    timeout(hosts, SHORT)
    with StandInAgent(hosts, "compute-2", "other-agent") as target:
        back = migrate(hosts, made["id"], host="compute-2", live=True)
        assert (
            "the agent of compute-1 did not report the devices unplugged within 1 s"
            in (back["reason"])
        )
        assert back["host"] == "compute-1"
        assert back["ports"][0]["status"] == "ACTIVE"  # never moved
        target.caught_up()
    assert vfs_by_state(hosts, "compute-2") == Counter(available=2)


def test_deleting_an_instance_mid_migration_releases_both_claims_and_stops_it(
    hosts: Api,
) -> None:
    with StandInAgent(hosts, "compute-1", "agent") as source:
        made = boot(hosts, source)
        second_host(hosts)
        with StandInAgent(hosts, "compute-2", "other-agent", answer=None) as target:
            answers: list[Any] = []
            path = f"/v1/instances/{made['id']}/migrate"
            call = threading.Thread(target=lambda: answers.append(
                hosts.call("POST", path, "admin", json={"host": "compute-2"})))  # fmt: skip
            call.start()
            target.until(lambda: (get(hosts, f"/v1/instances/{made['id']}")["migration"] or {})
                         .get("phase") == "moving")  # fmt: skip
            deleted: Any = hosts.call("DELETE", f"/v1/instances/{made['id']}", "member")
            assert deleted.status_code == 204, deleted.text
            call.join(timeout=SLOW)
            error = error_of(answers[0], 409)
            assert "deleted while migrating to compute-2" in error["message"]
            target.caught_up()
            source.caught_up()
    gone: Any = hosts.call("GET", f"/v1/instances/{made['id']}", "admin")
    assert gone.status_code == 404
    for item in made["ports"]:
        left = get(hosts, f"/v1/ports/{item['id']}")
        assert (left["binding:host_id"], left["device_id"]) == (None, "")
    assert owners(hosts) == set()
    assert vfs_by_state(hosts, "compute-1") == Counter(available=4)
    assert vfs_by_state(hosts, "compute-2") == Counter(available=2)


def test_between_hosts_whose_agents_do_not_manage_vfs_nothing_is_waited_for(api: Api) -> None:
    report(api, "compute-1", [pf(p) for p in PFS] + [vf(p, i) for p in PFS for i in range(2)])
    net = network(api, vlan=100)
    subnet(api, net)
    port_id = str(port(api, net, **{"binding:vnic_type": "direct"})["id"])
    made: Any = api.call("POST", "/v1/instances", "member",
                         json={"name": "w", "kind": "vm", "ports": [port_id]})  # fmt: skip
    instance = made.json()
    api.store.update_instance(instance["id"], state="ACTIVE")
    second_host(api)
    moved = migrate(api, instance["id"], host="compute-2", live=True)
    assert (moved["host"], moved["state"]) == ("compute-2", "ACTIVE")
    assert vfs_by_state(api, "compute-1") == Counter(available=4)
    assert vfs_by_state(api, "compute-2") == Counter(claimed=1, available=1)
