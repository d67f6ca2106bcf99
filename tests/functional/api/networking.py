"""Helpers for the networking tests: make networks, subnets, ports and policies over HTTP."""

from __future__ import annotations

from typing import Any

from tests.functional.api.conftest import Api

VLAN = {"provider:network_type": "vlan", "provider:physical_network": "physnet1"}
FLAT = {"provider:network_type": "flat", "provider:physical_network": "physnet1"}


def created(api: Api, path: str, body: dict[str, Any], caller: str = "admin") -> dict[str, Any]:
    """POST ``body`` and return the new object, failing the test on anything but 201."""
    response = api.call("POST", path, caller, json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def network(api: Api, name: str = "net", *, vlan: int | None = 100, **fields: Any) -> str:
    """A network (VLAN ``vlan`` on physnet1, or flat when ``vlan`` is None); its id."""
    segment = FLAT if vlan is None else VLAN | {"provider:segmentation_id": vlan}
    body = {"name": name, "shared": True, **segment, **fields}
    return str(created(api, "/v1/networks", body)["id"])


def subnet(api: Api, network_id: str, cidr: str = "192.0.2.0/24", **fields: Any) -> str:
    body = {"network_id": network_id, "cidr": cidr, **fields}
    return str(created(api, "/v1/subnets", body)["id"])


def port(api: Api, network_id: str, caller: str = "member", **fields: Any) -> dict[str, Any]:
    return created(api, "/v1/ports", {"network_id": network_id, **fields}, caller)


def error_of(response: Any, status: int) -> dict[str, Any]:
    """The error body of a response that must have ``status``."""
    assert response.status_code == status, response.text
    return dict(response.json()["error"])
