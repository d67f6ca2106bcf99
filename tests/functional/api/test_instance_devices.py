"""Which devices an instance's ports take, over HTTP: a vDPA device and the VF it is (never
handed to a direct port, and the other way round), HA pairs on two PFs, and both kept
when the instance migrates."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.functional.api.conftest import Api
from tests.functional.api.networking import network, port, subnet
from tests.functional.api.standin_agent import StandInAgent
from tests.functional.api.test_instances import PFS, TAGS, create, pf, vf
from tests.functional.api.test_migration import get, migrate, report, vfs_by_state

PF = next(iter(PFS))
VDPA = "0000:3b:02.1"  # a VF with a vDPA device on it: reported as ``vdpa``


def vdpa_host(api: Api, host: str = "compute-1") -> None:
    """One PF with a plain VF (3b:02.0) and a VF carrying a vDPA device (3b:02.1)."""
    carrying = {**vf(PF, 1), "dev_type": "vdpa", "tags": TAGS}
    report(api, host, [pf(PF), vf(PF, 0), carrying])


def ports_of(api: Api, *vnic_types: str) -> list[str]:
    net = network(api, vlan=100)
    subnet(api, net)
    return [str(port(api, net, **{"binding:vnic_type": kind})["id"]) for kind in vnic_types]


def states(api: Api, host: str = "compute-1") -> dict[str, str]:
    response: Any = api.call("GET", f"/v1/devices?host={host}", "admin")
    return {d["address"]: d["state"] for d in response.json()["devices"]}


def test_a_vdpa_port_takes_the_vdpa_device_and_its_pf_cannot_be_taken_whole(api: Api) -> None:
    vdpa_host(api)
    vdpa_port, whole = ports_of(api, "vdpa", "direct-physical")
    made = create(api, kind="vm", ports=[vdpa_port])
    (taken,) = made["ports"]
    assert (taken["pci_slot"], taken["vif_type"]) == (VDPA, "vdpa")
    assert states(api) == {PF: "unclaimable", "0000:3b:02.0": "available", VDPA: "claimed"}
    refused = create(api, kind="vm", ports=[whole])
    assert refused["state"] == "ERROR" and "no valid host" in refused["reason"]
    assert states(api)[PF] == "unclaimable"


def test_a_vf_carrying_a_vdpa_device_is_never_handed_to_a_direct_port(api: Api) -> None:
    vdpa_host(api)
    first, second, vdpa_port = ports_of(api, "direct", "direct", "vdpa")
    refused = create(api, kind="container", ports=[first, second])
    assert refused["state"] == "ERROR" and "no valid host" in refused["reason"]
    assert states(api)[VDPA] == "available"
    api.call("DELETE", f"/v1/instances/{refused['id']}", "member")
    direct = create(api, kind="container", ports=[first])
    assert direct["ports"][0]["pci_slot"] == "0000:3b:02.0"
    beside = create(api, kind="vm", ports=[vdpa_port])
    assert beside["ports"][0]["pci_slot"] == VDPA
    assert set(states(api).values()) == {"claimed", "unclaimable"}


def test_an_ha_pair_with_one_pf_left_gets_no_host_and_holds_nothing(api: Api) -> None:
    report(api, "compute-1", [pf(PF), vf(PF, 0), vf(PF, 1)])
    pair = ports_of(api, "direct", "direct")
    made = create(api, kind="container", ports=pair, ha_groups={"bond0": pair})
    assert made["state"] == "ERROR" and "no valid host" in made["reason"]
    assert Counter(states(api).values()) == Counter(available=3)
    api.call("DELETE", f"/v1/instances/{made['id']}", "member")
    together = create(api, kind="container", ports=pair)
    assert together["state"] == "BUILD"


def test_a_vdpa_port_migrates_to_a_vdpa_device_on_the_target(api: Api) -> None:
    for host in ("compute-1", "compute-2"):
        api.store.register_host(host, physnets=["physnet1"], manages_vfs=True)
    vdpa_host(api)
    (vdpa_port,) = ports_of(api, "vdpa")
    with (
        StandInAgent(api, "compute-1", "agent") as source,
        StandInAgent(api, "compute-2", "other-agent"),
    ):
        made = create(api, kind="vm", ports=[vdpa_port])
        source.until(lambda: get(api, f"/v1/instances/{made['id']}")["state"] == "ACTIVE")
        vdpa_host(api, "compute-2")
        moved = migrate(api, made["id"], host="compute-2", live=True)
        assert (moved["host"], moved["state"]) == ("compute-2", "ACTIVE")
        assert (moved["ports"][0]["pci_slot"], moved["ports"][0]["vif_type"]) == (VDPA, "vdpa")
        source.caught_up()
    assert vfs_by_state(api, "compute-1") == Counter(available=2)
    assert states(api, "compute-2")[VDPA] == "claimed"


def test_a_flavor_s_alias_device_moves_with_the_instance(api: Api) -> None:
    devices = [pf(p) for p in PFS] + [vf(p, i) for p in PFS for i in range(2)]
    report(api, "compute-1", devices)
    (direct,) = ports_of(api, "direct")
    made = create(api, kind="vm", ports=[direct], flavor="small")
    api.store.update_instance(made["id"], state="ACTIVE")  # no agent manages these VFs
    report(api, "compute-2", devices)
    moved = migrate(api, made["id"], host="compute-2")
    assert sorted(d["request_id"] for d in moved["devices"]) == [direct, "x710-vf-0"]
    assert vfs_by_state(api, "compute-1") == Counter(available=4)
    assert vfs_by_state(api, "compute-2") == Counter(claimed=2, available=2)
