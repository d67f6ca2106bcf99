"""Networks, subnets and IPAM, ports, QoS and binding rules (pure)."""
