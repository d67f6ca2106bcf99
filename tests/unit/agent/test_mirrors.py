"""Port mirroring (``mirror_to``): read, planned per PF, set by drivers that can mirror."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from vfnet.agent.desired import parse_desired
from vfnet.agent.drivers.memory import MemoryDriver
from vfnet.agent.plan import MirrorChange, PortState, plan_mirrors
from vfnet.agent.reconcile import reconcile
from vfnet.errors import DriverError, ValidationError
from vfnet.pci.address import PciAddress

from .states import FULL, desired, layout, vf_address
from .test_desired import DOCUMENT, VF

PFS = {"ens1f0": 4, "ens2f0": 4}
DEVICES = layout(PFS)
A, B, C = vf_address(0, 0), vf_address(0, 1), vf_address(1, 2)


class MirroringDriver(MemoryDriver):
    """A memory driver that can also mirror, as the eswitch does: it records each call."""

    name = "mirroring"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.mirrors: dict[tuple[str, int], int | None] = {}
        self.calls = 0

    def mirror(self, pf: str, vf: int, to_vf: int | None) -> None:
        if pf not in self.tables:
            raise DriverError(f"PF {pf} is not on host test")
        self.calls += 1
        self.mirrors[(pf, vf)] = to_vf


def mirroring(claimed: dict, mirror_to: dict, **options: object):
    state = desired(claimed, **options)
    vfs = {a: dataclasses.replace(c, mirror_to=mirror_to.get(a)) for a, c in state.claimed.items()}
    return dataclasses.replace(state, claimed=vfs)


def test_a_document_s_mirror_to_is_read_and_written_back():
    document = copy.deepcopy(DOCUMENT)
    document["devices"][VF]["mirror_to"] = "0000:3b:02.3"
    state = parse_desired(document)
    assert state.claimed[PciAddress.parse(VF)].mirror_to == PciAddress.parse("0000:3b:02.3")
    assert state.to_json() == document


@pytest.mark.parametrize(
    ("mirror_to", "words"),
    [(VF, "a VF cannot mirror to itself"), ("3b:02", "")],
)
def test_a_bad_mirror_to_is_refused_by_its_path(mirror_to, words):
    document = copy.deepcopy(DOCUMENT)
    document["devices"][VF]["mirror_to"] = mirror_to
    with pytest.raises(ValidationError) as refused:
        parse_desired(document)
    assert refused.value.field == f"devices[{VF}].mirror_to"
    assert words in refused.value.reason


def test_a_fresh_agent_sets_every_managed_vf_s_mirror_once():
    state = mirroring({A: FULL}, {A: B})
    changes, refused = plan_mirrors(state, DEVICES, {})
    assert refused == {}
    assert MirrorChange(A, "ens1f0", 0, 1, B) in changes
    assert {c.to_vf for c in changes if c.address != A} == {None}
    assert len(changes) == len(DEVICES)


def test_mirrors_already_set_are_left_alone_and_a_dropped_one_is_stopped():
    known = {address: None for address in DEVICES} | {A: B}
    assert plan_mirrors(mirroring({A: FULL}, {A: B}), DEVICES, known) == ((), {})
    changes, _ = plan_mirrors(desired({A: FULL}), DEVICES, known)
    assert changes == (MirrorChange(A, "ens1f0", 0, None, None),)


def test_a_mirror_to_a_vf_of_another_pf_is_refused_naming_both_pfs():
    known = dict.fromkeys(DEVICES)
    changes, refused = plan_mirrors(mirroring({A: FULL}, {A: C}), DEVICES, known)
    assert changes == ()
    assert refused[A] == (
        f"mirror: {C} is on ens2f0; a VF mirrors only to a VF of its own PF (ens1f0)"
    )


def test_a_driver_that_cannot_mirror_leaves_the_port_in_error_with_mirror_refused():
    driver = MemoryDriver.with_pfs(PFS)
    (report,) = reconcile(mirroring({A: FULL}, {A: B}), DEVICES, driver).ports
    assert report.state is PortState.ERROR
    assert report.refused == ("mirror",)
    assert report.reason == "mirror: not supported by the memory driver"
    assert driver.tables["ens1f0"][0] == FULL  # the rest of the port is applied


def test_a_mirroring_driver_mirrors_and_the_next_pass_calls_it_no_more():
    driver = MirroringDriver.with_pfs(PFS)
    state = mirroring({A: FULL}, {A: B})
    first = reconcile(state, DEVICES, driver)
    assert driver.mirrors[("ens1f0", 0)] == 1
    assert first.ports[0].state is PortState.ACTIVE
    assert first.mirrored[A] == B
    calls = driver.calls
    second = reconcile(state, DEVICES, driver, mirrored=first.mirrored)
    assert driver.calls == calls
    assert second.mirrored == first.mirrored


def test_a_mirror_the_driver_fails_is_a_port_error_and_is_tried_again():
    class Failing(MirroringDriver):
        def mirror(self, pf: str, vf: int, to_vf: int | None) -> None:
            raise DriverError(f"VF {to_vf} of PF {pf} is not there")

    driver = Failing.with_pfs(PFS)
    result = reconcile(mirroring({A: FULL}, {A: B}), DEVICES, driver)
    (report,) = result.ports
    assert (report.state, report.refused) == (PortState.ERROR, ())
    assert report.reason == "mirror: VF 1 of PF ens1f0 is not there"
    assert A not in result.mirrored
