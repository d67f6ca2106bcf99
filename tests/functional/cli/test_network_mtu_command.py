"""``vfnet network create|update --mtu`` against the API in-process over a real store."""

from __future__ import annotations

from tests.functional.cli.test_network_commands import SEED_NETWORK, Vfnet, fields, vfnet  # noqa: F401


def test_a_network_created_with_mtu_shows_it_and_without_shows_1500(vfnet: Vfnet) -> None:  # noqa: F811
    assert fields(vfnet.ok(*SEED_NETWORK))["mtu"] == "1500"
    jumbo = [*SEED_NETWORK[:-2], "200", "--mtu", "9000", "jumbo"]
    assert fields(vfnet.ok(*jumbo))["mtu"] == "9000"
    listed = vfnet.ok("network", "list").stdout.splitlines()
    assert listed[0].split()[5] == "MTU"
    assert sorted(line.split()[5] for line in listed[1:]) == ["1500", "9000"]


def test_update_mtu_changes_it(vfnet: Vfnet) -> None:  # noqa: F811
    vfnet.ok(*SEED_NETWORK)
    assert fields(vfnet.ok("network", "update", "net1", "--mtu", "1450"))["mtu"] == "1450"


def test_a_bad_mtu_is_one_line_naming_mtu(vfnet: Vfnet) -> None:  # noqa: F811
    result = vfnet(*SEED_NETWORK[:-1], "--mtu", "20", "net1")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: mtu: ")
    assert "68" in result.stderr
