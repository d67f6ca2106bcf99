"""Fixtures of the agent's process tests: one vfnet-server per module, a host per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.functional.agent.processes import Host, Running, eventually, make_host
from vfnet.client import Client
from vfnet.lab.server import LabServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LabServer, Client]]:
    lab = LabServer(tmp_path_factory.mktemp("agent-server"))
    with lab, Client(lab.url, lab.admin_token()) as admin:
        yield lab, admin


@pytest.fixture
def host(server: tuple[LabServer, Client], tmp_path: Path) -> Host:
    return make_host(*server, tmp_path)


@pytest.fixture
def running(host: Host, tmp_path: Path) -> Iterator[Running]:
    """A looping agent on ``host``, its four VFs reported; stopped cleanly at the end."""
    agent = Running(host, tmp_path / "agent.log")
    try:
        eventually(lambda: len(host.devices()) == 4, agent.log_path)
        yield agent
    finally:
        code = agent.stop()
    assert code == 0, agent.log()


@pytest.fixture
def looping(running: Running) -> Path:
    """A looping agent on ``host``; its log file."""
    return running.log_path
