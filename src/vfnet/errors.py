"""The domain exception tree: every error vfnet raises on purpose is one of these.

    VfnetError
    ├── ConfigError                 bad configuration; names entry, field and reason
    │   ├── InvalidDeviceSpec       a [pci] device_spec entry
    │   ├── InvalidAlias            a [pci] alias entry
    │   ├── InvalidSelector         a device-plugin resourceList entry
    │   └── InvalidHostConfig       the host config file itself
    ├── InvalidPciAddress           text that is not a kernel PCI address
    ├── SysfsError                  reading or writing sysfs went wrong
    │   └── SriovNumVfsError        a write to sriov_numvfs refused (errno kept)
    ├── ValidationError             a request or value is malformed (names the field)
    ├── NotFound                    the named object does not exist (or is not yours)
    ├── Unauthorized                no valid token
    ├── Forbidden                   valid token, action not allowed
    ├── Conflict                    the request clashes with current state
    │   ├── InvalidDeviceState      a device transition not allowed from its state
    │   ├── StaleGeneration         a host inventory moved on under a claim
    │   ├── InUse                   the object is still used by something else
    │   ├── InsufficientDevices     a host has too few free devices for a claim
    │   └── IpAddressExhausted      a subnet has no free address left
    ├── NoValidHost                 no host can satisfy every request together
    └── DriverError                 a host driver could not apply a change

One place (``vfnet.api``) maps these to HTTP status codes and stable error codes;
everything else raises them and never inspects message text.
"""

from __future__ import annotations


class VfnetError(Exception):
    """Base of every deliberate vfnet error."""

    code = "vfnet_error"


class ConfigError(VfnetError):
    """A configuration entry is invalid.

    ``entry`` names which entry (``device_spec[2]``, ``alias 'gpu'``, a file path),
    ``field`` the key inside it (or ``None`` when the entry as a whole is bad),
    ``reason`` what is wrong in words an operator can act on.
    """

    code = "invalid_config"

    def __init__(self, entry: str, field: str | None, reason: str) -> None:
        self.entry = entry
        self.field = field
        self.reason = reason
        where = f"{entry}: {field}" if field else entry
        super().__init__(f"{where}: {reason}")


class InvalidDeviceSpec(ConfigError):
    code = "invalid_device_spec"


class InvalidAlias(ConfigError):
    code = "invalid_alias"


class InvalidSelector(ConfigError):
    code = "invalid_selector"


class InvalidHostConfig(ConfigError):
    code = "invalid_host_config"


class InvalidPciAddress(VfnetError, ValueError):
    code = "invalid_pci_address"

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"invalid PCI address {text!r}: {reason}")


class SysfsError(VfnetError):
    code = "sysfs_error"


class SriovNumVfsError(SysfsError):
    """The kernel (or the emulated host) refused a write to ``sriov_numvfs``."""

    code = "sriov_numvfs_refused"

    def __init__(self, pf: str, requested: int, errno_name: str, reason: str) -> None:
        self.pf = pf
        self.requested = requested
        self.errno_name = errno_name
        self.reason = reason
        super().__init__(f"{pf}: sriov_numvfs={requested} refused ({errno_name}): {reason}")


class ValidationError(VfnetError):
    """A value given by a user is malformed; ``field`` names it."""

    code = "invalid_value"

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class NotFound(VfnetError):
    code = "not_found"

    def __init__(self, kind: str, ident: str) -> None:
        self.kind = kind
        self.ident = ident
        super().__init__(f"{kind} {ident!r} not found")


class Unauthorized(VfnetError):
    code = "unauthorized"


class Forbidden(VfnetError):
    code = "forbidden"


class Conflict(VfnetError):
    code = "conflict"


class InvalidDeviceState(Conflict):
    code = "invalid_device_state"


class StaleGeneration(Conflict):
    code = "stale_generation"


class InUse(Conflict):
    code = "in_use"


class NoValidHost(VfnetError):
    code = "no_valid_host"


class DriverError(VfnetError):
    code = "driver_error"


class InsufficientDevices(Conflict):
    """A host cannot serve every PCI request of a claim from its free devices."""

    code = "insufficient_devices"


class IpAddressExhausted(Conflict):
    """A subnet's allocation pools have no free address left."""

    code = "ip_address_exhausted"
