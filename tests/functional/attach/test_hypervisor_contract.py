"""What every Hypervisor does, checked on the memory one and on libvirt's test driver alike."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from vfnet.agent.attach.domain_xml import (
    HostdevInterface,
    MacvtapInterface,
    PciHostdev,
    VdpaInterface,
    device_xml,
)
from vfnet.agent.attach.domain_xml_edit import plugged
from vfnet.agent.attach.hypervisor import DomainState, Hypervisor, Plugged
from vfnet.agent.attach.memory_hypervisor import MemoryHypervisor
from vfnet.errors import Conflict, NotFound
from vfnet.pci.address import PciAddress

from .conftest import DefineDomain, make_domain_definer

VF = HostdevInterface(PciAddress.parse("0000:3b:02.1"), "52:54:00:6d:90:02", vlan=100)
MACVTAP = MacvtapInterface("ens1f0v3", "52:54:00:6d:90:03")
VDPA = VdpaInterface("/dev/vhost-vdpa-0", "52:54:00:6d:90:04")
PF = PciHostdev(PciAddress.parse("0000:3b:00.0"))


def test_a_defined_domain_is_shut_off_until_started_and_destroy_stops_it(
    hypervisor: Hypervisor, define_domain: DefineDomain
) -> None:
    name = define_domain(VF)
    assert name in hypervisor.names()
    assert hypervisor.state(name) is DomainState.SHUT_OFF

    hypervisor.start(name)
    assert hypervisor.state(name) is DomainState.RUNNING

    hypervisor.destroy(name)
    hypervisor.destroy(name)  # stopping a stopped domain changes nothing
    assert hypervisor.state(name) is DomainState.SHUT_OFF


def test_an_undefined_domain_is_gone(hypervisor: Hypervisor, define_domain: DefineDomain) -> None:
    name = define_domain()

    hypervisor.undefine(name)

    assert name not in hypervisor.names()
    with pytest.raises(NotFound):
        hypervisor.state(name)


def test_a_running_domain_is_not_undefined(
    hypervisor: Hypervisor, define_domain: DefineDomain
) -> None:
    name = define_domain()
    hypervisor.start(name)

    with pytest.raises(Conflict, match="destroy it before"):
        hypervisor.undefine(name)
    assert hypervisor.state(name) is DomainState.RUNNING


@pytest.mark.parametrize(
    ("setup", "call"),
    [
        (["start"], "start"),
        ([], "suspend"),
        (["start"], "resume"),
        ([], "pause"),
        (["start"], "unpause"),
        (["start", "pause"], "pause"),
    ],
)
def test_a_call_the_domain_state_does_not_allow_is_a_conflict(
    hypervisor: Hypervisor, define_domain: DefineDomain, setup: list[str], call: str
) -> None:
    name = define_domain()
    for step in setup:
        getattr(hypervisor, step)(name)
    before = hypervisor.state(name)

    with pytest.raises(Conflict, match=f"{name}: is {before.value}"):
        getattr(hypervisor, call)(name)
    assert hypervisor.state(name) is before


def test_a_suspended_domain_is_saved_and_resumes_running(
    hypervisor: Hypervisor, define_domain: DefineDomain
) -> None:
    name = define_domain(MACVTAP)
    hypervisor.start(name)

    hypervisor.suspend(name)
    assert hypervisor.state(name) is DomainState.SAVED

    hypervisor.resume(name)
    assert hypervisor.state(name) is DomainState.RUNNING
    assert plugged(hypervisor.xml(name)) == ["mac 52:54:00:6d:90:03"]


def test_a_paused_domain_runs_again_when_unpaused(
    hypervisor: Hypervisor, define_domain: DefineDomain
) -> None:
    name = define_domain()
    hypervisor.start(name)

    hypervisor.pause(name)
    assert hypervisor.state(name) is DomainState.PAUSED
    hypervisor.unpause(name)
    assert hypervisor.state(name) is DomainState.RUNNING


def test_a_device_attached_to_a_shut_off_domain_is_in_its_configuration(
    hypervisor: Hypervisor, define_domain: DefineDomain
) -> None:
    name = define_domain(VF)

    assert hypervisor.attach(name, device_xml(PF)) is Plugged.CONFIG

    assert plugged(hypervisor.xml(name)) == ["mac 52:54:00:6d:90:02", "pci 0000:3b:00.0"]


def test_without_hot_plug_a_running_guest_sees_an_attached_device_after_its_next_start(
    hypervisor: Hypervisor, define_domain: DefineDomain
) -> None:
    name = define_domain(VF)
    hypervisor.start(name)

    assert hypervisor.attach(name, device_xml(VDPA)) is Plugged.CONFIG

    assert plugged(hypervisor.xml(name)) == ["mac 52:54:00:6d:90:02"]
    assert "mac 52:54:00:6d:90:04" in plugged(hypervisor.xml(name, inactive=True))
    hypervisor.destroy(name)
    hypervisor.start(name)
    assert plugged(hypervisor.xml(name)) == ["mac 52:54:00:6d:90:02", "mac 52:54:00:6d:90:04"]


def test_a_detached_device_leaves_the_configuration_and_the_rest_stays(
    hypervisor: Hypervisor, define_domain: DefineDomain
) -> None:
    name = define_domain(VF, MACVTAP, VDPA)
    hypervisor.start(name)

    assert hypervisor.detach(name, device_xml(MACVTAP)) is Plugged.CONFIG

    hypervisor.destroy(name)
    hypervisor.start(name)
    assert plugged(hypervisor.xml(name)) == ["mac 52:54:00:6d:90:02", "mac 52:54:00:6d:90:04"]


def test_attaching_a_device_twice_is_a_conflict_and_detaching_a_missing_one_not_found(
    hypervisor: Hypervisor, define_domain: DefineDomain
) -> None:
    name = define_domain(VF)

    with pytest.raises(Conflict, match="mac 52:54:00:6d:90:02"):
        hypervisor.attach(name, device_xml(VF))
    with pytest.raises(NotFound) as missing:
        hypervisor.detach(name, device_xml(VDPA))
    assert missing.value.kind == "device"
    assert plugged(hypervisor.xml(name)) == ["mac 52:54:00:6d:90:02"]


def test_a_name_keeps_its_uuid(hypervisor: Hypervisor, define_domain: DefineDomain) -> None:
    name = define_domain(VF)
    other = hypervisor.xml(name, inactive=True).replace(
        hypervisor.xml(name).split("<uuid>")[1].split("</uuid>")[0], str(uuid.uuid4())
    )

    with pytest.raises(Conflict, match="already exists with uuid"):
        hypervisor.define(other)


OPERATIONS: dict[str, Callable[[Hypervisor, str], object]] = {
    "state": lambda h, n: h.state(n),
    "xml": lambda h, n: h.xml(n),
    "start": lambda h, n: h.start(n),
    "destroy": lambda h, n: h.destroy(n),
    "undefine": lambda h, n: h.undefine(n),
    "attach": lambda h, n: h.attach(n, device_xml(VF)),
    "detach": lambda h, n: h.detach(n, device_xml(VF)),
    "suspend": lambda h, n: h.suspend(n),
    "resume": lambda h, n: h.resume(n),
    "pause": lambda h, n: h.pause(n),
}


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_every_operation_on_an_unknown_domain_names_it_as_not_found(
    hypervisor: Hypervisor, operation: Callable[[Hypervisor, str], object]
) -> None:
    with pytest.raises(NotFound) as missing:
        operation(hypervisor, "vfnet-test-never-defined")

    assert (missing.value.kind, missing.value.ident) == ("domain", "vfnet-test-never-defined")


def test_a_hypervisor_that_can_hot_plug_changes_the_running_guest_at_once() -> None:
    hypervisor = MemoryHypervisor(hot_plug=True)
    for define in make_domain_definer(hypervisor):
        name = define(VF)
        hypervisor.start(name)

        assert hypervisor.attach(name, device_xml(VDPA)) is Plugged.LIVE
        assert plugged(hypervisor.xml(name)) == ["mac 52:54:00:6d:90:02", "mac 52:54:00:6d:90:04"]
        assert hypervisor.detach(name, device_xml(VF)) is Plugged.LIVE
        assert plugged(hypervisor.xml(name)) == ["mac 52:54:00:6d:90:04"]
        assert plugged(hypervisor.xml(name, inactive=True)) == ["mac 52:54:00:6d:90:04"]
