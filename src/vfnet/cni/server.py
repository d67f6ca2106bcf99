"""The plugin's conversation with the vfnet server: which server and token, the port, its binding.

Every failure leaves as a :class:`CniError` that says what to fix: a server that does not
answer is code 11 (try again later); a token it refuses, or one whose role may not do
what the plugin asks, is code 7 naming where the token came from (``tokenFile`` or
``VFNET_TOKEN``); an unknown port is code 7 naming ``port``; a conflict the server
reports (the port is an instance's) is code 106.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from vfnet.client import Client
from vfnet.cni.config import NetConf
from vfnet.cni.protocol import CniError, Code
from vfnet.errors import Conflict, Forbidden, NotFound, Unauthorized, ValidationError, VfnetError

__all__ = ["Connector", "Server", "connect", "open_client"]

Json = dict[str, Any]
URL_ENV = "VFNET_URL"
TOKEN_ENV = "VFNET_TOKEN"
TIMEOUT = 10.0  # seconds per request: a runtime waits on the plugin, and retries code 11

# (url, token) -> a client; tests hand in one that runs the API in-process.
Connector = Callable[[str, str], Client]


def open_client(url: str, token: str) -> Client:
    return Client(url, token, timeout=TIMEOUT)


@dataclass(frozen=True, slots=True)
class Where:
    """The server, the token and where it came from, and the host this node is there."""

    url: str
    token: str
    token_source: str
    host: str


def where(conf: NetConf, environ: Mapping[str, str]) -> Where:
    """The config's ``server``/``tokenFile``/``hostName``, else the environment's."""
    url = conf.server or environ.get(URL_ENV)
    if not url:
        raise CniError(
            Code.INVALID_CONFIG, f"server: required with port (or {URL_ENV} in the environment)"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CniError(Code.INVALID_CONFIG, f"{URL_ENV}: {url!r} is not an http(s) URL")
    if conf.token_file is not None:
        token, source = _read_token(conf.token_file), "tokenFile"
    elif environ.get(TOKEN_ENV):
        token, source = environ[TOKEN_ENV].strip(), TOKEN_ENV
    else:
        raise CniError(
            Code.INVALID_CONFIG,
            f"tokenFile: required with port (or {TOKEN_ENV} in the environment)",
        )
    host = conf.host_name or (conf.eswitch.host if conf.eswitch else None) or socket.gethostname()
    return Where(url.rstrip("/"), token, source, host)


def _read_token(path: str) -> str:
    try:
        lines = Path(path).read_text(encoding="utf-8").strip().splitlines()
    except OSError as error:
        raise CniError(
            Code.INVALID_CONFIG, f"tokenFile: cannot read {path}: {error.strerror}"
        ) from None
    if not lines or not lines[0].strip():
        raise CniError(Code.INVALID_CONFIG, f"tokenFile: {path} is empty")
    return lines[0].strip()


@contextlib.contextmanager
def connect(conf: NetConf, environ: Mapping[str, str], connector: Connector) -> Iterator[Server]:
    """The server the config names, for the duration."""
    place = where(conf, environ)
    client = connector(place.url, place.token)
    try:
        yield Server(place, client)
    finally:
        client.close()


class Server:
    """The calls the plugin makes, each failure a CniError naming what to fix."""

    def __init__(self, place: Where, client: Client) -> None:
        self.place = place
        self.host = place.host
        self._client = client

    def find_port(self, ref: str) -> Json:
        """The port whose id, else whose name, is ``ref``; code 7 naming ``port`` if none
        (or several) is."""
        with self._asking(f"read port {ref!r}"):
            try:
                return self._client.get_port(quote(ref, safe=""))
            except NotFound:
                named = [p for p in self._client.list_ports() if p.get("name") == ref]
        if len(named) == 1:
            return named[0]
        if named:
            ids = ", ".join(str(p["id"]) for p in named)
            raise CniError(Code.INVALID_CONFIG, f"port: {len(named)} ports are named {ref!r} "
                           f"({ids}); give its id")  # fmt: skip
        raise CniError(
            Code.INVALID_CONFIG,
            f"port: no port {ref!r} that this token may see",
            "an agent token sees only the ports bound on its host; a member's, its project's",
        )

    def port(self, port_id: str) -> Json:
        with self._asking(f"read port {port_id}"):
            return self._client.get_port(port_id)

    def bind(self, port_id: str, container_id: str) -> Json:
        """Binds the port on this host, used by ``container_id`` (its ``device_id``)."""
        body = {"binding:host_id": self.host, "device_id": container_id}
        with self._asking(f"bind port {port_id} on host {self.host}"):
            return self._client.update_port(port_id, body)

    def unbind_if_ours(self, port_id: str, host: str, container_id: str) -> None:
        """Unbinds the port if it is still bound on ``host`` for ``container_id``: one bound
        again since (elsewhere, or for another sandbox) is left alone, a deleted one too."""
        doing = f"unbind port {port_id} from host {host}"
        with self._asking(doing):
            try:
                port = self._client.get_port(port_id)
            except NotFound:
                return
            if (port.get("binding:host_id"), port.get("device_id")) != (host, container_id):
                return
            self._client.update_port(port_id, {"binding:host_id": None, "device_id": ""})

    def network(self, network_id: str) -> Json:
        with self._asking(f"read network {network_id}"):
            return self._client.get_network(network_id)

    def subnet(self, subnet_id: str) -> Json:
        with self._asking(f"read subnet {subnet_id}"):
            return self._client.get_subnet(subnet_id)

    def policy(self, policy_id: str) -> Json:
        with self._asking(f"read QoS policy {policy_id}"):
            return self._client.get_qos_policy(policy_id)

    @contextlib.contextmanager
    def _asking(self, doing: str) -> Iterator[None]:
        url, source = self.place.url, self.place.token_source
        try:
            yield
        except httpx.TransportError as error:
            raise CniError(
                Code.TRY_AGAIN_LATER,
                f"server: {url} did not answer ({type(error).__name__}: {error}); try again later",
            ) from None
        except Unauthorized as error:
            raise CniError(
                Code.INVALID_CONFIG, f"{source}: the server at {url} refused the token ({error})"
            ) from None
        except Forbidden as error:
            raise CniError(
                Code.INVALID_CONFIG,
                f"{source}: the token may not {doing} ({error})",
                "binding a port takes an admin token; the host's agent token may use a port "
                "an admin bound on its host",
            ) from None
        except Conflict as error:
            raise CniError(Code.PORT_IN_USE, f"port: cannot {doing}: {error}") from None
        except (NotFound, ValidationError) as error:
            raise CniError(Code.INVALID_CONFIG, f"port: cannot {doing}: {error}") from None
        except VfnetError as error:
            raise CniError(Code.IO_FAILURE, f"server: {url} failed to {doing}: {error}") from None
