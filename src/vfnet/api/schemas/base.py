"""The base classes every body schema derives from."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


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
# Display names of networks, subnets, ports and policies: free text, as Neutron allows.
Label = Annotated[str, Field(max_length=255)]
# Ids the store hands out (uuid4), and the projects that own objects.
Ident = Annotated[str, Field(min_length=1, max_length=255)]


def given(body: BaseModel) -> dict[str, object]:
    """The fields a partial update names, by their wire names (unset ones stay unchanged)."""
    return body.model_dump(by_alias=True, exclude_unset=True)


def neutron_field(name: str) -> Any:
    """A response field Neutron spells with a colon (``binding:vnic_type``): built in Python
    by the part after the colon, written out as ``name``, and read back by either (FastAPI
    validates what a handler returns after dumping it by alias)."""
    python_name = name.partition(":")[2]
    return Field(validation_alias=AliasChoices(python_name, name), serialization_alias=name)
