"""The kernel's attribute formats parse into the model's spellings."""

from __future__ import annotations

import pytest

from vfnet.discovery.formats import (
    Modalias,
    hex_value,
    parse_carrier,
    parse_modalias,
    parse_numa_node,
    representor_vf,
    virtfn_index,
)


@pytest.mark.parametrize(
    ("text", "digits", "expected"),
    [
        ("0x8086", 4, "8086"),
        ("0x10C9", 4, "10c9"),
        ("10ca", 4, "10ca"),  # sriov_vf_device: %x, no 0x
        ("0x10ca", 4, "10ca"),  # the proposed 0x%04x form
        ("154c\n", 4, "154c"),
        ("0", 4, "0000"),
        ("0x020000", 6, "020000"),
        ("0x01", 2, "01"),
        ("0x123456", 4, None),
        ("0xzz", 2, None),
        ("", 4, None),
        ("0x", 4, None),
    ],
)
def test_hex_attributes_are_read_as_lower_case_fixed_width(
    text: str, digits: int, expected: str | None
) -> None:
    assert hex_value(text, digits) == expected


def test_a_modalias_gives_ids_and_class_lower_cased() -> None:
    assert parse_modalias("pci:v00008086d000010C9sv00001AF4sd00001100bc02sc00i00\n") == Modalias(
        vendor_id="8086",
        product_id="10c9",
        subsystem_vendor_id="1af4",
        subsystem_device_id="1100",
        class_code="020000",
    )


@pytest.mark.parametrize(
    "text",
    ["", "pci:v00008086", "usb:v046Dp0825d0010dcEFdsc02dp01ic0Eisc01ip00in00", "pci:vXXXX"],
)
def test_a_modalias_that_is_not_pci_is_refused(text: str) -> None:
    assert parse_modalias(text) is None


@pytest.mark.parametrize(("text", "node"), [("0", 0), ("1", 1), ("-1", None)])
def test_numa_node_minus_one_means_no_topology(text: str, node: int | None) -> None:
    assert parse_numa_node(text) == node


@pytest.mark.parametrize(("text", "carrier"), [("1", True), ("0", False), ("", None)])
def test_carrier_is_a_boolean_or_unknown(text: str, carrier: bool | None) -> None:
    assert parse_carrier(text) is carrier


@pytest.mark.parametrize(
    ("phys_port_name", "vf"),
    [
        ("pf0vf3", 3),
        ("pf1vf12", 12),
        ("c1pf0vf3", 3),  # DPU Arm side: controller prefix
        ("p0", None),  # uplink
        ("pf0hpf", None),  # host PF representor
        ("pf0sf88", None),  # sub-function representor
        (None, None),
        ("", None),
    ],
)
def test_representor_names_say_which_vf_they_stand_for(
    phys_port_name: str | None, vf: int | None
) -> None:
    assert representor_vf(phys_port_name) == vf


@pytest.mark.parametrize(
    ("name", "index"),
    [("virtfn0", 0), ("virtfn10", 10), ("virtfn255", 255), ("virtfn", None), ("vendor", None)],
)
def test_virtfn_links_are_numbered_in_decimal(name: str, index: int | None) -> None:
    assert virtfn_index(name) == index
