"""The host agent: discovery, reporting and reconciliation of VFs."""
