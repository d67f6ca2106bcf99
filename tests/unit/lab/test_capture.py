"""The generated 82576 host against a real one: an igb PF and igbvf VFs captured from a
6.1 kernel under QEMU (``tests/data/igb-sysfs-capture.tar.gz``), compared with lspci and
file by file.
"""

import os
import re
import subprocess
import tarfile
from pathlib import Path

import pytest

from vfnet.lab.sysfs import HostSpec, generate_host

CAPTURE = Path(__file__).parents[2] / "data" / "igb-sysfs-capture.tar.gz"
QEMU_IGB = HostSpec(nic="82576", pfs=1, vfs=4, platform="qemu")  # the capture's placement
PORT = "devices/pci0000:00/0000:00:02.0"
PF = f"{PORT}/0000:01:00.0"
VF = f"{PORT}/0000:01:10.0"
LAST_VF = f"{PORT}/0000:01:10.6"

# Values that differ between any two machines or boots: counters, addresses, numbers the
# kernel hands out in order (irqs, ifindex, wakeupN), and BAR files nobody reads.
MACHINE_SPECIFIC = re.compile(
    r"(^|/)(address|ifindex|iflink|uevent|clock_name|carrier_changes|carrier_(up|down)_count"
    r"|runtime_active_time|runtime_usage|resource\d(_wc)?)$|/statistics/"
)


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("capture")
    with tarfile.open(CAPTURE) as tar:
        tar.extractall(where, filter="tar")
    return where / "sys"


@pytest.fixture
def generated(sysroot: Path) -> Path:
    generate_host(QEMU_IGB, sysroot)
    return sysroot


def lspci(root: Path, *options: str) -> list[str]:
    command = ["lspci", "-D", "-nn", *options, "-O", f"sysfs.path={root}/bus/pci"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()


def test_lspci_lists_the_generated_host_exactly_as_the_captured_card(capture, generated):
    assert lspci(generated) == lspci(capture)
    assert (
        "0000:01:00.0 Ethernet controller [0200]: Intel Corporation 82576 Gigabit Network "
        "Connection [8086:10c9] (rev 01)" in lspci(generated)
    )


def test_lspci_decodes_the_same_config_space_in_verbose_mode(capture, generated):
    # The capture left out bus/pci/drivers, so lspci cannot name its drivers; ours can.
    ours = lspci(generated, "-vv", "-k")
    drivers = [line.strip() for line in ours if "Kernel driver in use" in line]
    assert [line for line in ours if "Kernel driver in use" not in line] == lspci(
        capture, "-vv", "-k"
    )
    assert (
        drivers
        == ["Kernel driver in use: pcieport", "Kernel driver in use: igb"]
        + ["Kernel driver in use: igbvf"] * 4
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (f"{PF}/class", b"0x020000\n"),
        (f"{PF}/vendor", b"0x8086\n"),
        (f"{PF}/device", b"0x10c9\n"),
        (f"{PF}/subsystem_vendor", b"0x1af4\n"),
        (f"{PF}/subsystem_device", b"0x1100\n"),
        (f"{PF}/revision", b"0x01\n"),
        (f"{PF}/modalias", b"pci:v00008086d000010C9sv00001AF4sd00001100bc02sc00i00\n"),
        (f"{PF}/driver_override", b"(null)\n"),
        (f"{PF}/numa_node", b"-1\n"),
        (f"{PF}/local_cpulist", b"0-1\n"),
        (f"{PF}/local_cpus", b"3\n"),
        (f"{PF}/sriov_totalvfs", b"7\n"),
        (f"{PF}/sriov_numvfs", b"4\n"),
        (f"{PF}/sriov_offset", b"128\n"),
        (f"{PF}/sriov_stride", b"2\n"),
        (f"{PF}/sriov_vf_device", b"10ca\n"),
        (f"{PF}/sriov_drivers_autoprobe", b"1\n"),
        (f"{PF}/reset_method", b"flr pm bus\n"),
        (f"{PF}/current_link_speed", b"2.5 GT/s PCIe\n"),
        (f"{PF}/driver", "../../../../bus/pci/drivers/igb"),
        (f"{PF}/subsystem", "../../../../bus/pci"),
        (f"{PF}/virtfn0", "../0000:01:10.0"),
        (f"{PF}/virtfn3", "../0000:01:10.6"),
        (f"{PF}/ptp/ptp0/device", "../../../0000:01:00.0"),
        (f"{PF}/net/eth0/device", "../../../0000:01:00.0"),
        (f"{PF}/net/eth0/subsystem", "../../../../../../class/net"),
        (f"{PF}/net/eth0/operstate", b"up\n"),
        (f"{PF}/net/eth0/speed", b"1000\n"),
        (f"{PF}/net/eth0/flags", b"0x1003\n"),
        (f"{VF}/device", b"0x10ca\n"),
        (f"{VF}/physfn", "../0000:01:00.0"),
        (f"{VF}/driver", "../../../../bus/pci/drivers/igbvf"),
        (f"{VF}/irq", b"0\n"),
        (f"{VF}/d3cold_allowed", b"0\n"),
        (f"{VF}/modalias", b"pci:v00008086d000010CAsv00001AF4sd00001100bc02sc00i00\n"),
        ("bus/pci/devices/0000:01:10.2", f"../../../{PORT}/0000:01:10.2"),
        ("class/net/eth0", f"../../{PF}/net/eth0"),
    ],
)
def test_a_generated_file_holds_what_the_captured_kernel_wrote(capture, generated, path, expected):
    for root in (capture, generated):
        entry = root / path
        actual = os.readlink(entry) if isinstance(expected, str) else entry.read_bytes()
        assert (root.name, actual) == (root.name, expected)


def test_a_vf_netdev_that_is_down_cannot_report_carrier_or_speed(capture, generated):
    for root in (capture, generated):
        (netdev,) = (root / VF / "net").iterdir()
        assert (netdev / "operstate").read_bytes() == b"down\n"
        assert (netdev / "carrier").read_bytes() == b""  # EINVAL in the kernel
        assert (netdev / "speed").read_bytes() == b""


@pytest.mark.parametrize("device", [PF, VF, LAST_VF])
def test_a_function_directory_has_the_captured_entries_kinds_and_contents(
    capture, generated, device
):
    assert walk(generated / device) == walk(capture / device)


def walk(top: Path) -> dict[str, object]:
    """Every entry below ``top``: kind and link target or file content where not
    machine-specific, with kernel-numbered names (irqs, ethN, wakeupN) normalised."""
    found: dict[str, object] = {}
    for where, dirs, files in os.walk(top):
        for name in dirs + files:
            path = os.path.join(where, name)
            rel = _normal(os.path.relpath(path, top))
            if os.path.islink(path):
                found[rel] = ("link", _normal(os.readlink(path)))
            elif os.path.isdir(path):
                found[rel] = "dir"
            elif MACHINE_SPECIFIC.search(rel):
                found[rel] = "file"
            else:
                found[rel] = Path(path).read_bytes()
    return found


def _normal(rel: str) -> str:
    rel = re.sub(r"msi_irqs/\d+", "msi_irqs/#", rel)
    rel = re.sub(r"wakeup\d+", "wakeup#", rel)
    return re.sub(r"eth\d+", "eth#", rel)
