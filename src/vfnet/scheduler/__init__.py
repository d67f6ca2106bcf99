"""Scheduling: PCI requests, filters, weighers, NUMA policies, host selection (pure)."""
