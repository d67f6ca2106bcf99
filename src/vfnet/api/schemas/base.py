"""The base classes every body schema derives from."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class RequestBody(BaseModel):
    """A request body: unknown fields are refused, values are not coerced between types."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ResponseBody(BaseModel):
    model_config = ConfigDict(frozen=True)


# Names of hosts, flavors, instances, projects: printable, no slashes (they sit in URLs).
Name = Annotated[
    str, Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@-]*$")
]
# Enums arrive from JSON as their string values: the one place strict mode must give way.
FromText = Field(strict=False)
HexId = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{4}$")]
