"""Emulated hosts: generated sysfs trees, software eswitch, lab orchestration."""
