"""vfnet-cni ADD, CHECK and DEL with a vfnet port: bound here, plugged as the port says."""

from __future__ import annotations

from tests.functional.cni.conftest import HOST, OTHER_SANDBOX, SANDBOX, Node, closed_url
from vfnet.agent.attach.netns import Route
from vfnet.cni.protocol import Code
from vfnet.cni.server import open_client
from vfnet.network.vf_settings import RESET, LinkState, VfSettings


def test_add_binds_the_port_here_and_plugs_its_vf_as_the_port_says(node: Node) -> None:
    port = node.new_port(name="web-0", fixed_ips=[{"ip_address": "192.0.2.20"}])
    status, result = node.call("ADD", node.conf(port=port["id"]))
    assert status == 0, result
    bound = node.port(port["id"])
    slot = bound["binding:profile"]["pci_slot"]
    assert (bound["binding:host_id"], bound["device_id"]) == (HOST, "c1")
    assert result == {
        "cniVersion": "1.0.0",
        "interfaces": [{"name": "net1", "mac": port["mac_address"], "sandbox": SANDBOX}],
        "ips": [{"address": "192.0.2.20/24", "gateway": "192.0.2.1", "interface": 0}],
        "routes": [{"dst": "0.0.0.0/0", "gw": "192.0.2.1"}],
        "dns": {},
    }
    assert node.vf(slot) == VfSettings(mac=port["mac_address"], vlan=100)
    (link,) = node.ops.links(SANDBOX)
    assert (link.name, link.mac, link.up) == ("net1", port["mac_address"], True)
    assert node.ops.addresses(SANDBOX, "net1") == ["192.0.2.20/24"]
    routes = node.ops.routes(SANDBOX, "net1")
    assert [(r.dst, r.gateway) for r in routes if r.dst == "default"] == [("default", "192.0.2.1")]
    assert node.netdev(slot) not in node.names(None)


def test_the_vf_takes_the_ports_qos_trust_and_admin_state(node: Node) -> None:
    with node.client() as admin:
        policy = admin.create_qos_policy(
            {"name": "gold", "rules": [{"type": "bandwidth_limit", "max_kbps": 50000}]}
        )
    port = node.new_port(
        qos_policy_id=policy["id"], admin_state_up=False, port_security_enabled=False,
        **{"binding:profile": {"trusted": True}},
    )  # fmt: skip
    assert node.call("ADD", node.conf(port=port["id"]))[0] == 0
    slot = node.port(port["id"])["binding:profile"]["pci_slot"]
    assert node.vf(slot) == VfSettings(
        mac=port["mac_address"], vlan=100, spoofchk=False, trust=True, max_tx_rate=50,
        link_state=LinkState.DISABLE,
    )  # fmt: skip


def test_del_gives_the_vf_back_reset_and_unbinds_the_port_twice_over(node: Node) -> None:
    port = node.new_port()
    conf = node.conf(port=port["id"])
    node.call("ADD", conf)
    slot = node.port(port["id"])["binding:profile"]["pci_slot"]
    assert node.call("DEL", conf) == (0, None)
    after = node.port(port["id"])
    assert (after["binding:host_id"], after["binding:vif_type"], after["device_id"]) == (
        None, "unbound", "",
    )  # fmt: skip
    assert node.vf(slot) == RESET
    assert node.names(SANDBOX) == []
    assert node.netdev(slot) in node.names(None)
    assert node.call("DEL", conf) == (0, None)


def test_del_after_the_sandbox_vanished_brings_the_vf_home_and_unbinds(node: Node) -> None:
    port = node.new_port()
    conf = node.conf(port=port["id"])
    node.call("ADD", conf)
    slot = node.port(port["id"])["binding:profile"]["pci_slot"]
    node.ops.delete(SANDBOX)
    assert node.call("DEL", conf) == (0, None)
    assert node.netdev(slot) in node.names(None)
    assert node.vf(slot) == RESET
    assert node.port(port["id"])["binding:host_id"] is None


