"""Formats and links of generated hosts, per the kernel's pci-sysfs, iov and net-sysfs code."""

import os
import re
import subprocess
from pathlib import Path

import pytest

from vfnet.lab.sysfs import HostSpec, generate_host, nic_model, read_marker
from vfnet.pci.address import PciAddress
from vfnet.pci.devices import DeviceType

MODALIAS = re.compile(
    r"pci:v[0-9A-F]{8}d[0-9A-F]{8}sv[0-9A-F]{8}sd[0-9A-F]{8}bc[0-9A-F]{2}sc[0-9A-F]{2}i[0-9A-F]{2}\n"
)
X710 = HostSpec(nic="x710", pfs=2, vfs=12, numa_nodes=2, ports_per_card=1)


@pytest.fixture
def x710(sysroot: Path) -> Path:
    generate_host(X710, sysroot)
    return sysroot


def dev(root: Path, address: str) -> Path:
    return root / "bus/pci/devices" / address


@pytest.mark.parametrize(
    ("address", "name", "expected"),
    [
        ("0000:3b:00.0", "modalias", b"pci:v00008086d00001572sv00008086sd00000001bc02sc00i00\n"),
        ("0000:3b:02.0", "modalias", b"pci:v00008086d0000154Csv00008086sd00000000bc02sc00i00\n"),
        ("0000:3b:00.0", "sriov_vf_device", b"154c\n"),
        ("0000:3b:00.0", "sriov_totalvfs", b"64\n"),
        ("0000:3b:00.0", "sriov_offset", b"16\n"),
        ("0000:3b:00.0", "driver_override", b"(null)\n"),
        ("0000:3b:02.0", "driver_override", b"(null)\n"),
        ("0000:3b:00.0", "class", b"0x020000\n"),
        ("0000:3b:02.0", "device", b"0x154c\n"),
        ("0000:3b:02.0", "irq", b"0\n"),
        (
            "0000:3b:02.0",
            "uevent",
            b"DRIVER=iavf\nPCI_CLASS=20000\nPCI_ID=8086:154C\nPCI_SUBSYS_ID=8086:0000\n"
            b"PCI_SLOT_NAME=0000:3b:02.0\n"
            b"MODALIAS=pci:v00008086d0000154Csv00008086sd00000000bc02sc00i00\n",
        ),
    ],
)
def test_identity_files_have_the_kernels_exact_format(x710, address, name, expected):
    assert (dev(x710, address) / name).read_bytes() == expected


def test_every_modalias_is_54_bytes_and_upper_case(x710):
    for link in (x710 / "bus/pci/devices").iterdir():
        modalias = (link / "modalias").read_bytes()
        assert len(modalias) == 54
        assert MODALIAS.fullmatch(modalias.decode())


@pytest.mark.parametrize(
    ("link", "target"),
    [
        ("bus/pci/devices/0000:3b:00.0", "../../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0"),
        ("devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/virtfn0", "../0000:3b:02.0"),
        ("devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/virtfn11", "../0000:3b:03.3"),
        ("devices/pci0000:3a/0000:3a:00.0/0000:3b:02.3/physfn", "../0000:3b:00.0"),
        ("devices/pci0000:3a/0000:3a:00.0/0000:3b:02.3/driver", "../../../../bus/pci/drivers/iavf"),
        ("devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0/subsystem", "../../../../bus/pci"),
        (
            "devices/pci0000:3a/0000:3a:00.0/0000:3b:02.3/iommu_group",
            "../../../../kernel/iommu_groups/8",
        ),
        ("class/net/ens1f0v3", "../../devices/pci0000:3a/0000:3a:00.0/0000:3b:02.3/net/ens1f0v3"),
        (
            "devices/pci0000:3a/0000:3a:00.0/0000:3b:02.3/net/ens1f0v3/device",
            "../../../0000:3b:02.3",
        ),
        (
            "bus/pci/drivers/i40e/0000:3b:00.0",
            "../../../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.0",
        ),
        (
            "kernel/iommu_groups/8/devices/0000:3b:02.3",
            "../../../../devices/pci0000:3a/0000:3a:00.0/0000:3b:02.3",
        ),
        ("bus/pci/drivers/iavf/module", "../../../../module/iavf"),
    ],
)
def test_links_point_where_the_kernels_do_with_the_right_depth(x710, link, target):
    assert os.readlink(x710 / link) == target
    assert (x710 / link).exists()


def test_vfs_are_siblings_of_their_pf(x710):
    pf = dev(x710, "0000:3b:00.0").resolve()
    for n in range(12):
        vf = (pf / f"virtfn{n}").resolve()
        assert vf.parent == pf.parent
        assert (vf / "physfn").resolve() == pf


def test_virtfn_links_count_beyond_nine_in_decimal(x710):
    pf = dev(x710, "0000:3b:00.0")
    names = sorted(
        (p.name for p in pf.iterdir() if p.name.startswith("virtfn")), key=lambda n: int(n[6:])
    )
    assert names[-3:] == ["virtfn9", "virtfn10", "virtfn11"]
    assert os.readlink(pf / "virtfn10") == "../0000:3b:03.2"


