"""The vfnet command line."""
