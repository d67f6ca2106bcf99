"""The lab's API server: a real ``vfnet-server`` process on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx

from vfnet.errors import VfnetError
from vfnet.lab.processes import installed_command


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command() -> str:
    """``vfnet-server`` beside this Python, else on PATH."""
    return installed_command("vfnet-server")


def sqlite_url(lab_dir: Path) -> str:
    return f"sqlite:///{(lab_dir / 'vfnet.db').resolve()}"


def serve_argv(port: int, database_url: str) -> list[str]:
    """The command line of a lab server on loopback ``port``."""
    return [server_command(), "serve", "--port", str(port), "--database-url", database_url]


def create_token(database_url: str, *, role: str, name: str) -> str:
    """A fresh token of ``role``, minted against the database directly."""
    done = subprocess.run(
        [server_command(), "token", "create", "--role", role, "--name", name,
         "--database-url", database_url],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise VfnetError(f"could not create the lab's {role} token: {done.stderr.strip()}")
    return done.stdout.strip()


def wait_until_answering(
    url: str, seconds: float, exited: Callable[[], bool], log_path: Path
) -> None:
    """Returns once the server at ``url`` serves its API; raises if it exits or stays mute."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if exited():
            raise VfnetError(f"vfnet-server exited at start; see {log_path}")
        try:
            if httpx.get(f"{url}/v1/openapi.json", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise VfnetError(f"vfnet-server did not answer within {seconds:.0f}s; see {log_path}")


class LabServer:
    """Starts the server on SQLite in the lab folder; stops it on exit."""

    def __init__(self, lab_dir: Path, *, startup_seconds: float = 30.0) -> None:
        self.database_url = sqlite_url(lab_dir)
        self.log_path = lab_dir / "server.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._startup_seconds = startup_seconds
        self._process: subprocess.Popen[bytes] | None = None

    def reset_database(self) -> None:
        """Start from an empty database: the lab's hosts are generated afresh each run."""
        base = self.database_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(base + suffix).unlink(missing_ok=True)

    def admin_token(self) -> str:
        """A fresh admin token, minted against the lab database."""
        return create_token(self.database_url, role="admin", name="lab-admin")

    def __enter__(self) -> LabServer:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                serve_argv(self.port, self.database_url), stdout=log, stderr=subprocess.STDOUT
            )
        process = self._process
        try:
            wait_until_answering(
                self.url, self._startup_seconds, lambda: process.poll() is not None, self.log_path
            )
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