def test_a_pf_and_its_vfs_share_numa_node_and_cpus(x710):
    for pf, node, cpus in (
        ("0000:3b:00.0", b"0\n", b"0-15\n"),
        ("0000:3d:00.0", b"1\n", b"16-31\n"),
    ):
        for function in [dev(x710, pf), *sorted(dev(x710, pf).glob("virtfn*"))]:
            assert (function / "numa_node").read_bytes() == node
            assert (function / "local_cpulist").read_bytes() == cpus
            assert (function / "local_cpus").read_bytes() == (
                dev(x710, pf) / "local_cpus"
            ).read_bytes()


def test_a_net_device_link_leads_back_to_its_function(x710):
    for link in (x710 / "class/net").iterdir():
        assert (link / "device/net" / link.name).resolve() == link.resolve()
    assert (x710 / "class/net/ens1f0/device/sriov_numvfs").read_bytes() == b"12\n"


def test_vf_addresses_spill_onto_the_next_bus_and_stay_siblings(sysroot):
    host = generate_host(HostSpec(nic="e810", pfs=1, vfs=256, ports_per_card=1), sysroot)
    pf = PciAddress.parse("0000:3b:00.0")
    vfs = host.vfs_of(pf)
    assert [str(vfs[0].address), str(vfs[247].address), str(vfs[248].address)] == [
        "0000:3b:01.0",
        "0000:3b:1f.7",
        "0000:3c:00.0",
    ]
    assert os.readlink(dev(sysroot, str(pf)) / "virtfn255") == "../0000:3c:00.7"
    assert (
        sysroot / "devices/pci0000:3a/0000:3a:00.0/subordinate_bus_number"
    ).read_bytes() == b"60\n"


def test_the_model_returned_is_the_tree_written(x710):
    spec = read_marker(x710)
    assert spec == X710
    listed = sorted(p.name for p in (x710 / "bus/pci/devices").iterdir())
    host = generate_host(X710, x710.parent / "again")
    assert sorted(str(d.address) for d in host) == listed
    assert [d.dev_type for d in host].count(DeviceType.VF) == 24


def test_switchdev_puts_one_representor_per_vf_under_the_pf(sysroot):
    host = generate_host(HostSpec(nic="cx6dx", pfs=2, vfs=3, switchdev=True), sysroot)
    pf = dev(sysroot, "0000:3b:00.1")
    assert sorted(p.name for p in (pf / "net").iterdir()) == [
        "ens1f1",
        "ens1f1_0",
        "ens1f1_1",
        "ens1f1_2",
    ]
    assert (pf / "net/ens1f1/phys_port_name").read_bytes() == b"p1\n"
    assert (pf / "net/ens1f1_2/phys_port_name").read_bytes() == b"pf1vf2\n"
    switch_ids = {(n / "phys_switch_id").read_bytes() for n in (pf / "net").iterdir()}
    assert len(switch_ids) == 1
    vf = host.vfs_of(PciAddress.parse("0000:3b:00.1"))[2]
    assert vf.representor is not None and vf.representor.phys_port_name == "pf1vf2"


def test_vdpa_devices_hang_under_their_vf_with_a_vhost_char_device(sysroot):
    host = generate_host(HostSpec(nic="cx6dx", pfs=1, vfs=2, vdpa=True), sysroot)
    vdpa1 = sysroot / "bus/vdpa/devices/vdpa1"
    assert os.readlink(vdpa1) == "../../../devices/pci0000:3a/0000:3a:00.0/0000:3b:00.3/vdpa1"
    assert os.readlink(vdpa1 / "driver").endswith("bus/vdpa/drivers/vhost_vdpa")
    assert (vdpa1 / "vhost-vdpa-1/dev").read_bytes() == b"509:1\n"
    vf = host[PciAddress.parse("0000:3b:00.3")]
    assert vf.dev_type is DeviceType.VDPA
    assert vf.vdpa is not None and vf.vdpa.chardev == "/dev/vhost-vdpa-1"


@pytest.mark.parametrize(
    ("nic", "pf_line", "vf_line"),
    [
        (
            "x710",
            "Ethernet Controller X710 for 10GbE SFP+ [8086:1572] (rev 02)",
            "Ethernet Virtual Function 700 Series [8086:154c] (rev 02)",
        ),
        (
            "e810",
            "Ethernet Controller E810-C for QSFP [8086:1592] (rev 02)",
            "Ethernet Adaptive Virtual Function [8086:1889] (rev 02)",
        ),
        (
            "cx6dx",
            "MT2892 Family [ConnectX-6 Dx] [15b3:101d]",
            "ConnectX Family mlx5Gen Virtual Function [15b3:101e]",
        ),
        (
            "igb",
            "82576 Gigabit Network Connection [8086:10c9] (rev 01)",
            "82576 Virtual Function [8086:10ca] (rev 01)",
        ),
    ],
)
def test_lspci_names_every_model_and_its_drivers(sysroot, nic, pf_line, vf_line):
    generate_host(HostSpec(nic=nic, pfs=2, vfs=2), sysroot)
    out = subprocess.run(
        ["lspci", "-D", "-nn", "-k", "-O", f"sysfs.path={sysroot}/bus/pci"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.count(pf_line) == 2
    assert out.count(vf_line) == 4
    model = nic_model(nic)
    in_use = [line.strip() for line in out.splitlines() if "Kernel driver in use" in line]
    assert [line for line in in_use if "pcieport" not in line] == [
        f"Kernel driver in use: {model.pf_driver}"
    ] * 2 + [f"Kernel driver in use: {model.vf_driver}"] * 4
