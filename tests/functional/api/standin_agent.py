"""A host agent reduced to its protocol: long-poll the desired state, report a status on it.

It speaks the same HTTP as ``vfnet-agent`` (GET /v1/hosts/{h}/desired, POST
/v1/hosts/{h}/status) with the host's own agent token, and answers every port of the
document with one status: ``ACTIVE``, ``ERROR`` (with a reason), or none at all
(``None``: the agent reports only its verified releases, as one whose VFs never plug).
Every released VF is reported reset and verified.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from tests.functional.api.conftest import Api

POLL_WAIT = 0.2  # seconds a long poll waits for the document to move
CATCH_UP = 20.0  # seconds ``caught_up`` lets the agent take before the test fails


class StandInAgent:
    def __init__(
        self,
        api: Api,
        host: str,
        caller: str,
        answer: str | None = "ACTIVE",
        reason: str = "vlan refused by ens1f0: the NIC said no",
    ) -> None:
        self.api, self.host, self.caller = api, host, caller
        self.answer, self.reason = answer, reason
        self.reported = -1  # the newest generation this agent reported on
        self.documents: list[dict[str, Any]] = []  # every document it reported on
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._moved = threading.Condition()
        self._thread = threading.Thread(target=self._run, name=f"agent-{host}", daemon=True)

    def __enter__(self) -> StandInAgent:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        assert not self.failures, self.failures

    def caught_up(self) -> None:
        """Return once the agent has reported on the host's current desired state."""
        self.until(lambda: self.reported >= self.api.store.desired_generation(self.host))

    def until(self, condition: Callable[[], bool]) -> None:
        """Return once ``condition`` holds after one of the agent's reports."""
        with self._moved:
            assert self._moved.wait_for(condition, timeout=CATCH_UP), (
                f"the agent of {self.host} did not get there: {self.failures}"
            )

    def _run(self) -> None:
        since: int | None = None
        while not self._stop.is_set():
            query = "" if since is None else f"?since={since}&wait={POLL_WAIT}"
            response: Any = self.api.call(
                "GET", f"/v1/hosts/{self.host}/desired{query}", self.caller
            )
            if response.status_code != 200:
                self.failures.append(response.text)
                return
            document = response.json()
            since = document["generation"]
            if since != self.reported:
                self._report(document)

    def _report(self, document: dict[str, Any]) -> None:
        ports = []
        if self.answer is not None:
            ports = [
                {
                    "port_id": entry["port_id"],
                    "status": self.answer,
                    "reason": self.reason if self.answer == "ERROR" else None,
                    "refused": [],
                }
                for entry in document["devices"].values()
            ]
        releases = [
            {"address": address, "claim_generation": generation, "verified": True}
            for address, generation in document["released"].items()
        ]
        body = {"generation": document["generation"], "ports": ports, "releases": releases}
        response: Any = self.api.call(
            "POST", f"/v1/hosts/{self.host}/status", self.caller, json=body
        )
        if response.status_code != 200:
            self.failures.append(response.text)
        with self._moved:
            self.documents.append(document)
            self.reported = document["generation"]
            self._moved.notify_all()
