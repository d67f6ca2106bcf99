"""Bodies that never reach a handler: too large, not JSON, or sent without a valid token."""

from __future__ import annotations

import pytest

from tests.functional.api.conftest import SMALL_BODY_LIMIT, Api

INVENTORY = "/v1/hosts/compute-1/inventory"


def _chunks(total: int, size: int = 1024):  # type: ignore[no-untyped-def]
    for _ in range(total // size):
        yield b" " * size


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b"{" + b" " * SMALL_BODY_LIMIT + b"}", {}),
        (b"[]", {"Content-Length": str(SMALL_BODY_LIMIT + 1)}),
    ],
    ids=["body over the limit", "declared length over the limit"],
)
def test_an_oversized_body_is_refused_with_413_before_parsing(
    api: Api, content: bytes, headers: dict[str, str]
) -> None:
    headers = {"Content-Type": "application/json", **headers}
    response = api.call("PUT", INVENTORY, "agent", content=content, headers=headers)
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "body_too_large",
        "message": f"the request body is larger than {SMALL_BODY_LIMIT} bytes",
        "field": None,
    }


def test_a_streamed_body_without_length_is_cut_off_at_the_limit(api: Api) -> None:
    response = api.call(
        "PUT",
        INVENTORY,
        "agent",
        content=_chunks(SMALL_BODY_LIMIT * 2),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_a_body_at_the_limit_is_parsed(api: Api) -> None:
    body = b'{"name": "big"}'
    content = body + b" " * (SMALL_BODY_LIMIT - len(body))
    response = api.call(
        "POST",
        "/v1/flavors",
        "admin",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("content", [b"{not json", b"", b'{"name": "big",}', b"\xff\xfe"], ids=repr)
def test_a_body_that_is_not_json_is_refused_as_malformed(api: Api, content: bytes) -> None:
    response = api.call(
        "POST",
        "/v1/flavors",
        "admin",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"malformed_json", "invalid_value"}
    if content:
        assert response.json()["error"]["code"] == "malformed_json"


@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer nope", "Basic YWRtaW46YWRtaW4=", "bearer  "]
)
def test_a_missing_or_wrong_token_gets_401_with_a_bearer_challenge(
    api: Api, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    response = api.client.get("/v1/flavors", headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["error"]["code"] == "unauthorized"


def test_a_malformed_body_from_an_anonymous_caller_gets_401_not_a_parse_error(api: Api) -> None:
    response = api.client.post(
        "/v1/flavors", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401


def test_a_malformed_body_from_the_wrong_agent_gets_403_not_a_parse_error(api: Api) -> None:
    response = api.call(
        "PUT",
        "/v1/hosts/compute-2/inventory",
        "agent",
        content=b"{oops",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 403
