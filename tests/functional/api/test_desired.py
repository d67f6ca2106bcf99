"""A host's desired state over HTTP: what a bound port asks of its VF, the long poll, releases."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.functional.api.conftest import Api
from tests.functional.api.networking import created, error_of, network, port, subnet
from tests.functional.api.test_binding import PF0, PF_MACS, pf, vf
from vfnet.agent.desired import parse_desired
from vfnet.pci.address import PciAddress

HOST = "binding:host_id"
DESIRED = "/v1/hosts/compute-1/desired"


@pytest.fixture
def fleet(api: Api) -> Api:
    """compute-1, whose agent manages its VFs: PF0 with three VFs on physnet1."""
    body = {"name": "compute-1", "physnets": ["physnet1"], "manages_vfs": True}
    assert api.call("POST", "/v1/hosts", "agent", json=body).status_code == 201
    report = {
        "report_generation": 1,
        "devices": [pf(PF0, PF_MACS[PF0]), *map(trusted_vf, range(3))],
    }
    assert api.call("PUT", "/v1/hosts/compute-1/inventory", "agent", json=report).status_code == 200
    return api


def trusted_vf(index: int) -> dict[str, Any]:
    """A VF the operator tagged trusted: ports asking for trust may have it."""
    made = vf(index)
    return made | {"tags": {**made["tags"], "trusted": "True"}}


def desired(api: Api, caller: str = "agent", **params: Any) -> dict[str, Any]:
    response = api.call("GET", DESIRED, caller, params=params)
    assert response.status_code == 200, response.text
    return dict(response.json())


def bind(api: Api, port_id: str, host: str | None = "compute-1") -> dict[str, Any]:
    response = api.call("PUT", f"/v1/ports/{port_id}", "admin", json={HOST: host})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bound_port(api: Api, *, vlan: int = 100, **fields: Any) -> dict[str, Any]:
    """A direct port on a VLAN network of physnet1, bound on compute-1."""
    net = network(api, f"net-{vlan}", vlan=vlan)
    subnet(api, net)
    made = port(api, net, "admin", **{"binding:vnic_type": "direct", **fields})
    return bind(api, str(made["id"]))


def limit_policy(api: Api, max_kbps: int) -> str:
    rules = [{"type": "bandwidth_limit", "max_kbps": max_kbps}]
    return str(created(api, "/v1/qos-policies", {"name": "limit", "rules": rules})["id"])


def state_of(api: Api, address: str) -> str:
    devices = api.call("GET", "/v1/hosts/compute-1/devices", "agent").json()["devices"]
    return str({d["address"]: d for d in devices}[address]["state"])


def test_a_bound_port_s_vf_is_in_the_document_with_the_settings_it_asks_for(fleet: Api) -> None:
    policy = limit_policy(fleet, 10_000)
    bound = bound_port(
        fleet,
        port_security_enabled=False,
        qos_policy_id=policy,
        **{"binding:profile": {"trusted": True}},
    )
    slot = bound["binding:profile"]["pci_slot"]
    document = desired(fleet)
    device = document["devices"][slot]
    assert device == {
        "owner": f"port:{bound['id']}",
        "claim_generation": 1,
        "port_id": bound["id"],
        "mac": bound["mac_address"],
        "vlan": 100, "qos": 0, "vlan_proto": "802.1Q",
        "spoofchk": False, "trust": True,
        "min_tx_rate": 0, "max_tx_rate": 10,
        "link_state": "auto",
        "mtu": 1500,
        "attach": {"kind": "host"},
        "mirror_to": None,
    }  # fmt: skip
    parsed = parse_desired(document)
    claimed = parsed.claimed[PciAddress.parse(slot)]
    assert (claimed.settings.vlan, claimed.settings.max_tx_rate) == (100, 10)
    assert parsed.released == {}


def test_a_network_s_policy_gives_the_rates_when_the_port_has_none(fleet: Api) -> None:
    policy = limit_policy(fleet, 2_500)
    net = network(fleet, "limited", vlan=200, qos_policy_id=policy)
    subnet(fleet, net)
    made = port(fleet, net, "admin", **{"binding:vnic_type": "direct"})
    slot = bind(fleet, made["id"])["binding:profile"]["pci_slot"]
    assert desired(fleet)["devices"][slot]["max_tx_rate"] == 3


def test_a_mirrored_port_names_the_vf_of_its_target_on_the_same_host(fleet: Api) -> None:
    target = bound_port(fleet, vlan=300)
    source = bound_port(fleet, vlan=301, mirror_to=target["id"])
    document = desired(fleet)
    mirrored = document["devices"][source["binding:profile"]["pci_slot"]]
    assert mirrored["mirror_to"] == target["binding:profile"]["pci_slot"]
    parse_desired(document)


def test_an_older_since_is_answered_at_once(fleet: Api) -> None:
    before = desired(fleet)["generation"]
    bound_port(fleet)
    document = desired(fleet, since=before, wait=30)
    assert document["generation"] > before
    assert len(document["devices"]) == 1


def test_a_quiet_host_s_long_poll_ends_with_the_same_generation(fleet: Api) -> None:
    current = desired(fleet)["generation"]
    assert desired(fleet, since=current, wait=0.3)["generation"] == current


def test_a_waiting_long_poll_answers_with_the_change_that_woke_it(fleet: Api) -> None:
    current = desired(fleet)["generation"]
    answers: list[dict[str, Any]] = []
    poll = threading.Thread(target=lambda: answers.append(desired(fleet, since=current, wait=30)))
    poll.start()
    try:
        bound = bound_port(fleet)
    finally:
        poll.join(60)
    [answer] = answers
    assert answer["generation"] > current
    assert set(answer["devices"]) == {bound["binding:profile"]["pci_slot"]}


@pytest.mark.parametrize(
    ("change", "moves"),
    [
        pytest.param({"admin_state_up": False}, True, id="admin state"),
        pytest.param({"port_security_enabled": False}, True, id="port security"),
        pytest.param({"binding:profile": {"trusted": True}}, True, id="profile"),
        pytest.param({"name": "renamed"}, False, id="a new name"),
    ],
)
def test_a_bound_port_s_update_moves_the_generation_when_its_vf_must_change(
    fleet: Api, change: dict[str, Any], moves: bool
) -> None:
    bound = bound_port(fleet)
    before = desired(fleet)["generation"]
    response = fleet.call("PUT", f"/v1/ports/{bound['id']}", "admin", json=change)
    assert response.status_code == 200, response.text
    assert (desired(fleet)["generation"] > before) is moves


def test_a_policy_rule_change_reaches_the_vfs_of_the_ports_using_it(fleet: Api) -> None:
    policy = limit_policy(fleet, 10_000)
    slot = bound_port(fleet, qos_policy_id=policy)["binding:profile"]["pci_slot"]
    before = desired(fleet)["generation"]
    rules = [{"type": "bandwidth_limit", "max_kbps": 20_000}]
    response = fleet.call("PUT", f"/v1/qos-policies/{policy}", "admin", json={"rules": rules})
    assert response.status_code == 200, response.text
    after = desired(fleet)
    assert after["generation"] > before
    assert after["devices"][slot]["max_tx_rate"] == 20


def test_an_admin_down_port_s_vf_link_is_disabled(fleet: Api) -> None:
    bound = bound_port(fleet)
    fleet.call("PUT", f"/v1/ports/{bound['id']}", "admin", json={"admin_state_up": False})
    assert desired(fleet)["devices"][bound["binding:profile"]["pci_slot"]]["link_state"] == (
        "disable"
    )


def test_an_unbound_vf_is_released_in_the_document_and_not_free_until_verified(
    fleet: Api,
) -> None:
    bound = bound_port(fleet)
    slot = bound["binding:profile"]["pci_slot"]
    bind(fleet, bound["id"], None)
    document = desired(fleet)
    assert document["devices"] == {}
    assert document["released"] == {slot: 1}
    assert parse_desired(document).released == {PciAddress.parse(slot): 1}
    assert state_of(fleet, slot) == "releasing"
    pools = fleet.call("GET", "/v1/pools?host=compute-1", "admin").json()["pools"]
    assert sum(p["free"] for p in pools if p["dev_type"] == "type-VF") == 2


def test_deleting_a_bound_port_releases_its_vf_the_same_way(fleet: Api) -> None:
    bound = bound_port(fleet)
    slot = bound["binding:profile"]["pci_slot"]
    assert fleet.call("DELETE", f"/v1/ports/{bound['id']}", "admin").status_code == 204
    assert desired(fleet)["released"] == {slot: 1}


def test_a_host_whose_agent_does_not_manage_vfs_frees_them_at_once(api: Api) -> None:
    report = {"report_generation": 1, "devices": [pf(PF0, PF_MACS[PF0]), vf(0)]}
    api.call("PUT", "/v1/hosts/compute-1/inventory", "agent", json=report)
    bound = bound_port(api)
    bind(api, bound["id"], None)
    assert desired(api)["released"] == {}
    assert state_of(api, bound["binding:profile"]["pci_slot"]) == "available"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/hosts/compute-1/desired"),
        ("GET", "/v1/hosts/compute-1/devices"),
        ("POST", "/v1/hosts/compute-1/status"),
    ],
)
def test_another_host_s_agent_is_refused(fleet: Api, method: str, path: str) -> None:
    body = {"generation": 0} if method == "POST" else None
    error_of(fleet.call(method, path, "other-agent", json=body), 403)


def test_an_unknown_host_has_no_desired_state(fleet: Api) -> None:
    error_of(fleet.call("GET", "/v1/hosts/nowhere/desired", "admin"), 404)


def test_a_host_not_registered_yet_has_no_devices_in_use(fleet: Api) -> None:
    response = fleet.call("GET", "/v1/hosts/compute-9/devices", "admin")
    assert (response.status_code, response.json()) == (200, {"devices": []})


def test_the_agent_s_problems_are_shown_on_its_host(fleet: Api) -> None:
    problems = ["ens1f0: sriov_numvfs 8 refused: EBUSY", "PF ens2f0 is missing"]
    report = {"report_generation": 2, "devices": [pf(PF0, PF_MACS[PF0])], "problems": problems}
    assert (
        fleet.call("PUT", "/v1/hosts/compute-1/inventory", "agent", json=report).status_code == 200
    )
    host = fleet.call("GET", "/v1/hosts/compute-1", "agent").json()
    assert (host["problems"], host["manages_vfs"]) == (problems, True)
