"""``vfnet-server serve --workers N --no-access-log``: several processes answer one port."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

import httpx

from vfnet.client import Client
from vfnet.lab.server import server_command

NETWORK = {
    "name": "net",
    "provider:network_type": "vlan",
    "provider:physical_network": "physnet1",
    "provider:segmentation_id": 100,
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _token(database_url: str) -> str:
    done = subprocess.run(
        [server_command(), "token", "create", "--role", "admin", "--database-url", database_url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "vfnet-server exited at start"
        try:
            httpx.get(f"{url}/v1/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("vfnet-server did not answer within 30s")


def test_two_workers_share_the_database_and_log_no_request_lines(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'vfnet.db'}"
    token = _token(database_url)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [server_command(), "serve", "--port", str(port), "--database-url", database_url,
             "--workers", "2", "--no-access-log"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_up(url, process)
        with Client(url, token) as client:
            network = client.create_network(NETWORK)
            client.create_subnet({"name": "s", "network_id": network["id"], "cidr": "10.0.0.0/29"})
            made = [client.create_port({"network_id": network["id"]}) for _ in range(5)]
            listed = client.list_ports(network_id=network["id"])
    finally:
        process.terminate()
        process.wait(timeout=15)
    addresses = sorted(port["fixed_ips"][0]["ip_address"] for port in made)
    assert addresses == [f"10.0.0.{n}" for n in range(2, 7)]
    assert len(listed) == 5
    text = log.read_text()
    assert text.count("Started server process") == 2
    assert "POST /v1/ports" not in text
