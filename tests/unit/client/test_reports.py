"""Inventory reports carry what the server needs of each selected device."""

from vfnet.client.reports import device_report
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType, Netdev, PciDevice
from vfnet.pci.selection import SelectedDevice

PF = PciAddress.parse("0000:3b:00.0")
VF = PciDevice(
    PciAddress.parse("0000:3b:02.1"),
    DeviceType.VF,
    "8086",
    "154c",
    driver="iavf",
    numa_node=1,
    netdevs=(Netdev("ens1f0v1", mac="fa:16:3e:00:00:01"),),
    parent_addr=PF,
    vf_index=1,
)


def test_a_vf_report_names_its_pf_index_netdev_and_tags():
    selected = SelectedDevice(VF, {"physical_network": "physnet1", "trusted": "true"})
    assert device_report(selected) == {
        "address": "0000:3b:02.1",
        "dev_type": "type-VF",
        "vendor_id": "8086",
        "product_id": "154c",
        "numa_node": 1,
        "parent_addr": "0000:3b:00.0",
        "vf_index": 1,
        "driver": "iavf",
        "ifname": "ens1f0v1",
        "mac": "fa:16:3e:00:00:01",
        "tags": {"physical_network": "physnet1", "trusted": "true"},
        "resource_name": None,
        "healthy": True,
        "health_reasons": [],
    }


def test_an_unhealthy_device_is_reported_with_its_reasons():
    report = device_report(SelectedDevice(VF), healthy=False, reasons=["no driver bound"])
    assert (report["healthy"], report["health_reasons"]) == (False, ["no driver bound"])


def test_tag_values_the_api_cannot_keep_are_left_out():
    report = device_report(SelectedDevice(VF, {"weight": 1.5, "physical_network": "physnet1"}))
    assert report["tags"] == {"physical_network": "physnet1"}
