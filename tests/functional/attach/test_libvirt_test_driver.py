"""vfnet's VMs through real libvirt: its parser, its schema check, and its test:///default driver.

The test driver runs inside libvirt.so in this process (no daemon) and cannot hot-plug
(``VIR_ERR_NO_SUPPORT``), so attach and detach take the define-based fallback here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from vfnet.agent.attach.domain_xml import (
    BridgeInterface,
    Domain,
    HostdevInterface,
    MacvtapInterface,
    NumaCell,
    PciHostdev,
    VdpaInterface,
    device_xml,
    domain_xml,
)
from vfnet.agent.attach.domain_xml_edit import plugged
from vfnet.agent.attach.hypervisor import DomainState, Hypervisor, Plugged
from vfnet.errors import DriverError, ValidationError
from vfnet.pci.address import PciAddress

from .conftest import NO_LIBVIRT, DefineDomain, make_domain_definer

libvirt_hypervisor = pytest.importorskip("vfnet.agent.attach.libvirt_hypervisor", reason=NO_LIBVIRT)

DIRECT = HostdevInterface(PciAddress.parse("0000:3b:02.1"), "52:54:00:6d:90:02", vlan=100)
MACVTAP = MacvtapInterface("ens1f0v3", "52:54:00:6d:90:03")
VDPA = VdpaInterface("/dev/vhost-vdpa-0", "52:54:00:6d:90:04")
SECOND_VF = HostdevInterface(PciAddress.parse("0000:3b:02.2"), "52:54:00:6d:90:05")
MACS = ["mac 52:54:00:6d:90:02", "mac 52:54:00:6d:90:03", "mac 52:54:00:6d:90:04"]


@pytest.fixture
def driver(libvirt_test_driver: Hypervisor) -> Hypervisor:
    return libvirt_test_driver


@pytest.fixture
def define_vm(driver: Hypervisor) -> Iterator[DefineDomain]:
    yield from make_domain_definer(driver)


def test_a_vm_with_direct_macvtap_and_vdpa_ports_lives_its_whole_life_in_libvirt(
    driver: Hypervisor, define_vm: DefineDomain
) -> None:
    name = define_vm(DIRECT, MACVTAP, VDPA)
    driver.start(name)
    assert plugged(driver.xml(name)) == MACS

    assert driver.attach(name, device_xml(SECOND_VF)) is Plugged.CONFIG
    assert driver.detach(name, device_xml(MACVTAP)) is Plugged.CONFIG
    assert plugged(driver.xml(name)) == MACS  # the running guest is as it was

    driver.suspend(name)
    assert driver.state(name) is DomainState.SAVED
    driver.resume(name)
    assert driver.state(name) is DomainState.RUNNING

    driver.destroy(name)
    driver.start(name)  # a fresh boot takes the changed configuration
    assert plugged(driver.xml(name)) == [MACS[0], MACS[2], "mac 52:54:00:6d:90:05"]

    driver.destroy(name)
    driver.undefine(name)
    assert name not in driver.names()


def test_the_fallback_keeps_everything_else_the_domain_had(
    driver: Hypervisor, define_vm: DefineDomain
) -> None:
    name = define_vm(DIRECT, memory_mib=768, vcpus=2)
    before = driver.xml(name, inactive=True)

    driver.attach(name, device_xml(VDPA))
    driver.detach(name, device_xml(VDPA))

    assert driver.xml(name, inactive=True) == before


def test_libvirt_starts_a_vm_with_every_device_vfnet_writes_and_numa_cells(
    driver: Hypervisor,
) -> None:
    name = f"vfnet-test-{uuid.uuid4().hex[:12]}"
    devices = (
        DIRECT,
        MACVTAP,
        VDPA,
        PciHostdev(PciAddress.parse("0000:3b:00.0")),  # a PF for direct-physical
        PciHostdev(PciAddress.parse("0000:af:00.0")),  # a GPU from a flavor alias
        BridgeInterface("br-physnet1", "tap0b7e5a21-c4", "52:54:00:6d:90:06", mtu=1450),
    )
    cells = (NumaCell((0, 1), 512), NumaCell((2, 3), 512))
    xml = domain_xml(Domain(name, uuid.uuid4(), 1024, 4, cells, devices))
    try:
        driver.define(xml)
        driver.start(name)

        # libvirt writes interfaces before hostdevs, whatever the order it was given.
        assert plugged(driver.xml(name)) == [
            *MACS,
            "mac 52:54:00:6d:90:06",
            "pci 0000:3b:00.0",
            "pci 0000:af:00.0",
        ]
        assert '<cell id="1" cpus="2-3"' in driver.xml(name).replace("'", '"')
    finally:
        driver.destroy(name)
        driver.undefine(name)


@pytest.mark.parametrize(
    ("defect", "before", "after"),
    [
        ("vlan tag over 4095 (schema)", '<tag id="100" />', '<tag id="5000" />'),
        ("macvtap mode (schema)", 'mode="passthrough"', 'mode="switchdev"'),
        ("the same VF twice (libvirt's parser)", "</devices>", device_xml(DIRECT) + "</devices>"),
    ],
)
def test_xml_libvirt_refuses_is_a_validation_error_and_defines_nothing(
    driver: Hypervisor, defect: str, before: str, after: str
) -> None:
    name = f"vfnet-test-{uuid.uuid4().hex[:12]}"
    xml = domain_xml(Domain(name, uuid.uuid4(), 256, 1, devices=(DIRECT, MACVTAP)))
    assert before in xml, defect

    with pytest.raises(ValidationError) as refused:
        driver.define(xml.replace(before, after, 1))

    assert refused.value.field == "domain_xml"
    assert name not in driver.names()


def test_an_unreachable_libvirt_is_a_driver_error_naming_the_uri() -> None:
    uri = "test:///nonexistent/vfnet-no-such-file.xml"

    with pytest.raises(DriverError, match=uri):
        libvirt_hypervisor.LibvirtHypervisor(uri)
