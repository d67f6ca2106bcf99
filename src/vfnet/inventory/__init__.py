"""PCI inventory: pools, device states, PF/VF/vDPA dependencies and claims (pure)."""
