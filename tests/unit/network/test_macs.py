"""MACs: generated under a base with an injected random source; given ones checked."""

from __future__ import annotations

import random

import pytest

from vfnet.errors import ConfigError, Conflict, ValidationError
from vfnet.network.macs import MacBase, check_mac_free, generate_mac, normalise_mac


class Counting:
    """A random source that answers 0, 1, 2, ... so collisions can be arranged."""

    def __init__(self) -> None:
        self.next = 0

    def getrandbits(self, k: int, /) -> int:
        value, self.next = self.next, self.next + 1
        return value % (1 << k)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("FA:16:3E:AA:BB:CC", "fa:16:3e:aa:bb:cc"),
        ("fa-16-3e-aa-bb-cc", "fa:16:3e:aa:bb:cc"),
        (" 02:00:00:00:00:01 ", "02:00:00:00:00:01"),
    ],
)
def test_a_given_mac_is_normalised_to_lower_case_colon_form(text, expected):
    assert normalise_mac(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("fa:16:3e:aa:bb", "not a MAC address"),
        ("fa:16:3e:aa:bb:cc:dd", "not a MAC address"),
        ("fa:16:3e-aa:bb:cc", "not a MAC address"),
        ("fa163eaabbcc", "not a MAC address"),
        ("fg:16:3e:aa:bb:cc", "not a MAC address"),
        ("01:00:5e:00:00:01", "multicast"),
        ("fb:16:3e:aa:bb:cc", "multicast"),
        ("ff:ff:ff:ff:ff:ff", "broadcast"),
        ("00:00:00:00:00:00", "all zeros"),
    ],
)
def test_a_malformed_or_non_unicast_mac_is_refused(text, words):
    with pytest.raises(ValidationError) as error:
        normalise_mac(text)
    assert error.value.field == "mac_address"
    assert words in error.value.reason


@pytest.mark.parametrize(
    ("base", "prefix"),
    [
        ("fa:16:3e:00:00:00", (0xFA, 0x16, 0x3E)),
        ("fa:16:3e:4f:00:00", (0xFA, 0x16, 0x3E, 0x4F)),
        ("02:00:00:00:00:00", (0x02, 0x00, 0x00)),
    ],
)
def test_the_base_keeps_three_octets_or_four_when_the_fourth_is_set(base, prefix):
    assert MacBase.parse(base).prefix == prefix


@pytest.mark.parametrize("base", ["01:00:5e:00:00:00", "fa:16:3e", "zz:16:3e:00:00:00"])
def test_a_bad_base_mac_is_a_config_error(base):
    with pytest.raises(ConfigError, match="base_mac"):
        MacBase.parse(base)


@pytest.mark.parametrize(
    ("base", "used", "expected"),
    [
        ("fa:16:3e:00:00:00", set(), "fa:16:3e:00:00:00"),
        ("fa:16:3e:00:00:00", {"fa:16:3e:00:00:00", "fa:16:3e:00:00:01"}, "fa:16:3e:00:00:02"),
        ("fa:16:3e:4f:00:00", {"fa:16:3e:4f:00:00"}, "fa:16:3e:4f:00:01"),
    ],
)
def test_a_generated_mac_keeps_the_base_and_skips_used_ones(base, used, expected):
    assert generate_mac(MacBase.parse(base), used, Counting()) == expected


def test_generated_macs_are_unicast_under_the_default_base():
    source = random.Random(7)
    base = MacBase.parse()
    macs = {generate_mac(base, set(), source) for _ in range(200)}
    assert all(normalise_mac(mac).startswith("fa:16:3e:") for mac in macs)
    assert len(macs) == 200


def test_generation_gives_up_with_a_conflict_on_a_crowded_network():
    used = {f"fa:16:3e:00:00:{i:02x}" for i in range(16)}
    with pytest.raises(Conflict, match="after 16 tries"):
        generate_mac(MacBase.parse(), used, Counting())


@pytest.mark.parametrize(
    ("mac", "used", "free"),
    [
        ("FA:16:3E:00:00:01", {"fa:16:3e:00:00:01"}, False),
        ("fa:16:3e:00:00:01", {"fa:16:3e:00:00:02"}, True),
    ],
)
def test_a_given_mac_must_be_unique_on_its_network(mac, used, free):
    if free:
        assert check_mac_free(mac, used) == mac.lower()
    else:
        with pytest.raises(Conflict, match="already used"):
            check_mac_free(mac, used)
