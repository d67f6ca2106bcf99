"""The vfnet-cni plugin (CNI 1.0)."""
