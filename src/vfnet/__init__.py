"""vfnet: SR-IOV Virtual Functions for virtual machines and containers."""

__version__ = "0.1.0"
