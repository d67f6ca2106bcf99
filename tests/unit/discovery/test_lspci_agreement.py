"""The reader (text attribute files) agrees with lspci (binary config space) on every device."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from vfnet.discovery.sysfs import SysfsReader

# 0000:01:00.0 Ethernet controller [0200]: Intel Corporation 82576 ... [8086:10c9] (rev 01)
_LINE = re.compile(
    r"^(?P<address>\S+) [^\[]*\[(?P<klass>[0-9a-f]{4})\]: "
    r".*\[(?P<vendor>[0-9a-f]{4}):(?P<device>[0-9a-f]{4})\]"
    r"(?: \(rev (?P<rev>[0-9a-f]{2})\))?"
)

Row = tuple[str, str, str, str]  # address, class, vendor:device, revision


def lspci_rows(*options: str) -> set[Row]:
    lspci = shutil.which("lspci")
    if lspci is None:
        pytest.skip("lspci is not installed")
    output = subprocess.run(
        [lspci, "-D", "-nn", *options], capture_output=True, text=True, check=True
    ).stdout
    rows = set()
    for line in output.splitlines():
        match = _LINE.match(line)
        assert match is not None, f"unexpected lspci line: {line!r}"
        rows.add(
            (
                match["address"],
                match["klass"],
                f"{match['vendor']}:{match['device']}",
                match["rev"] or "00",
            )
        )
    return rows


def reader_rows(root: Path) -> set[Row]:
    return {
        (str(d.address), d.class_code[:4], d.vendor_info, d.revision)
        for d in SysfsReader(root).read()
    }


def test_the_reader_agrees_with_lspci_on_this_machine() -> None:
    if not os.path.isdir("/sys/bus/pci/devices") or not os.listdir("/sys/bus/pci/devices"):
        pytest.skip("this machine shows no PCI devices")
    assert reader_rows(Path("/sys")) == lspci_rows()


def test_the_reader_agrees_with_lspci_on_the_captured_igb_host(igb_capture: Path) -> None:
    expected = lspci_rows("-O", f"sysfs.path={igb_capture}/bus/pci")
    assert len(expected) == 6
    assert reader_rows(igb_capture) == expected


def lspci_identities(*options: str) -> set[tuple[str, ...]]:
    """``lspci -D -n -mm``: address, class, vendor, device, revision, prog-if, subsystem."""
    lspci = shutil.which("lspci")
    if lspci is None:
        pytest.skip("lspci is not installed")
    output = subprocess.run(
        [lspci, "-D", "-n", "-mm", *options], capture_output=True, text=True, check=True
    ).stdout
    identities = set()
    for line in output.splitlines():
        words = shlex.split(line)
        flags = {w[:2]: w[2:] for w in words if w.startswith("-")}
        address, klass, vendor, device, sub_vendor, sub_device = (
            w for w in words if not w.startswith("-")
        )
        identities.add(
            (
                address,
                klass + flags.get("-p", "00"),
                vendor,
                device,
                flags.get("-r", "00"),
                sub_vendor or "0000",  # lspci leaves a zero subsystem empty
                sub_device or "0000",
            )
        )
    return identities


def reader_identities(root: Path) -> set[tuple[str, ...]]:
    return {
        (
            str(d.address),
            d.class_code,
            d.vendor_id,
            d.product_id,
            d.revision,
            d.subsystem_vendor_id,
            d.subsystem_device_id,
        )
        for d in SysfsReader(root).read()
    }


def test_subsystem_ids_and_prog_if_agree_with_lspci_on_this_machine() -> None:
    if not os.path.isdir("/sys/bus/pci/devices") or not os.listdir("/sys/bus/pci/devices"):
        pytest.skip("this machine shows no PCI devices")
    assert reader_identities(Path("/sys")) == lspci_identities()


def test_subsystem_ids_and_prog_if_agree_with_lspci_on_the_captured_igb_host(
    igb_capture: Path,
) -> None:
    expected = lspci_identities("-O", f"sysfs.path={igb_capture}/bus/pci")
    assert ("0000:01:10.0", "020000", "8086", "10ca", "01", "1af4", "1100") in expected
    assert reader_identities(igb_capture) == expected
