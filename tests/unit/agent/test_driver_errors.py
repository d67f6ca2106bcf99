"""Kernel errors leave the drivers as DriverError, and the agent's turn survives them;
drivers that keep ``auto`` VFs in step with their PF do so once a turn."""

from __future__ import annotations

import errno

import pytest
from pyroute2.netlink.exceptions import NetlinkError

from vfnet.agent.drivers.eswitch_kernel import kernel_errors
from vfnet.agent.drivers.memory import MemoryDriver
from vfnet.agent.drivers.netlink import NetlinkDriver
from vfnet.agent.drivers.netlink_socket import RtnlSocket
from vfnet.agent.loop import Agent, Discovery
from vfnet.agent.main import MemoryKeeper
from vfnet.agent.serve import Reconciler, serve
from vfnet.errors import DriverError
from vfnet.network.vf_settings import RESET, VfAttr

from .test_loop_reconcile import agent, turn  # noqa: F401  (agent is a fixture)


def test_a_netlink_error_becomes_a_driver_error_naming_the_vf_and_the_errno() -> None:
    expected = r"^PF ens1f0 VF 3: ENODEV: No such device$"
    with pytest.raises(DriverError, match=expected), kernel_errors("PF ens1f0 VF 3"):
        raise NetlinkError(errno.ENODEV)


def test_an_os_error_becomes_a_driver_error_naming_the_file() -> None:
    expected = r"^PF ens1f0: ENOENT: No such file or directory \(/run/netns/gone\)$"
    with pytest.raises(DriverError, match=expected), kernel_errors("PF ens1f0"):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "/run/netns/gone")


def test_a_netlink_driver_whose_socket_fails_raises_a_driver_error_naming_the_pf() -> None:
    rtnl = RtnlSocket()
    rtnl.close()  # as if the socket died under the driver
    driver = NetlinkDriver(rtnl=rtnl)
    with pytest.raises(DriverError, match=r"^PF lo: reading its VF table: EBADF"):
        driver.read("lo")
    with pytest.raises(DriverError, match=r"^PF lo VF 0: setting mac, link_state: EBADF"):
        driver.apply("lo", 0, RESET, (VfAttr.LINK_STATE, VfAttr.MAC))


class FollowingDriver(MemoryDriver):
    """A memory driver that, like the eswitch, keeps auto VFs in step with their PF."""

    def __init__(self, followed: list[tuple[str, int, bool]] | DriverError) -> None:
        super().__init__()
        self.followed = followed
        self.calls = 0

    def follow_uplinks(self) -> list[tuple[str, int, bool]]:
        self.calls += 1
        if isinstance(self.followed, DriverError):
            raise self.followed
        return self.followed


class Keeper:
    def __init__(self, driver: MemoryDriver) -> None:
        self.inner = MemoryKeeper()
        self.inner.driver = driver

    def driver_for(self, discovery: Discovery) -> MemoryDriver:
        self.inner.driver_for(discovery)
        return self.inner.driver


def test_a_turn_follows_uplinks_and_logs_each_vf_it_set(
    agent: Agent,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("INFO")
    driver = FollowingDriver([("ens1f0", 2, False)])
    step = turn(agent, Reconciler(agent.server, Keeper(driver)))
    assert driver.calls == 1
    assert step.problems == []
    lines = [r.getMessage() for r in caplog.records]
    assert "PF ens1f0 link down: VF 2 (link_state auto) set down" in lines


def test_a_driver_error_while_following_uplinks_is_a_problem_of_the_turn(
    agent: Agent,  # noqa: F811
) -> None:
    driver = FollowingDriver(DriverError("host h: following its PFs' links: EBADF"))
    step = turn(agent, Reconciler(agent.server, Keeper(driver)))
    assert step.problems == ["uplinks: host h: following its PFs' links: EBADF"]
    assert agent.server.statuses  # the status was still posted


class BrokenKeeper:
    def driver_for(self, discovery: Discovery) -> MemoryDriver:
        raise DriverError("host h: building its switch: EEXIST: File exists")


def test_a_driver_error_in_a_turn_is_one_logged_line_and_the_loop_goes_on(
    agent: Agent,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    waits: list[float] = []

    def stop(seconds: float) -> bool:
        waits.append(seconds)
        return len(waits) == 2

    code = serve(agent, Reconciler(agent.server, BrokenKeeper()), interval=5.0, once=False,
                 stop=stop)  # fmt: skip
    assert code == 0
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert (
        errors
        == ["pass: DriverError: host h: building its switch: EEXIST: File exists; retrying in 5s"]
        * 2
    )
