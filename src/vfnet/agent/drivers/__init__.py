"""VF configuration drivers: netlink, emulated eswitch, memory."""
