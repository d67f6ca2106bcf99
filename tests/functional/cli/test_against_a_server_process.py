"""The installed ``vfnet`` command against a real ``vfnet-server`` process, over HTTP.

One server for the module (it takes a second or two to start); the settings come from
VFNET_URL and VFNET_TOKEN as an operator would export them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from vfnet.lab.server import LabServer

VFNET = str(Path(sys.executable).parent / "vfnet")


@pytest.fixture(scope="module")
def environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    with LabServer(tmp_path_factory.mktemp("server")) as server:
        yield {**os.environ, "VFNET_URL": server.url, "VFNET_TOKEN": server.admin_token()}


def vfnet(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VFNET, *args], env=env, capture_output=True, text=True, check=False)


def test_the_seed_commands_work_over_http_with_settings_from_the_environment(
    environment: dict[str, str],
) -> None:
    created = vfnet(
        environment, "network", "create", "--provider-network-type", "flat",
        "--provider-physical-network", "physnet2", "flat-net", "--json",
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["provider:network_type"] == "flat"
    subnet = vfnet(environment, "subnet", "create", "--network", "flat-net",
                   "--subnet-range", "2001:db8::/64", "v6")  # fmt: skip
    assert subnet.returncode == 0, subnet.stderr
    port = vfnet(environment, "port", "create", "--network", "flat-net", "--vnic-type",
                 "macvtap", "p6", "--json")  # fmt: skip
    assert port.returncode == 0, port.stderr
    assert [ip["ip_address"] for ip in json.loads(port.stdout)["fixed_ips"]] == ["2001:db8::2"]


def test_a_refusal_from_the_server_is_one_line_on_stderr(environment: dict[str, str]) -> None:
    done = vfnet(
        environment, "network", "create", "--provider-network-type", "flat",
        "--provider-physical-network", "physnet9", "--provider-segment", "5", "bad",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == ("error: provider:segmentation_id: a flat network takes no segment id\n")
