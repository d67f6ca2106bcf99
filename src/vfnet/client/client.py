"""The typed HTTP client of the vfnet API, shared by the CLI, the agent and the CNI plugin.

Every method returns the decoded JSON body (a dict) or ``None`` for 204, and raises the
vfnet exception the server's error code stands for (``vfnet.client.errors``). The
transport is injectable, so tests run it against the app in-process.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import httpx

from vfnet.client.errors import error_from

Json = dict[str, Any]
DEFAULT_TIMEOUT = 30.0


class Client:
    def __init__(
        self,
        base_url: str,
        token: str,
        transport: httpx.BaseTransport | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            transport=transport,
            timeout=timeout,
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def base_url(self) -> str:
        """The server this client talks to, for messages that name it."""
        return str(self._http.base_url).rstrip("/")

    def _call(self, method: str, path: str, **kwargs: Any) -> Json | None:
        response = self._http.request(method, path, **kwargs)
        if response.is_error:
            try:
                payload = response.json()
            except ValueError:
                payload = None
            raise error_from(response.status_code, payload)
        return None if response.status_code == 204 else dict(response.json())

    def _get(self, path: str, **params: str | None) -> Json:
        query = {key: value for key, value in params.items() if value is not None}
        result = self._call("GET", path, params=query)
        assert result is not None
        return result

    def _send(self, method: str, path: str, body: Mapping[str, Any]) -> Json:
        result = self._call(method, path, json=dict(body))
        assert result is not None
        return result

    # tokens
    def whoami(self) -> Json:
        return self._get("/v1/tokens/self")

    def create_token(
        self,
        role: str,
        *,
        project: str | None = None,
        host: str | None = None,
        name: str | None = None,
    ) -> Json:
        body = {"role": role, "project": project, "host": host, "name": name}
        return self._send("POST", "/v1/tokens", {k: v for k, v in body.items() if v is not None})

    # hosts
    def list_hosts(self) -> list[Json]:
        return list(self._get("/v1/hosts")["hosts"])

    def get_host(self, name: str) -> Json:
        return self._get(f"/v1/hosts/{name}")

    def register_host(
        self,
        name: str,
        *,
        numa_sockets: Mapping[int, int] | None = None,
        physnets: Iterable[str] = (),
        bridges: Mapping[str, str] | None = None,
        manages_vfs: bool = False,
    ) -> Json:
        """``manages_vfs``: this host's agent resets released VFs and reports it verified."""
        body = {
            "name": name,
            "numa_sockets": {str(cell): socket for cell, socket in (numa_sockets or {}).items()},
            "physnets": list(physnets),
            "bridges": dict(bridges or {}),
            "manages_vfs": manages_vfs,
        }
        return self._send("POST", "/v1/hosts", body)

    def report_inventory(
        self,
        host: str,
        report_generation: int,
        devices: Iterable[Mapping[str, Any]],
        problems: Iterable[str] | None = None,
    ) -> Json:
        """``problems``: what the agent could not do with the host (None: not sent)."""
        body: Json = {
            "report_generation": report_generation,
            "devices": [dict(d) for d in devices],
        }
        if problems is not None:
            body["problems"] = list(problems)
        return self._send("PUT", f"/v1/hosts/{host}/inventory", body)

    def list_host_devices(self, host: str) -> list[Json]:
        """The host's devices with their state and owner (for the host's own agent)."""
        return list(self._get(f"/v1/hosts/{host}/devices")["devices"])

    def get_desired(self, host: str, since: int | None = None, wait: float | None = None) -> Json:
        """The host's desired state; with ``since`` its current generation, the server waits
        up to ``wait`` seconds for a newer one (the same generation back: nothing changed)."""
        params = {"since": None if since is None else str(since),
                  "wait": None if wait is None else str(wait)}  # fmt: skip
        query = {key: value for key, value in params.items() if value is not None}
        # A long poll may take its whole wait: the request's own timeout covers it.
        timeout = self._http.timeout.read
        longer = None if timeout is None else timeout + (wait or 0.0)
        result = self._call("GET", f"/v1/hosts/{host}/desired", params=query, timeout=longer)
        assert result is not None
        return result

    def report_status(self, host: str, body: Mapping[str, Any]) -> Json:
        """What the agent found after reconciling: port statuses, verified resets."""
        return self._send("POST", f"/v1/hosts/{host}/status", body)

    def forget_refused(self, host: str, pf: str | None = None) -> Json:
        """Forget what the host's PFs (or the one ``pf``) refused; the host as it is then."""
        params = {} if pf is None else {"pf": pf}
        result = self._call("DELETE", f"/v1/hosts/{host}/refused", params=params)
        assert result is not None
        return result

    def release_device(self, host: str, address: str, *, force: bool = False) -> Json:
        """Free a VF stuck releasing without its agent's verification (``force`` needed)."""
        return self._send("POST", f"/v1/hosts/{host}/devices/{address}/release", {"force": force})

    # devices, pools, aliases
    def list_devices(
        self,
        *,
        host: str | None = None,
        dev_type: str | None = None,
        state: str | None = None,
        physnet: str | None = None,
    ) -> list[Json]:
        found = self._get("/v1/devices", host=host, type=dev_type, state=state, physnet=physnet)
        return list(found["devices"])

    def list_pools(self, *, host: str | None = None) -> list[Json]:
        return list(self._get("/v1/pools", host=host)["pools"])

    def list_aliases(self) -> list[Json]:
        return list(self._get("/v1/aliases")["aliases"])

    # flavors
    def list_flavors(self) -> list[Json]:
        return list(self._get("/v1/flavors")["flavors"])

    def get_flavor(self, name: str) -> Json:
        return self._get(f"/v1/flavors/{name}")

    def create_flavor(
        self,
        name: str,
        *,
        vcpus: int = 1,
        ram_mb: int = 512,
        numa_cells: int = 1,
        extra_specs: Mapping[str, str] | None = None,
    ) -> Json:
        body = {
            "name": name,
            "vcpus": vcpus,
            "ram_mb": ram_mb,
            "numa_cells": numa_cells,
            "extra_specs": dict(extra_specs or {}),
        }
        return self._send("POST", "/v1/flavors", body)

    def delete_flavor(self, name: str) -> None:
        self._call("DELETE", f"/v1/flavors/{name}")

    # placements
    def create_placement(self, instance_id: str, **request: Any) -> Json:
        """``request``: project, flavor, pci_requests, ports, numa_cells, numa_policy, policy."""
        return self._send("POST", "/v1/placements", {"instance_id": instance_id, **request})

    def get_placement(self, instance_id: str) -> Json:
        return self._get(f"/v1/placements/{instance_id}")

    def list_placements(self) -> list[Json]:
        return list(self._get("/v1/placements")["placements"])

    def delete_placement(self, instance_id: str) -> None:
        self._call("DELETE", f"/v1/placements/{instance_id}")

    # networks
    def create_network(self, body: Mapping[str, Any]) -> Json:
        """``body`` as the API takes it: ``name``, ``provider:network_type``, ..."""
        return self._send("POST", "/v1/networks", body)

    def list_networks(self) -> list[Json]:
        return list(self._get("/v1/networks")["networks"])

    def get_network(self, network_id: str) -> Json:
        return self._get(f"/v1/networks/{network_id}")

    def update_network(self, network_id: str, body: Mapping[str, Any]) -> Json:
        return self._send("PUT", f"/v1/networks/{network_id}", body)

    def delete_network(self, network_id: str) -> None:
        self._call("DELETE", f"/v1/networks/{network_id}")

    # subnets
    def create_subnet(self, body: Mapping[str, Any]) -> Json:
        return self._send("POST", "/v1/subnets", body)

    def list_subnets(self, network_id: str | None = None) -> list[Json]:
        return list(self._get("/v1/subnets", network_id=network_id)["subnets"])

    def get_subnet(self, subnet_id: str) -> Json:
        return self._get(f"/v1/subnets/{subnet_id}")

    def update_subnet(self, subnet_id: str, body: Mapping[str, Any]) -> Json:
        return self._send("PUT", f"/v1/subnets/{subnet_id}", body)

    def delete_subnet(self, subnet_id: str) -> None:
        self._call("DELETE", f"/v1/subnets/{subnet_id}")

    # ports
    def create_port(self, body: Mapping[str, Any]) -> Json:
        return self._send("POST", "/v1/ports", body)

    def list_ports(self, network_id: str | None = None, host: str | None = None) -> list[Json]:
        return list(self._get("/v1/ports", network_id=network_id, host=host)["ports"])

    def get_port(self, port_id: str) -> Json:
        return self._get(f"/v1/ports/{port_id}")

    def update_port(self, port_id: str, body: Mapping[str, Any]) -> Json:
        """``{"binding:host_id": "host-1"}`` binds the port there; ``None`` unbinds it."""
        return self._send("PUT", f"/v1/ports/{port_id}", body)

    def delete_port(self, port_id: str) -> None:
        self._call("DELETE", f"/v1/ports/{port_id}")

    # instances
    def create_instance(self, body: Mapping[str, Any]) -> Json:
        """``{"name", "kind": "vm"|"container", "ports": [ids], "networks": [ids], ...}``:
        the instance as created, BUILD on its host or ERROR with the reason."""
        return self._send("POST", "/v1/instances", body)

    def list_instances(self) -> list[Json]:
        return list(self._get("/v1/instances")["instances"])

    def get_instance(self, instance_id: str) -> Json:
        return self._get(f"/v1/instances/{instance_id}")

    def delete_instance(self, instance_id: str) -> None:
        self._call("DELETE", f"/v1/instances/{instance_id}")

    def attach_instance_port(
        self, instance_id: str, *, port_id: str | None = None, network_id: str | None = None
    ) -> Json:
        """Plug a port (or a normal port made on ``network_id``) into the instance hot;
        the instance, with the port as its last interface."""
        body = {"port_id": port_id} if port_id is not None else {"network_id": network_id}
        return self._send("POST", f"/v1/instances/{instance_id}/ports", body)

    def detach_instance_port(self, instance_id: str, port_id: str) -> None:
        self._call("DELETE", f"/v1/instances/{instance_id}/ports/{port_id}")

    def suspend_instance(self, instance_id: str) -> Json:
        return self._send("POST", f"/v1/instances/{instance_id}/suspend", {})

    def resume_instance(self, instance_id: str) -> Json:
        return self._send("POST", f"/v1/instances/{instance_id}/resume", {})

    def migrate_instance(
        self, instance_id: str, *, host: str | None = None, live: bool = False, wait: float = 600.0
    ) -> Json:
        """Move the instance (to ``host``, or where the scheduler says); answers when the
        migration is over, so the answer may take up to ``wait`` seconds (the server's
        own migration timeout bounds it): the instance on its new host, or back on its
        source with the reason."""
        body: Json = {"live": live} if host is None else {"host": host, "live": live}
        path = f"/v1/instances/{instance_id}/migrate"
        timeout = httpx.Timeout(self._http.timeout.connect, read=wait)
        result = self._call("POST", path, json=body, timeout=timeout)
        assert result is not None
        return result

    # QoS policies
    def create_qos_policy(self, body: Mapping[str, Any]) -> Json:
        return self._send("POST", "/v1/qos-policies", body)

    def list_qos_policies(self) -> list[Json]:
        return list(self._get("/v1/qos-policies")["qos_policies"])

    def get_qos_policy(self, policy_id: str) -> Json:
        return self._get(f"/v1/qos-policies/{policy_id}")

    def update_qos_policy(self, policy_id: str, body: Mapping[str, Any]) -> Json:
        return self._send("PUT", f"/v1/qos-policies/{policy_id}", body)

    def delete_qos_policy(self, policy_id: str) -> None:
        self._call("DELETE", f"/v1/qos-policies/{policy_id}")
