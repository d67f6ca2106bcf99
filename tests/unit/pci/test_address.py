"""PciAddress: the kernel's dddd:bb:ss.f form, parsed strictly and printed normalised."""

import pytest

from vfnet.errors import InvalidPciAddress
from vfnet.pci.address import PciAddress


@pytest.mark.parametrize(
    ("text", "printed"),
    [
        ("0000:3b:02.0", "0000:3b:02.0"),
        ("0000:3B:02.7", "0000:3b:02.7"),
        ("0:a:0.1", "0000:0a:00.1"),
        ("ffff:ff:1f.7", "ffff:ff:1f.7"),
        (" 0000:00:03.0\n", "0000:00:03.0"),
    ],
)
def test_an_address_prints_in_the_kernels_form(text, printed):
    assert str(PciAddress.parse(text)) == printed


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0000:0a:00.8", "function 0x8 is greater than 7"),
        ("0000:0a:20.0", "slot 0x20 is greater than 0x1f"),
        ("10000:00:00.0", "32-bit PCI domains are not supported"),
        (":::", "expected domain:bus:slot.function"),
        ("0000:0a:00", "expected domain:bus:slot.function"),
        ("0a:00.0", "expected domain:bus:slot.function"),
        ("0000:0a:0*.0", "expected domain:bus:slot.function"),
        ("0000:xy:00.0", "expected domain:bus:slot.function"),
        ("", "expected domain:bus:slot.function"),
    ],
)
def test_a_malformed_address_is_refused_with_the_reason(text, reason):
    with pytest.raises(InvalidPciAddress) as refused:
        PciAddress.parse(text)
    assert reason in str(refused.value)
    assert refused.value.text == text


def test_vf_addresses_follow_from_the_routing_id():
    pf = PciAddress.parse("0000:3b:00.0")
    # X710 PF function 0: first VF at offset 16, stride 1.
    assert [str(PciAddress.from_rid(0, pf.rid + 16 + n)) for n in (0, 1, 8)] == [
        "0000:3b:02.0",
        "0000:3b:02.1",
        "0000:3b:03.0",
    ]


def test_a_routing_id_past_the_last_bus_is_refused():
    with pytest.raises(InvalidPciAddress):
        PciAddress.from_rid(0, 0x10000)


def test_addresses_order_by_domain_bus_slot_function():
    texts = ["0000:3b:10.0", "0000:3b:02.1", "0000:0a:00.0", "0001:00:00.0"]
    ordered = sorted(PciAddress.parse(t) for t in texts)
    assert [str(a) for a in ordered] == [
        "0000:0a:00.0",
        "0000:3b:02.1",
        "0000:3b:10.0",
        "0001:00:00.0",
    ]
