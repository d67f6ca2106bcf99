"""PCI requests refuse impossible counts and unknown NUMA policies."""

from __future__ import annotations

import pytest

from vfnet.errors import ValidationError
from vfnet.inventory.requests import NumaPolicy, PciRequest


@pytest.mark.parametrize("count", [0, -1, -64, True, 1.5, "2", None])
def test_a_request_refuses_counts_that_are_not_whole_positive_numbers(count: object) -> None:
    with pytest.raises(ValidationError) as refused:
        PciRequest(count, ({},))  # type: ignore[arg-type]
    assert refused.value.field == "count"


@pytest.mark.parametrize("specs", [{"vendor_id": "8086"}, "type-VF", None])
def test_a_request_refuses_specs_that_are_not_a_list_of_dicts(specs: object) -> None:
    with pytest.raises(ValidationError, match="specs"):
        PciRequest(1, specs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        (None, NumaPolicy.LEGACY),
        ("", NumaPolicy.LEGACY),
        ("required", NumaPolicy.REQUIRED),
        ("legacy", NumaPolicy.LEGACY),
        ("preferred", NumaPolicy.PREFERRED),
        ("socket", NumaPolicy.SOCKET),
    ],
)
def test_numa_policies_parse_with_legacy_as_the_default(
    text: str | None, policy: NumaPolicy
) -> None:
    assert NumaPolicy.parse(text) is policy


@pytest.mark.parametrize("typo", ["prefered", "Required", "strict", "sockets", " legacy"])
def test_a_numa_policy_typo_is_refused_with_the_allowed_values(typo: str) -> None:
    with pytest.raises(
        ValidationError, match="use one of required, legacy, preferred, socket"
    ) as e:
        NumaPolicy.parse(typo, field="flavor:hw:pci_numa_affinity_policy")
    assert e.value.field == "flavor:hw:pci_numa_affinity_policy"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ({"physical_network": "physnet1"}, {"physical_network": "physnet1"}, True),
        ({"a": "1", "b": None}, {"b": None, "a": "1"}, True),
        ({"numa_node": "0"}, {"numa_node": 0}, False),
        ({"physical_network": None}, {}, False),
        ({"traits": ["X", "Y"]}, {"traits": ["Y", "X"]}, True),
    ],
)
def test_requests_with_equal_specs_share_a_spec_key(a: dict, b: dict, same: bool) -> None:
    assert (PciRequest(1, (a,)).spec_key == PciRequest(2, [b]).spec_key) is same
