"""The vfnet-server command: token creation against the configured database, settings files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from vfnet.api.server import load_settings, main
from vfnet.errors import ConfigError, InvalidAlias
from vfnet.store import Store


@pytest.mark.parametrize(
    ("args", "scope"),
    [
        (["--role", "admin"], ("admin", None, None)),
        (["--role", "member", "--project", "blue"], ("member", "blue", None)),
        (["--role", "agent", "--host", "compute-1", "--name", "a1"], ("agent", None, "compute-1")),
    ],
)
def test_token_create_prints_a_token_the_database_knows(
    store: Store, database_url: str, args: list[str], scope: tuple[str, str | None, str | None]
) -> None:
    result = CliRunner().invoke(
        main, ["token", "create", *args, "--database-url", database_url], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    record = store.token_for(result.output.strip())
    assert record is not None
    assert (record.role, record.project, record.host) == scope


@pytest.mark.parametrize(
    "args",
    [["--role", "member"], ["--role", "agent"]],
    ids=["member without project", "agent without host"],
)
def test_token_create_refuses_a_token_without_its_scope(
    store: Store, database_url: str, args: list[str]
) -> None:
    result = CliRunner().invoke(main, ["token", "create", *args, "--database-url", database_url])
    assert result.exit_code == 1
    assert "needs a" in result.output
    assert store.list_tokens() == []


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("[server]\nmax_body_bytes = 0\n", "max_body_bytes"),
        ("[server]\nmax_body_size = 10\n", "max_body_size"),
        ("[database]\nurl = 'x'\n", "database"),
        ("[server\n", None),
        ("[network]\nbase_mac = '01:00:5e:00:00:00'\n", "base_mac"),
        ("[network]\nbase_mac = 'fa:16:3e'\n", "base_mac"),
        ("[network]\nbase_mac = 7\n", "base_mac"),
    ],
)
def test_a_bad_settings_file_is_refused_naming_the_field(
    tmp_path: Path, text: str, field: str | None
) -> None:
    path = tmp_path / "server.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_settings(path)
    assert refused.value.field == field


def test_a_settings_file_sets_the_body_limit(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text(
        "[server]\nmax_body_bytes = 2048\nplacement_attempts = 5\nmigration_timeout = 90\n"
    )
    settings = load_settings(path)
    assert (settings.max_body_bytes, settings.placement_attempts) == (2048, 5)
    assert settings.migration_timeout == 90


def test_a_settings_file_gives_the_server_its_aliases(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text(
        '[pci]\nalias = [\'{"name": "vf", "vendor_id": "8086", "product_id": "154c"}\']\n'
    )
    assert list(load_settings(path).aliases) == ["vf"]


def test_a_bad_alias_in_the_settings_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text('[pci]\nalias = [\'{"name": "vf", "vendor_id": "intel"}\']\n')
    with pytest.raises(InvalidAlias) as refused:
        load_settings(path)
    assert refused.value.field == "vendor_id"


def test_a_settings_file_sets_the_base_of_generated_macs(tmp_path: Path) -> None:
    path = tmp_path / "server.toml"
    path.write_text("[network]\nbase_mac = 'fa:16:3e:4f:00:00'\n")
    assert load_settings(path).base_mac.prefix == (0xFA, 0x16, 0x3E, 0x4F)