def test_a_port_is_found_by_its_name_and_in_args_cni(node: Node) -> None:
    port = node.new_port(name="db-0")
    assert node.call("ADD", node.conf(port="db-0"))[0] == 0
    assert node.call("DEL", node.conf(port="db-0")) == (0, None)
    by_args = node.conf(args={"cni": {"port": "db-0"}})
    assert node.call("ADD", by_args)[0] == 0
    assert node.port(port["id"])["binding:host_id"] == HOST


def test_add_twice_is_the_same_add(node: Node) -> None:
    conf = node.conf(port=node.new_port()["id"])
    first = node.call("ADD", conf)
    assert node.call("ADD", conf) == first
    assert node.call("DEL", conf) == (0, None)


def test_check_finds_the_port_as_added_and_says_what_changed(node: Node) -> None:
    port = node.new_port()
    conf = node.conf(port=port["id"])
    _, result = node.call("ADD", conf)
    assert node.call("CHECK", {**conf, "prevResult": result}) == (0, None)
    node.ops.set_link(SANDBOX, "net1", mac="02:00:00:00:00:99")
    status, error = node.call("CHECK", {**conf, "prevResult": result})
    assert error is not None
    assert (status, error["code"]) == (1, Code.CHECK_FAILED)
    assert f"not port {port['id']}'s {port['mac_address']}" in error["msg"]


def test_a_sandbox_with_a_default_route_keeps_it(node: Node) -> None:
    node.ops.add_link(SANDBOX, "eth0", "02:00:00:00:00:01", kind="veth")
    node.ops.set_link(SANDBOX, "eth0", up=True)
    node.ops.add_address(SANDBOX, "eth0", "10.0.0.5/24")
    node.ops.add_route(SANDBOX, "eth0", Route("default", "10.0.0.1"))
    status, result = node.call("ADD", node.conf(port=node.new_port()["id"]))
    assert status == 0 and result is not None, result
    assert result["routes"] == []
    assert result["ips"][0]["gateway"] == "192.0.2.1"
    assert [r for r in node.ops.routes(SANDBOX, "net1") if r.dst == "default"] == []


def test_an_unknown_port_is_code_7_naming_port(node: Node) -> None:
    status, error = node.call("ADD", node.conf(port="no-such-port"))
    assert error is not None
    assert (status, error["code"]) == (1, Code.INVALID_CONFIG)
    assert error["msg"] == "port: no port 'no-such-port' that this token may see"


def test_a_port_bound_on_another_host_is_refused_naming_the_host(node: Node) -> None:
    node.report("compute-2")
    port = node.new_port(**{"binding:host_id": "compute-2"})
    status, error = node.call("ADD", node.conf(port=port["id"]))
    assert error is not None
    assert (status, error["code"], "host compute-2" in error["msg"]) == (1, Code.PORT_IN_USE, True)
    assert node.port(port["id"])["binding:host_id"] == "compute-2"


def test_a_port_another_sandbox_uses_is_refused(node: Node) -> None:
    conf = node.conf(port=node.new_port()["id"])
    assert node.call("ADD", conf)[0] == 0
    status, error = node.call("ADD", conf, netns=OTHER_SANDBOX, container="c2")
    assert error is not None
    assert (status, error["code"], "used by c1" in error["msg"]) == (1, Code.PORT_IN_USE, True)
    assert node.names(SANDBOX) == ["net1"]


def test_a_port_that_cannot_bind_here_is_code_107_and_left_unbound(node: Node) -> None:
    for _ in range(3):  # every VF of the host taken
        _bound_slot(node)
    port = node.new_port()
    status, error = node.call("ADD", node.conf(port=port["id"]))
    assert error is not None
    assert (status, error["code"], "no free device" in error["msg"]) == (1, 107, True)
    assert node.port(port["id"])["binding:host_id"] is None


def test_a_port_that_is_no_vf_is_refused(node: Node) -> None:
    port = node.new_port(**{"binding:vnic_type": "macvtap"})
    status, error = node.call("ADD", node.conf(port=port["id"]))
    assert error is not None
    assert (status, error["code"], "use a direct port" in error["msg"]) == (1, 7, True)


