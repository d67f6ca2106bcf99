"""Privileged tests: skipped, each with its reason, where root or the kernel tools are missing."""

from __future__ import annotations

import os
import shutil

import pytest

_TOOLS = ("ip", "tc", "nft", "ping")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if os.geteuid() != 0:
        reason = "needs root (network namespaces)"
    elif missing:
        reason = f"needs {', '.join(missing)} (scripts/bootstrap installs them)"
    else:
        return
    for item in items:
        if item.get_closest_marker("privileged"):
            item.add_marker(pytest.mark.skip(reason=reason))
