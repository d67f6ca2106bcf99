"""Parsing [pci] device_spec entries: containers, ids, glob and regex addresses, tags."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vfnet.errors import InvalidDeviceSpec
from vfnet.pci.address import PciAddress
from vfnet.pci.address_spec import parse_address_spec
from vfnet.pci.device_spec import DeviceSpec, parse_device_specs


def one_spec(entry: str | dict[str, object], **options: bool) -> DeviceSpec:
    (spec,) = parse_device_specs([entry], **options).specs
    return spec


def refusal(entries: list[str | dict[str, object]], **options: bool) -> InvalidDeviceSpec:
    with pytest.raises(InvalidDeviceSpec) as caught:
        parse_device_specs(entries, **options)
    return caught.value


def selects(address_spec: object, address: str) -> bool:
    return parse_address_spec("device_spec[0]", address_spec).matches(PciAddress.parse(address))


# --- containers -------------------------------------------------------------------------


def test_a_json_array_entry_gives_one_spec_per_object_in_order():
    specs = parse_device_specs(['[{"devname": "a"}, {"devname": "b"}]', '{"devname": "c"}'])
    assert [(s.entry, s.devname) for s in specs] == [
        ("device_spec[0][0]", "a"),
        ("device_spec[0][1]", "b"),
        ("device_spec[1]", "c"),
    ]


def test_parsed_dicts_are_accepted_like_json_objects():
    assert one_spec({"vendor_id": "8086"}).vendor_id == "8086"


def test_a_single_entry_given_bare_is_one_entry_not_a_sequence_of_characters():
    assert [s.devname for s in parse_device_specs('{"devname": "a"}')] == ["a"]  # type: ignore[arg-type]


def test_an_empty_json_array_contributes_nothing():
    assert len(parse_device_specs(["[]", "{}"])) == 1


@pytest.mark.parametrize(
    ("entries", "entry", "reason_part"),
    [
        (['{"vendor_id": "8086"'], "device_spec[0]", "Invalid entry"),
        (["{}", "42"], "device_spec[1]", "Expecting list or dict"),
        (['"text"'], "device_spec[0]", "Expecting list or dict"),
        (['[{}, "x"]'], "device_spec[0][1]", "Expecting dict"),
    ],
)
def test_an_entry_that_is_not_a_json_object_or_array_of_objects_is_refused(
    entries, entry, reason_part
):
    error = refusal(entries)
    assert (error.entry, error.field) == (entry, None)
    assert reason_part in error.reason


def test_one_bad_entry_refuses_the_whole_list():
    error = refusal(['{"vendor_id": "8086"}', '{"vendor_id": "xyz"}'])
    assert error.entry == "device_spec[1]"


# --- vendor_id / product_id ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("8086", "8086"),
        ("80", "0080"),
        ("ABCD", "abcd"),
        ("0x154C", "154c"),
        (" 8086 ", "8086"),
        ("*", None),
        (None, None),
    ],
)
def test_ids_are_normalised_to_four_lower_case_hex_digits_or_any(given, normalised):
    spec = one_spec({"vendor_id": given, "product_id": given})
    assert (spec.vendor_id, spec.product_id) == (normalised, normalised)


def test_a_missing_id_is_any():
    spec = one_spec("{}")
    assert (spec.vendor_id, spec.product_id) == (None, None)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("vendor_id", "xyz", "property vendor_id ('xyz') does not parse as a hex number"),
        ("vendor_id", "", "property vendor_id ('') does not parse as a hex number"),
        ("product_id", "**", "property product_id ('**') does not parse as a hex number"),
        ("product_id", "-1", "property product_id ('-1') does not parse as a hex number"),
        (
            "vendor_id",
            "80860",
            "property vendor_id (80860) is greater than the maximum allowable value (FFFF)",
        ),
        ("vendor_id", 8086, "must be a string of hex digits, not 8086"),
        ("product_id", 0x154C, "must be a string of hex digits, not 5452"),
    ],
)
def test_ids_that_are_not_hex_strings_up_to_ffff_are_refused(field, value, reason):
    error = refusal([{field: value}])
    assert (error.entry, error.field, error.reason) == ("device_spec[0]", field, reason)


# --- address: glob form -------------------------------------------------------------------


@pytest.mark.parametrize("glob", ["", "*", ".", ":", "::", "*:*:*.*", " * : * . * "])
def test_an_empty_or_star_glob_selects_every_address(glob):
    for address in ("0000:00:00.0", "ffff:ff:1f.7", "0001:3b:02.5"):
        assert selects(glob, address)


@pytest.mark.parametrize(
    ("glob", "address", "selected"),
    [
        # fields are right-aligned: one field is the slot, two are bus:slot
        ("02", "0000:3b:02.5", True),
        ("02", "0000:02:00.0", False),
        ("3b:02", "0001:3b:02.1", True),
        ("3b:02", "0000:3c:02.1", False),
        (":0a:00.", "0000:0a:00.3", True),
        (":0a:00.", "0001:0a:00.0", True),
        (":0a:00.", "0000:0b:00.0", False),
        ("*:0a:00.*", "0000:0a:00.7", True),
        (".5", "0000:3b:02.5", True),
        (".5", "0000:3b:02.4", False),
        ("0000:0a:00", "0000:0a:00.6", True),
        ("0:a:0.1", "0000:0a:00.1", True),
        ("0:a:0.1", "0000:0a:00.2", False),
        ("0x3b:0x2.0x1", "0000:3b:02.1", True),
        ("0000:3B:02.1", "0000:3b:02.1", True),
        ("0001:3b:02.1", "0000:3b:02.1", False),
    ],
)
def test_a_glob_address_compares_each_given_field_in_hex(glob, address, selected):
    assert selects(glob, address) is selected


addresses = st.builds(
    PciAddress,
    st.integers(0, 0xFFFF),
    st.integers(0, 0xFF),
    st.integers(0, 0x1F),
    st.integers(0, 7),
)


@given(addresses, addresses)
def test_a_full_kernel_address_as_a_glob_or_regex_selects_that_address_alone(address, other):
    text = str(address)
    domain, bus, rest = text.split(":")
    slot, function = rest.split(".")
    regex = {"domain": domain, "bus": bus, "slot": slot, "function": function}
    for form in (text, regex):
        pattern = parse_address_spec("device_spec[0]", form)
        assert pattern.single == address
        assert pattern.matches(address)
        assert pattern.matches(other) is (other == address)


@pytest.mark.parametrize(
    ("glob", "single"),
    [
        ("0:a:0.0", "0000:0a:00.0"),
        ("0000:3b:00.0", "0000:3b:00.0"),
        ("3b:00.0", None),
        ("0000:3b:00.*", None),
        ("0000:3b:00", None),
        ("*:3b:00.0", None),
    ],
)
def test_only_a_glob_naming_all_four_fields_is_a_single_address(glob, single):
    pattern = parse_address_spec("device_spec[0]", glob)
    assert (str(pattern.single) if pattern.single else None) == single


@pytest.mark.parametrize(
    ("glob", "reason"),
    [
        ("0000:0a:00.8", "property func (8) is greater than the maximum allowable value (7)"),
        (
            "10000:00:00.0",
            "property domain (10000) is greater than the maximum allowable value (FFFF)",
        ),
        ("0000:100:00.0", "property bus (100) is greater than the maximum allowable value (FF)"),
        ("0000:00:20.0", "property slot (20) is greater than the maximum allowable value (1F)"),
        ("0*:00:00.0", "property domain ('0*') does not parse as a hex number"),
        ("0000:0*:00.0", "property bus ('0*') does not parse as a hex number"),
        ("0000:00:0*.0", "property slot ('0*') does not parse as a hex number"),
        ("0000:00:00.1*", "property func ('1*') does not parse as a hex number"),
        ("0000:h4.12:6", "property func ('12:6') does not parse as a hex number"),
        ("-1:00:00.0", "property domain ('-1') does not parse as a hex number"),
        ("0000:00:00. ", "property func ('') does not parse as a hex number"),
        # the function is checked first, whatever else is wrong
        ("zz:00:00.9", "property func (9) is greater than the maximum allowable value (7)"),
    ],
)
def test_a_glob_field_that_is_not_hex_within_its_maximum_is_refused_with_novas_message(
    glob, reason
):
    error = refusal([{"address": glob}])
    assert (error.entry, error.field, error.reason) == ("device_spec[0]", "address", reason)


@pytest.mark.parametrize("glob", [":::", "0:0:0:0.0", "a:b:c:d"])
def test_a_glob_with_more_than_three_fields_before_the_dot_has_the_wrong_format(glob):
    error = refusal([{"address": glob}])
    assert error.field == "address"
    assert "incorrect format" in error.reason


# --- address: regex form, null and wrong types ----------------------------------------------


@pytest.mark.parametrize(
    ("regex", "address", "selected"),
    [
        ({}, "0000:3b:02.5", True),
        ({"bus": "0"}, "0000:0a:00.0", True),  # a prefix match, as re.match does
        ({"bus": "0a$"}, "0000:0a:00.0", True),
        ({"bus": "0A"}, "0000:0a:00.0", False),  # fields are lower case
        ({"bus": "a"}, "0000:0a:00.0", False),  # fields are zero-padded
        ({"slot": "0[1-2]"}, "0000:3b:01.0", True),
        ({"slot": "0[1-2]"}, "0000:3b:03.0", False),
        ({"function": "[0-3]"}, "0000:3b:01.3", True),
        ({"function": "[0-3]"}, "0000:3b:01.4", False),
        ({"domain": "0000"}, "0000:3b:01.4", True),
        ({"domain": "0001"}, "0000:3b:01.4", False),
        ({"domain": "00", "bus": "3b", "slot": "01", "function": "4"}, "0000:3b:01.4", True),
        ({"domain": ".*", "bus": "02", "slot": "0[1-2]", "function": ".*"}, "0000:02:02.1", True),
        ({"bus": ""}, "0000:3b:01.4", True),
    ],
)
def test_a_regex_address_prefix_matches_the_kernel_form_of_each_field(regex, address, selected):
    assert selects(regex, address) is selected


@pytest.mark.parametrize(
    ("regex", "single"),
    [
        ({"domain": "0000", "bus": "3b", "slot": "00", "function": "0"}, "0000:3b:00.0"),
        ({"domain": "0000", "bus": "3B", "slot": "00", "function": "0"}, None),
        ({"domain": "0", "bus": "3b", "slot": "00", "function": "0"}, None),
        ({"domain": "0000", "bus": "3b", "slot": "00"}, None),
        ({"domain": "0000", "bus": "3b", "slot": "0[0]", "function": "0"}, None),
    ],
)
def test_only_a_regex_spelling_all_four_fields_in_kernel_form_is_a_single_address(regex, single):
    pattern = parse_address_spec("device_spec[0]", regex)
    assert (str(pattern.single) if pattern.single else None) == single


@pytest.mark.parametrize(
    ("address", "reason_part"),
    [
        ({"bus": "*"}, "property bus ('*') is not a valid regular expression"),
        ({"slot": "(0"}, "property slot ('(0') is not a valid regular expression"),
        ({"bus": 10}, "property bus (10) must be a regular expression string"),
        ({"func": "1"}, "unknown key(s) func in the regex address"),
        ([], "incorrect format"),
        (5, "incorrect format"),
        (True, "incorrect format"),
    ],
)
def test_bad_regex_addresses_and_wrong_address_types_are_refused(address, reason_part):
    error = refusal([{"address": address}])
    assert (error.entry, error.field) == ("device_spec[0]", "address")
    assert reason_part in error.reason


def test_a_null_address_selects_every_address():
    assert one_spec('{"address": null}').address.is_any


# --- devname --------------------------------------------------------------------------------


def test_devname_and_address_together_are_refused():
    error = refusal(['{"devname": "ens1f0", "address": "0000:3b:00.0"}'])
    assert (error.field, error.reason) == (
        "devname",
        "a device spec can name a devname or an address, but not both",
    )


@pytest.mark.parametrize(
    ("entry", "devname", "any_address"),
    [
        ({"devname": "", "address": "0000:3b:00.0"}, None, False),
        ({"devname": "", "physical_network": "net1"}, None, True),
        ({"devname": "ens1f0", "address": ""}, "ens1f0", True),
        ({"devname": "ens1f0", "address": {}}, "ens1f0", True),
    ],
)
def test_an_empty_devname_or_address_gives_way_to_the_other(entry, devname, any_address):
    spec = one_spec(entry)
    assert (spec.devname, spec.address.is_any) == (devname, any_address)


def test_a_devname_that_is_not_a_string_is_refused():
    assert refusal([{"devname": 3}]).field == "devname"


# --- tags -----------------------------------------------------------------------------------


def test_reserved_keys_are_not_tags_and_other_keys_are_kept_verbatim():
    spec = one_spec(
        '{"vendor_id": "8086", "product_id": "154c", "address": "3b:02.0", "physical_network":'
        ' null, "trusted": "yes", "foo": "bar", "numa": 1, "resource_class": "CUSTOM_X",'
        ' "traits": "A,B", "remote_managed": "yes"}'
    )
    assert dict(spec.tags) == {
        "physical_network": None,
        "trusted": "yes",
        "foo": "bar",
        "numa": 1,
        "resource_class": "CUSTOM_X",
        "traits": "A,B",
        "remote_managed": "yes",
    }


@pytest.mark.parametrize("tag", ["managed", "live_migratable", "one_time_use"])
@pytest.mark.parametrize(
    ("value", "normalised"),
    [
        ("yes", "true"),
        ("Y", "true"),
        (" on ", "true"),
        ("1", "true"),
        (True, "true"),
        (1, "true"),
        ("no", "false"),
        ("OFF", "false"),
        ("f", "false"),
        (False, "false"),
        (0, "false"),
        (None, None),
    ],
)
def test_managed_live_migratable_and_one_time_use_become_strict_true_or_false(
    tag, value, normalised
):
    spec = one_spec({tag: value}, report_in_placement=True)
    assert spec.tags[tag] == normalised


@pytest.mark.parametrize("value", ["maybe", "", 2, 1.0])
def test_a_strict_bool_tag_with_another_value_is_refused_with_the_accepted_words(value):
    error = refusal([{"managed": value}])
    assert error.field == "managed"
    assert error.reason == (
        f"Cannot parse tag 'managed': Unrecognized value '{value}', acceptable values are: "
        "'0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
    )


def test_one_time_use_true_needs_report_in_placement():
    error = refusal(['{"one_time_use": "yes"}'])
    assert (error.field, error.reason) == (
        "one_time_use",
        "one_time_use=true requires pci.report_in_placement to be enabled",
    )
    assert one_spec('{"one_time_use": "no"}').tags["one_time_use"] == "false"


@pytest.mark.parametrize(
    ("value", "remote_managed"),
    [
        ("true", True),
        ("Yes", True),
        ("1", True),
        (True, True),
        ("false", False),
        ("nope", False),
        (None, False),
    ],
)
def test_remote_managed_is_read_leniently_and_kept_as_written(value, remote_managed):
    spec = one_spec({"remote_managed": value})
    assert (spec.remote_managed, spec.tags["remote_managed"]) == (remote_managed, value)


@pytest.mark.parametrize("value", [[1], {"a": 1}])
def test_a_tag_value_that_is_a_list_or_object_is_refused(value):
    error = refusal([{"physical_network": value}])
    assert (error.entry, error.field) == ("device_spec[0]", "physical_network")


def test_spec_tags_cannot_be_changed_after_parsing():
    spec = one_spec('{"physical_network": "net1"}')
    with pytest.raises(TypeError):
        spec.tags["physical_network"] = "net2"  # type: ignore[index]
