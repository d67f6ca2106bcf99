"""The lab's API server: a real ``vfnet-server`` process on a free loopback port."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from vfnet.errors import VfnetError


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_command() -> str:
    """``vfnet-server`` beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "vfnet-server"
    found = str(beside) if beside.exists() else shutil.which("vfnet-server")
    if found is None:
        raise VfnetError("vfnet-server is not installed next to vfnet (run scripts/bootstrap)")
    return found


class LabServer:
    """Starts the server on SQLite in the lab folder; stops it on exit."""

    def __init__(self, lab_dir: Path, *, startup_seconds: float = 30.0) -> None:
        self.database_url = f"sqlite:///{(lab_dir / 'vfnet.db').resolve()}"
        self.log_path = lab_dir / "server.log"
        self.port = _free_port()
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
        done = subprocess.run(
            [server_command(), "token", "create", "--role", "admin", "--name", "lab-admin",
             "--database-url", self.database_url],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            raise VfnetError(f"could not create the lab's admin token: {done.stderr.strip()}")
        return done.stdout.strip()

    def __enter__(self) -> LabServer:
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [server_command(), "serve", "--port", str(self.port),
                 "--database-url", self.database_url],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self._startup_seconds
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise VfnetError(f"vfnet-server exited at start; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/v1/openapi.json", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise VfnetError(f"vfnet-server did not answer within {self._startup_seconds:.0f}s")

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
