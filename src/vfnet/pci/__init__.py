"""PCI model, device_spec / alias / device-plugin selector parsing and matching (pure)."""
