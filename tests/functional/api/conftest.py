"""The API in-process over a real store: a client per role, and a little fleet to talk about."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient

from vfnet.api.app import create_app
from vfnet.api.settings import ApiSettings
from vfnet.pci.alias import parse_aliases
from vfnet.store import Store

# Who calls: a role name in the tables -> the token's scope.
CALLERS: Mapping[str, tuple[str, str | None, str | None]] = {
    "admin": ("admin", None, None),
    "member": ("member", "blue", None),
    "other-member": ("member", "red", None),
    "agent": ("agent", None, "compute-1"),
    "other-agent": ("agent", None, "compute-2"),
}
SMALL_BODY_LIMIT = 4096


ALIASES = parse_aliases(
    [
        '{"name": "x710-vf", "vendor_id": "8086", "product_id": "154c", "device_type": "type-VF"}',
        '{"name": "cx5-pf", "vendor_id": "15b3", "product_id": "1017", "device_type": "type-PF",'
        ' "numa_policy": "required"}',
    ]
)


@dataclass
class Api:
    """A test client plus one token per caller in ``CALLERS``."""

    client: TestClient
    store: Store
    tokens: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, caller: str | None, **kwargs: object) -> object:
        headers = dict(kwargs.pop("headers", None) or {})  # type: ignore[call-overload]
        if caller == "wrong-token":
            headers["Authorization"] = "Bearer not-a-token"
        elif caller is not None:
            headers["Authorization"] = f"Bearer {self.tokens[caller]}"
        return self.client.request(method, path, headers=headers, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    settings = ApiSettings(max_body_bytes=SMALL_BODY_LIMIT, aliases=ALIASES)
    with TestClient(create_app(store, settings), raise_server_exceptions=False) as client:
        made = Api(client, store)
        for caller, (role, project, host) in CALLERS.items():
            made.tokens[caller], _ = store.create_token(
                role, project=project, host=host, name=caller
            )
        store.register_host("compute-1", physnets=["physnet1"])
        store.register_host("compute-2", physnets=["physnet1"])
        store.create_flavor("small", 2, 2048, 1, {"pci_passthrough:alias": "x710-vf:1"})
        yield made
