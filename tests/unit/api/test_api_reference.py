"""docs/api-reference.md is what scripts/api-reference prints from the API as it is now."""

from __future__ import annotations

import difflib
import importlib.util
from dataclasses import replace
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from vfnet.api.routes import ROUTES

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = ROOT / "scripts" / "api-reference"
COMMITTED = ROOT / "docs" / "api-reference.md"
REGENERATE = "scripts/api-reference > docs/api-reference.md"


def _generator() -> ModuleType:
    # The script has no .py suffix (it is a command), so it is loaded by path.
    loader = SourceFileLoader("api_reference", str(SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    return _generator()


@pytest.fixture(scope="module")
def document(generator: ModuleType) -> dict[str, Any]:
    made: dict[str, Any] = generator.openapi_document()
    return made


@pytest.fixture(scope="module")
def printed(generator: ModuleType, document: dict[str, Any]) -> str:
    text: str = generator.reference(document)
    return text


def _section(printed: str, heading: str) -> str:
    start = printed.index(heading)
    end = printed.find("\n### ", start + len(heading))
    return printed[start : end if end != -1 else None]


def test_the_committed_reference_is_what_the_generator_prints_now(printed: str) -> None:
    committed = COMMITTED.read_text(encoding="utf-8")
    if committed != printed:
        diff = difflib.unified_diff(
            committed.splitlines(), printed.splitlines(), "committed", "the API now", lineterm=""
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(
            f"docs/api-reference.md does not describe the API as it is now; "
            f"regenerate it with `{REGENERATE}` and commit it.\n{shown}"
        )


def test_every_route_of_the_table_has_a_section_saying_who_may_call_it(printed: str) -> None:
    for route in ROUTES:
        section = _section(printed, f"### {route.method} `{route.path}`")
        assert "**Who may call:**" in section, route.path
        assert f"**Answer:** `{route.status}`" in section, route.path


def test_an_admin_only_route_says_members_and_agents_are_refused(printed: str) -> None:
    section = _section(printed, "### POST `/v1/networks`")
    assert "**Who may call:** admin." in section
    assert "| 403 | `forbidden` | the caller is a member or an agent |" in section
    assert "| 409 | `conflict` | the VLAN (or the physnet's flat network) is taken |" in section


def test_a_host_route_says_an_agent_may_act_only_for_its_own_host(printed: str) -> None:
    section = _section(printed, "### PUT `/v1/hosts/{name}/inventory`")
    assert "admin, agent (an agent: its own host `{name}` only)" in section
    assert "an agent names another host than its own" in section


def test_request_schemas_show_types_defaults_constraints_and_refuse_unknown_fields(
    printed: str,
) -> None:
    section = _section(printed, "### `PortIn`")
    assert "Unknown fields are refused (`400 unknown_field`)." in section
    assert '| `binding:vnic_type` | string | no | `"normal"` |  |' in section
    assert "| `network_id` | string | yes |  | 1 to 255 characters |" in section
    instances = _section(printed, "### `InstanceIn`")
    assert "| `numa_cells` | array of integer, or null | no |  |" in instances
    assert "each item 0 to 1023" in instances


def test_fastapis_own_validation_schema_is_left_out_as_vfnet_never_answers_with_it(
    printed: str,
) -> None:
    assert "HTTPValidationError" not in printed
    assert "| 422 |" not in printed and "`422`" not in printed


def test_a_docstring_naming_another_status_than_the_api_answers_stops_the_generator(
    generator: ModuleType, document: dict[str, Any]
) -> None:
    route = next(r for r in ROUTES if (r.method, r.path) == ("DELETE", "/v1/ports/{port_id}"))
    operation = dict(document["paths"][route.path]["delete"])
    operation["description"] = "DELETE a port.\n\nRaises:\n    InUse: it is attached (404)."
    changed = {**document, "paths": {route.path: {"delete": operation}}}
    with pytest.raises(SystemExit, match="says InUse is a 404, but the API answers 409"):
        generator.reference(changed, [replace(route)])
