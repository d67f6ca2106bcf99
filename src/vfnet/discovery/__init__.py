"""Sysfs reader: the only code that opens /sys; turns a sysfs root into the PCI model."""
