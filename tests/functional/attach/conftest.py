"""Hypervisors for the attach tests: in memory, and libvirt's in-process test driver.

libvirt's ``test:///default`` keeps its domains while any connection to it is open in
the process, so every domain a test defines gets a unique name and is destroyed and
undefined afterwards, whatever the test did.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from vfnet.agent.attach.domain_xml import Device, Domain, domain_xml
from vfnet.agent.attach.hypervisor import Hypervisor
from vfnet.agent.attach.memory_hypervisor import MemoryHypervisor
from vfnet.errors import NotFound

TEST_DRIVER = "test:///default"
NO_LIBVIRT = "libvirt-python is not importable (scripts/bootstrap installs it with libvirt-dev)"

DefineDomain = Callable[..., str]


@pytest.fixture
def libvirt_test_driver() -> Iterator[Hypervisor]:
    module = pytest.importorskip("vfnet.agent.attach.libvirt_hypervisor", reason=NO_LIBVIRT)
    with module.LibvirtHypervisor(TEST_DRIVER) as hypervisor:
        yield hypervisor


@pytest.fixture(params=["memory", "libvirt"])
def hypervisor(request: pytest.FixtureRequest) -> Iterator[Hypervisor]:
    """Each behaviour both implementations share, checked on both. The memory one
    cannot hot-plug here, as the test driver cannot."""
    if request.param == "memory":
        yield MemoryHypervisor(hot_plug=False)
        return
    yield request.getfixturevalue("libvirt_test_driver")


def make_domain_definer(hypervisor: Hypervisor) -> Iterator[DefineDomain]:
    defined: list[str] = []

    def define(*devices: Device, memory_mib: int = 256, vcpus: int = 1) -> str:
        name = f"vfnet-test-{uuid.uuid4().hex[:12]}"
        defined.append(name)
        domain = Domain(name, uuid.uuid4(), memory_mib, vcpus, devices=devices)
        return hypervisor.define(domain_xml(domain))

    yield define
    for name in defined:
        try:
            hypervisor.destroy(name)
            hypervisor.undefine(name)  # with its saved image, if it has one
        except NotFound:
            pass  # the test undefined it itself
    assert not set(defined) & set(hypervisor.names()), "a test domain outlived its test"


@pytest.fixture
def define_domain(hypervisor: Hypervisor) -> Iterator[DefineDomain]:
    """Defines a uniquely named domain with the given devices; all are gone afterwards."""
    yield from make_domain_definer(hypervisor)
