"""The host config file: loading real files, loud refusals, and what a host ends up offering."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.unit.pci.hosts import addresses, host, sriov_nic, two_port_x710
from vfnet.config import HostConfig, load_host_config, parse_host_config
from vfnet.errors import ConfigError, InvalidHostConfig, InvalidSelector
from vfnet.pci.devices import HostDevices

ENS1F0_VFS = ["0000:3b:02.0", "0000:3b:02.1", "0000:3b:02.2", "0000:3b:02.3"]
ENS1F1_VFS = ["0000:3b:0a.0", "0000:3b:0a.1", "0000:3b:0a.2", "0000:3b:0a.3"]


def write(tmp_path: Path, text: str, name: str = "host.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def parse(data: dict[str, Any]) -> HostConfig:
    return parse_host_config(data, "host.toml", hostname="compute-9")


def tagged(config: HostConfig, on: HostDevices) -> dict[str, tuple[dict[str, Any], str | None]]:
    return {str(s.device.address): (dict(s.tags), s.resource_name) for s in config.select(on)}


def test_a_file_with_host_mappings_vf_counts_and_pools_loads(tmp_path):
    path = write(
        tmp_path,
        """
        [host]
        name = "compute-1"
        sysfs_root = "lab/sys"

        [sriov_nic]
        physical_device_mappings = "physnet1:ens1f0"
        exclude_devices = "ens1f0:0000:3b:02.3"

        [num_vfs]
        ens1f0 = 4
        "0000:3B:00.1" = 4

        [[device_plugin.resourceList]]
        resourceName = "sriov_b"
        selectors = [{pfNames = ["ens1f1#0-1"]}]
        """,
    )
    config = load_host_config(path)
    assert (config.name, config.sysfs_root) == ("compute-1", tmp_path / "lab/sys")
    assert config.num_vfs == {"ens1f0": 4, "0000:3b:00.1": 4}
    assert config.sriov_nic.device_mappings == {"physnet1": ["ens1f0"]}
    assert tagged(config, two_port_x710()) == {
        "0000:3b:02.0": ({"physical_network": "physnet1"}, None),
        "0000:3b:02.1": ({"physical_network": "physnet1"}, None),
        "0000:3b:02.2": ({"physical_network": "physnet1"}, None),
        "0000:3b:0a.0": ({}, "intel.com/sriov_b"),
        "0000:3b:0a.1": ({}, "intel.com/sriov_b"),
    }


def test_an_empty_file_names_the_machine_and_selects_nothing(tmp_path):
    config = load_host_config(write(tmp_path, ""), hostname="compute-7")
    assert (config.name, str(config.sysfs_root), config.num_vfs) == ("compute-7", "/sys", {})
    assert config.select(two_port_x710()) == []


def test_a_toml_syntax_error_is_reported_with_its_line(tmp_path):
    path = write(tmp_path, '[host]\nname = "a"\nsysfs_root = /sys\n')
    with pytest.raises(InvalidHostConfig) as caught:
        load_host_config(path)
    assert caught.value.entry == str(path)
    assert "not valid TOML" in caught.value.reason and "line 3" in caught.value.reason


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(InvalidHostConfig, match="cannot read"):
        load_host_config(tmp_path / "absent.toml")


def test_device_plugin_may_name_a_config_json_beside_the_file(tmp_path):
    (tmp_path / "pcidp.json").write_text(
        json.dumps({"resourceList": [{"resourceName": "a", "selectors": {"pfNames": ["ens1f0"]}}]})
    )
    config = load_host_config(write(tmp_path, 'device_plugin = "pcidp.json"\n'))
    assert addresses(config.select(two_port_x710())) == ENS1F0_VFS


def test_a_device_plugin_file_that_cannot_be_read_is_refused(tmp_path):
    with pytest.raises(InvalidHostConfig) as caught:
        load_host_config(write(tmp_path, 'device_plugin = "absent.json"\n'))
    assert caught.value.field == "device_plugin" and "absent.json" in caught.value.reason


@pytest.mark.parametrize(
    ("data", "entry", "field", "reason"),
    [
        ({"hosts": {}}, "host.toml", "hosts", "unknown section"),
        ({"host": {"hostname": "a"}}, "host.toml [host]", "hostname", "unknown key"),
        ({"host": {"name": ""}}, "host.toml [host]", "name", "expected a non-empty string"),
        ({"host": "compute-1"}, "host.toml", "host", "expected a [host] table"),
        ({"pci": {"passthrough_whitelist": []}}, "host.toml [pci]", "passthrough_whitelist",
         "unknown key"),
        ({"pci": {"device_spec": {"devname": "ens1f0"}}}, "host.toml [pci]", "device_spec",
         "expected a list"),
        ({"pci": {"report_in_placement": "yes"}}, "host.toml [pci]", "report_in_placement",
         "expected true or false"),
        ({"num_vfs": {"ens1f0": -1}}, "host.toml [num_vfs]", "ens1f0",
         "expected a whole number >= 0, not -1"),
        ({"num_vfs": {"ens1f0": True}}, "host.toml [num_vfs]", "ens1f0", "whole number"),
        ({"num_vfs": {"ens1f0": "8"}}, "host.toml [num_vfs]", "ens1f0", "whole number"),
        ({"num_vfs": {"3b:00.0": 8}}, "host.toml [num_vfs]", "3b:00.0", "not a PCI address"),
        ({"num_vfs": {"0000:3b:00.0": 8, "0000:3B:00.0": 4}}, "host.toml [num_vfs]",
         "0000:3B:00.0", "PF 0000:3b:00.0 is given twice"),
        ({"sriov_nic": {"physical_device_mappings": "physnet1"}}, "host.toml [sriov_nic]",
         "physical_device_mappings", "'physnet1' is not physnet:pf_netdev"),
        ({"sriov_nic": {"exclude_devices": "ens1f0:0000:3b:02.0"}}, "host.toml [sriov_nic]",
         "exclude_devices", "PF 'ens1f0' is not in physical_device_mappings"),
        ({"sriov_nic": {"bridge_mappings": ""}}, "host.toml [sriov_nic]", "bridge_mappings",
         "unknown key"),
        ({"device_plugin": 3}, "host.toml", "device_plugin", "expected a config.json path"),
    ],
)  # fmt: skip
def test_bad_host_settings_are_refused_naming_file_section_field_and_reason(
    data, entry, field, reason
):
    with pytest.raises(InvalidHostConfig) as caught:
        parse(data)
    assert (caught.value.entry, caught.value.field) == (entry, field)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("device_plugin", "entry", "field", "reason"),
    [
        ({"resourceList": [{"resourceName": "a", "selectors": [{"pfNames": ["ens1f0#3-1"]}]}]},
         "host.toml [device_plugin] resourceList[0] 'a'", "selectors[0].pfNames", "reversed"),
        ({"resourceList": [{"resourceName": "a"}, {"resourceName": "a"}]},
         "host.toml [device_plugin] resourceList[1] 'a'", "resourceName", "already used"),
        ({"resourceList": [{"resourceName": "a", "selector": {}}]},
         "host.toml [device_plugin] resourceList[0] 'a'", "selector", "unknown key"),
    ],
)  # fmt: skip
def test_bad_selectors_in_the_file_are_refused_naming_the_file(device_plugin, entry, field, reason):
    with pytest.raises(InvalidSelector) as caught:
        parse({"device_plugin": device_plugin})
    assert (caught.value.entry, caught.value.field) == (entry, field)
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("data", "entry", "field", "reason"),
    [
        ({"sriov_nic": {"physical_device_mappings": "physnet1:ens9"}}, "host.toml [sriov_nic]",
         "physical_device_mappings", "PF 'ens9' does not exist on this host"),
        ({"num_vfs": {"ens9": 2}}, "host.toml [num_vfs]", "ens9",
         "PF 'ens9' does not exist on this host"),
        ({"num_vfs": {"0000:3b:00.7": 2}}, "host.toml [num_vfs]", "0000:3b:00.7",
         "PF '0000:3b:00.7' does not exist on this host"),
        ({"num_vfs": {"ens1f0": 9}}, "host.toml [num_vfs]", "ens1f0",
         "9 VFs is more than the PF supports (sriov_totalvfs 8)"),
        ({"num_vfs": {"ens1f0": 2, "0000:3b:00.0": 2}}, "host.toml [num_vfs]", "0000:3b:00.0",
         "same PF as 'ens1f0'"),
        ({"device_plugin": {"resourceList": [
            {"resourceName": "a", "selectors": [{"rootDevices": ["0000:3b:00.1#8"]}]}]}},
         "host.toml [device_plugin] resourceList[0] 'a'", "selectors[0].rootDevices",
         "VF index 8 in '0000:3b:00.1#8' is out of bounds"),
    ],
)  # fmt: skip
def test_what_only_the_host_can_show_wrong_is_refused_before_selecting(data, entry, field, reason):
    config = parse(data)
    with pytest.raises(ConfigError) as caught:
        config.select(two_port_x710(total_vfs=8))
    assert (caught.value.entry, caught.value.field) == (entry, field)
    assert reason in caught.value.reason


def test_excluded_vfs_are_never_offered_even_when_a_pool_selects_them():
    config = parse(
        {
            "sriov_nic": {
                "physical_device_mappings": ["physnet1:ens1f0", "physnet2:ens1f1"],
                "exclude_devices": ["ens1f0:0000:3b:02.0;0000:3b:02.1", "ens1f1:0000:3b:0a.3"],
            },
            "device_plugin": {"resourceList": [{"resourceName": "all"}]},
        }
    )
    assert addresses(config.select(two_port_x710())) == ENS1F0_VFS[2:] + ENS1F1_VFS[:3]


def test_a_pool_names_the_resource_of_a_mapped_vf_and_keeps_its_physnet():
    config = parse(
        {
            "sriov_nic": {"physical_device_mappings": "physnet1:ens1f0"},
            "device_plugin": {
                "resourceList": [
                    {"resourceName": "fast", "selectors": {"pfNames": ["ens1f0#0"]}},
                ]
            },
        }
    )
    chosen = tagged(config, two_port_x710(num_vfs=2))
    assert chosen == {
        "0000:3b:02.0": ({"physical_network": "physnet1"}, "intel.com/fast"),
        "0000:3b:02.1": ({"physical_network": "physnet1"}, None),
    }


def test_vf_counts_are_bounded_by_total_vfs_not_by_the_vfs_present_now():
    config = parse({"num_vfs": {"ens1f0": 8, "ens1f1": 0}})
    config.validate(two_port_x710(num_vfs=0, total_vfs=8))
    assert config.num_vfs == {"ens1f0": 8, "ens1f1": 0}


DOCS = Path(__file__).resolve().parents[2] / "docs" / "host-config.md"


def doc_examples() -> list[str]:
    blocks = DOCS.read_text().split("```toml\n")[1:]
    return [block.split("```")[0] for block in blocks]


def doc_host() -> HostDevices:
    return host(
        *two_port_x710(num_vfs=4).devices.values(),
        sriov_nic("0000:5e:00.0", "ens2f0", num_vfs=4),
        sriov_nic("0000:3d:00.0", None, num_vfs=2, vf_product="37c9", class_code="120000"),
    )


@pytest.mark.parametrize("example", doc_examples(), ids=lambda text: text.split("\n")[0][:30])
def test_every_example_in_the_host_config_reference_loads_and_selects(example, tmp_path):
    (tmp_path / "etc/pcidp").mkdir(parents=True)
    (tmp_path / "etc/pcidp/config.json").write_text('{"resourceList": []}')
    example = example.replace('"/etc/pcidp/', '"etc/pcidp/')
    config = load_host_config(write(tmp_path, example), hostname="doc")
    assert config.select(doc_host()) or example.startswith('device_plugin = "')


def test_the_reference_example_with_both_syntaxes_tags_vm_vfs_and_pools_pod_vfs(tmp_path):
    example = next(text for text in doc_examples() if "pod_vfs" in text)
    chosen = tagged(load_host_config(write(tmp_path, example)), doc_host())
    vm = ({"physical_network": "physnet1", "trusted": "true"}, None)
    pod = ({}, "intel.com/pod_vfs")
    assert chosen == {"0000:3b:00.0": vm} | dict.fromkeys(ENS1F0_VFS, vm) | dict.fromkeys(
        ENS1F1_VFS, pod
    )


def test_a_bad_device_spec_in_the_file_is_refused_naming_file_section_and_entry():
    with pytest.raises(ConfigError) as caught:
        parse({"pci": {"device_spec": ['{"devname": "ens1f0"}', {"vendor_id": "xyz"}]}})
    assert caught.value.entry.startswith("host.toml [pci] device_spec[1]")
    assert "vendor_id" in str(caught.value)


def test_a_device_both_a_device_spec_and_a_pool_select_has_the_tags_and_the_resource():
    config = parse(
        {
            "pci": {"device_spec": [{"address": "0000:3b:00.1", "physical_network": "physnet2"}]},
            "device_plugin": {"resourceList": [{"resourceName": "b", "selectors": {}}]},
        }
    )
    chosen = tagged(config, two_port_x710(num_vfs=1))
    physnet2 = {"physical_network": "physnet2"}
    assert chosen == {
        "0000:3b:00.1": (physnet2, None),  # the PF has VFs, so no pool offers it
        "0000:3b:02.0": ({}, "intel.com/b"),
        "0000:3b:0a.0": (physnet2, "intel.com/b"),
    }


def test_aliases_are_parsed_as_nova_parses_them_and_a_bad_one_names_the_file():
    alias = '{"name": "gpu", "vendor_id": "10de", "product_id": "1db4", "device_type": "type-PCI"}'
    assert list(parse({"pci": {"alias": [alias]}}).aliases) == ["gpu"]
    with pytest.raises(ConfigError) as caught:
        parse({"pci": {"alias": ['{"name": "gpu", "device_type": "type-XYZ"}']}})
    assert caught.value.entry.startswith("host.toml [pci]")


def test_bridges_map_physical_networks_to_the_linux_bridges_of_normal_ports():
    config = parse({"bridges": {"physnet1": "br-physnet1", "provider": "br-ex"}})
    assert config.bridges == {"physnet1": "br-physnet1", "provider": "br-ex"}


@pytest.mark.parametrize(
    ("bridge", "reason"),
    [
        ("br-a-name-far-too-long", "1-15 characters"),
        ("", "1-15 characters"),
        (7, "1-15 characters"),
        ("br/0", "not a valid link name"),
        ("br 0", "not a valid link name"),
    ],
)
def test_a_bad_bridge_name_is_refused_naming_its_physnet(bridge, reason):
    with pytest.raises(InvalidHostConfig) as refused:
        parse({"bridges": {"physnet1": bridge}})
    assert refused.value.entry == "host.toml [bridges]"
    assert refused.value.field == "physnet1"
    assert reason in refused.value.reason
