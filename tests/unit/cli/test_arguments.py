"""Structured option values read as openstack writes them, and refusals name what is wrong."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from vfnet.cli.arguments import (
    ALLOCATION_POOL,
    FIXED_IP,
    PROFILE,
    examples,
    given,
    parse_key_values,
    parse_profile,
)
from vfnet.cli.commands.subnets import gateway_field


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start=192.0.2.10,end=192.0.2.20", {"start": "192.0.2.10", "end": "192.0.2.20"}),
        ("end=192.0.2.20, start=192.0.2.10", {"start": "192.0.2.10", "end": "192.0.2.20"}),
        ("start=2001:db8::10,end=2001:db8::ff", {"start": "2001:db8::10", "end": "2001:db8::ff"}),
    ],
)
def test_an_allocation_pool_reads_start_and_end(text: str, expected: dict[str, str]) -> None:
    assert parse_key_values(text, ("start", "end"), ("start", "end")) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("subnet=sub1,ip-address=192.0.2.5", {"subnet": "sub1", "ip_address": "192.0.2.5"}),
        ("ip-address=192.0.2.5", {"ip_address": "192.0.2.5"}),
        ("subnet=sub1", {"subnet": "sub1"}),
    ],
)
def test_a_fixed_ip_reads_its_subnet_and_address_with_api_spelling(
    text: str, expected: dict[str, str]
) -> None:
    assert parse_key_values(text, ("subnet", "ip-address")) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("start=192.0.2.10", "end is required"),
        (",", "'' is not key=value"),
        ("192.0.2.10-192.0.2.20", "'192.0.2.10-192.0.2.20' is not key=value"),
        ("start=1,end=2,step=3", "unknown key 'step'; use start, end"),
        ("start=1,start=2,end=3", "'start' is given twice"),
        ("=1,end=2", "'=1' is not key=value"),
    ],
)
def test_a_malformed_allocation_pool_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_key_values(text, ("start", "end"), ("start", "end"))
    assert str(raised.value) == reason


def test_an_empty_pair_list_is_not_taken_for_no_fixed_ip() -> None:
    with pytest.raises(ValueError, match="'' is not key=value"):
        parse_key_values("", ("subnet", "ip-address"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("trusted=true", {"trusted": "true"}),
        ('{"trusted": true, "capabilities": ["switchdev"]}',
         {"trusted": True, "capabilities": ["switchdev"]}),
        ("trusted=false,other=x", {"trusted": "false", "other": "x"}),
    ],
)  # fmt: skip
def test_a_binding_profile_is_pairs_or_a_json_object(
    text: str, expected: dict[str, object]
) -> None:
    assert parse_profile(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("trusted", "'trusted' is not key=value (or give a JSON object)"),
        ('{"trusted": tru}', "not valid JSON: Expecting value at column 13"),
        ("[true]", "'[true]' is not key=value (or give a JSON object)"),
    ],
)
def test_a_malformed_binding_profile_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_profile(text)
    assert str(raised.value) == reason


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (None, {}),
        ("auto", {}),
        ("none", {"gateway_ip": None}),
        ("None", {"gateway_ip": None}),
        ("192.0.2.254", {"gateway_ip": "192.0.2.254"}),
    ],
)
def test_gateway_words_become_the_api_field(text: str | None, field: dict[str, object]) -> None:
    assert gateway_field(text) == field


def test_given_keeps_only_the_options_the_user_gave() -> None:
    assert given(name=None, shared=False, admin_state_up=True) == {
        "shared": False,
        "admin_state_up": True,
    }


def test_examples_are_kept_one_per_line() -> None:
    assert examples("vfnet a", "vfnet b") == "Examples:\n\n\b\n  vfnet a\n  vfnet b"
    assert examples("vfnet a").startswith("Example:\n")


@click.command()
@click.option("--allocation-pool", "pools", type=ALLOCATION_POOL, multiple=True)
@click.option("--fixed-ip", "fixed_ips", type=FIXED_IP, multiple=True)
@click.option("--binding-profile", "profile", type=PROFILE)
def echo_values(pools: tuple[dict[str, str], ...], fixed_ips: object, profile: object) -> None:
    click.echo(repr((pools, fixed_ips, profile)))


def test_repeated_options_collect_each_value_in_order() -> None:
    result = CliRunner().invoke(
        echo_values,
        ["--allocation-pool", "start=10.0.0.2,end=10.0.0.9",
         "--allocation-pool", "start=10.0.0.20,end=10.0.0.29",
         "--fixed-ip", "subnet=s1", "--binding-profile", "trusted=true"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (
        result.output
        == repr(
            (
                (
                    {"start": "10.0.0.2", "end": "10.0.0.9"},
                    {"start": "10.0.0.20", "end": "10.0.0.29"},
                ),
                ({"subnet": "s1"},),
                {"trusted": "true"},
            )
        )
        + "\n"
    )


def test_a_bad_option_value_is_a_usage_error_naming_the_option() -> None:
    result = CliRunner().invoke(echo_values, ["--allocation-pool", "start=10.0.0.2"])
    assert result.exit_code == 2
    assert "Invalid value for '--allocation-pool': end is required" in result.output
