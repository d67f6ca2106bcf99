"""Commands that talk to the server say in one line what is missing or unreachable."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

from vfnet.cli.connection import reason
from vfnet.cli.main import cli

NO_SERVER = {"VFNET_URL": None, "VFNET_TOKEN": None}


@pytest.mark.parametrize(
    "command",
    [["network", "list"], ["subnet", "show", "sub1"], ["port", "delete", "p1"], ["qos", "list"]],
)
def test_without_a_url_a_command_says_how_to_give_one(
    runner: CliRunner, command: list[str]
) -> None:
    result = runner.invoke(cli, command, env=NO_SERVER)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: no server given: set VFNET_URL or pass --url\n",
    )


def test_without_a_token_a_command_says_how_to_give_one(runner: CliRunner) -> None:
    result = runner.invoke(
        cli, ["network", "list", "--url", "http://127.0.0.1:8775"], env=NO_SERVER
    )
    assert (result.exit_code, result.stderr) == (
        2,
        "error: no token given: set VFNET_TOKEN or pass --token\n",
    )


def test_a_url_without_a_scheme_is_refused_as_input(runner: CliRunner) -> None:
    env = {"VFNET_URL": "127.0.0.1:8775", "VFNET_TOKEN": "t"}
    result = runner.invoke(cli, ["network", "list"], env=env)
    assert (result.exit_code, result.stderr) == (
        2,
        "error: --url '127.0.0.1:8775': use http:// or https://\n",
    )


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "connection refused"),
        (httpx.ConnectTimeout("timed out"), "no answer in time"),
        (httpx.RemoteProtocolError("Server disconnected"), "server disconnected"),
    ],
)
def test_a_transport_error_reads_as_words(error: httpx.TransportError, text: str) -> None:
    assert reason(error) == text