def test_a_device_id_that_is_not_the_vf_bound_is_refused_and_the_port_unbound(
    node: Node,
) -> None:
    taken = [_bound_slot(node), _bound_slot(node)]  # one VF left free: the port's
    port = node.new_port()
    status, error = node.call("ADD", node.conf(port=port["id"], deviceID=taken[0]))
    assert error is not None
    assert (status, error["code"], error["msg"][:9]) == (1, 7, "deviceID:")
    assert node.port(port["id"])["binding:host_id"] is None
    assert node.names(SANDBOX) == []


def test_the_device_plugins_vf_is_taken_when_it_is_the_one_bound(node: Node) -> None:
    taken = {_bound_slot(node), _bound_slot(node)}
    (free,) = {str(d.address) for d in node.devices if d.vf_index is not None} - taken
    port = node.new_port()
    status, result = node.call("ADD", node.conf(port=port["id"], deviceID=free))
    assert status == 0, result
    assert node.port(port["id"])["binding:profile"]["pci_slot"] == free


def _bound_slot(node: Node) -> str:
    """The VF of a port an admin bound here (no longer free)."""
    with node.client() as admin:
        bound = admin.update_port(node.new_port()["id"], {"binding:host_id": HOST})
    return str(bound["binding:profile"]["pci_slot"])


def test_an_unreachable_server_is_code_11(node: Node) -> None:
    conf = node.conf(port=node.new_port()["id"], server=closed_url())
    status, error = node.call("ADD", conf, connect=open_client)
    assert error is not None
    assert (status, error["code"], "try again later" in error["msg"]) == (1, 11, True)


def test_del_without_the_server_frees_the_vf_and_a_later_del_unbinds(node: Node) -> None:
    port = node.new_port()
    conf = node.conf(port=port["id"])
    node.call("ADD", conf)
    slot = node.port(port["id"])["binding:profile"]["pci_slot"]
    down = {**conf, "server": closed_url()}
    assert node.call("DEL", down, connect=open_client) == (0, None)
    assert node.vf(slot) == RESET
    assert node.netdev(slot) in node.names(None)
    assert node.port(port["id"])["binding:host_id"] == HOST
    other = node.conf(port=node.new_port()["id"])
    assert node.call("DEL", other, container="c9") == (0, None)
    assert node.port(port["id"])["binding:host_id"] is None


def test_a_token_the_server_refuses_is_code_7_naming_its_source(node: Node) -> None:
    node.token_file("admin").write_text("not-a-token\n")
    status, error = node.call("ADD", node.conf(port="anything"))
    assert error is not None
    assert (status, error["code"], error["msg"][:10]) == (1, 7, "tokenFile:")
    env = {"VFNET_TOKEN": "not-a-token"}
    conf = {k: v for k, v in node.conf(port="anything").items() if k != "tokenFile"}
    _, error = node.call("ADD", conf, environ=env)
    assert error is not None and error["msg"].startswith("VFNET_TOKEN: the server")


def test_a_member_token_may_not_bind_and_is_told_so(node: Node) -> None:
    with node.client("member") as member:
        port = member.create_port({"network_id": node.network_id, "binding:vnic_type": "direct"})
    status, error = node.call(
        "ADD", node.conf(port=port["id"], tokenFile=str(node.token_file("member")))
    )
    assert error is not None
    assert (status, error["code"]) == (1, 7)
    assert error["msg"].startswith(f"tokenFile: the token may not bind port {port['id']}")
    assert node.port(port["id"])["binding:host_id"] is None


def test_the_hosts_agent_token_plugs_a_port_an_admin_bound_and_del_keeps_the_binding(
    node: Node,
) -> None:
    port = node.new_port(**{"binding:host_id": HOST})
    conf = node.conf(port=port["id"], tokenFile=str(node.token_file("agent")))
    status, result = node.call("ADD", conf)
    assert status == 0, result
    assert node.names(SANDBOX) == ["net1"]
    assert node.call("DEL", conf) == (0, None)
    assert node.names(SANDBOX) == []
    assert node.port(port["id"])["binding:host_id"] == HOST
