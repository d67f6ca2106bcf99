"""Tables line up and JSON is stable, whatever the command."""

from __future__ import annotations

import enum
import json
from pathlib import Path

import pytest

from vfnet.cli.output import Column, cell, render_fields, render_json, render_table
from vfnet.pci.address import PciAddress


class Colour(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        ("", "-"),
        ({}, "-"),
        ([], "-"),
        (True, "yes"),
        (False, "no"),
        (0, "0"),
        (Colour.RED, "red"),
        (
            {"physical_network": "physnet1", "trusted": True},
            "physical_network=physnet1,trusted=yes",
        ),
        (["a", "b"], "a,b"),
        (
            [
                {"subnet_id": "s1", "ip_address": "192.0.2.2"},
                {"subnet_id": "s6", "ip_address": "::2"},
            ],
            "subnet_id=s1,ip_address=192.0.2.2; subnet_id=s6,ip_address=::2",
        ),
        (PciAddress(0, 0x3B, 2, 1), "0000:3b:02.1"),
    ],
)
def test_a_cell_shows_a_value_in_one_short_word(value: object, text: str) -> None:
    assert cell(value) == text


def test_a_table_aligns_columns_under_their_headings() -> None:
    rows = [{"address": "0000:3b:00.0", "type": "type-PF", "numa": 0}, {"address": "x"}]
    assert render_table(rows, ["address", "type", Column("numa", "NUMA NODE")]).splitlines() == [
        "ADDRESS       TYPE     NUMA NODE",
        "0000:3b:00.0  type-PF  0",
        "x             -        -",
    ]


def test_a_table_with_no_rows_is_its_heading() -> None:
    assert render_table([], ["pool", "free_count"]) == "POOL  FREE COUNT"


def test_json_has_sorted_keys_and_plain_values() -> None:
    text = render_json({"b": PciAddress(0, 1, 0, 0), "a": Colour.RED, "c": Path("/sys")})
    assert text.splitlines()[1] == '  "a": "red",'
    assert json.loads(text) == {"a": "red", "b": "0000:01:00.0", "c": "/sys"}


def test_one_object_shows_as_field_and_value_rows_in_name_order() -> None:
    network = {"name": "net1", "provider:segmentation_id": 100, "id": "6f1c", "subnets": []}
    assert render_fields(network).splitlines() == [
        "FIELD                     VALUE",
        "id                        6f1c",
        "name                      net1",
        "provider:segmentation_id  100",
        "subnets                   -",
    ]
