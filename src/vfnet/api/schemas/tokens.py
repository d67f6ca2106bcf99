"""Bodies of /v1/tokens: creating a token (shown once) and asking who a token is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import model_validator

from vfnet.api.auth import Role
from vfnet.api.schemas.base import FromText, Name, RequestBody, ResponseBody


class TokenIn(RequestBody):
    role: Annotated[Role, FromText]
    project: Name | None = None
    host: Name | None = None
    name: Name | None = None

    @model_validator(mode="after")
    def _scoped(self) -> TokenIn:
        if self.role is Role.MEMBER and self.project is None:
            raise ValueError("a member token needs a project")
        if self.role is Role.AGENT and self.host is None:
            raise ValueError("an agent token needs a host")
        return self


class TokenOut(ResponseBody):
    id: str
    role: str
    project: str | None
    host: str | None
    name: str
    created_at: datetime


class NewTokenOut(TokenOut):
    #: The plaintext: shown in this response only, never stored.
    token: str


class WhoAmIOut(ResponseBody):
    role: str
    project: str | None
    host: str | None
    name: str | None
