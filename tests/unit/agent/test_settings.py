"""Agent settings: each bad option refused with its name and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from vfnet.agent.settings import AgentSettings, agent_settings
from vfnet.errors import ValidationError

CONFIG = Path("host.toml")


def _settings(**given: object) -> AgentSettings:
    options: dict[str, object] = {
        "config_path": CONFIG,
        "server_url": "http://vfnet:8080",
        "token": "secret",
        "token_file": None,
    }
    return agent_settings(**{**options, **given})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("given", "field", "reason"),
    [
        ({"server_url": None}, "--server", "required (or set VFNET_URL)"),
        ({"server_url": "vfnet:8080"}, "--server", "'vfnet:8080' is not an http(s) URL"),
        ({"token": None}, "--token", "required (or --token-file, or VFNET_AGENT_TOKEN)"),
        ({"driver": "dpdk"}, "--driver", "'dpdk' is not one of memory, eswitch, netlink"),
        ({"interval": 0.0}, "--interval", "must be more than 0 seconds, not 0"),
    ],
)
def test_a_bad_option_is_refused_with_its_name(
    given: dict[str, object], field: str, reason: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(**given)
    assert (refused.value.field, refused.value.reason) == (field, reason)


def test_the_token_can_come_from_a_file(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    settings = _settings(token=None, token_file=token_file)
    assert settings.token == "from-file"


def test_a_token_and_a_token_file_together_are_refused(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    with pytest.raises(ValidationError, match="not both"):
        _settings(token_file=token_file)


def test_an_unreadable_token_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as refused:
        _settings(token=None, token_file=tmp_path / "missing")
    assert refused.value.reason == "cannot read: No such file or directory"
