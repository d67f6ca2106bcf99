"""Attaching VFs to workloads: network namespaces and libvirt."""
