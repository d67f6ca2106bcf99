"""``vfnet-cni``: the executable a container runtime calls, with CNI_* set and the config on stdin.

Exactly one JSON document goes to stdout: the result (ADD), the version list (VERSION),
nothing (DEL, CHECK) or a CNI error with exit status 1. Logs go to ``logFile`` or stderr.
A config naming a vfnet ``port`` takes ``cni.ports``'s way, any other sriov-cni's.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from typing import TextIO

from vfnet.cni import plugin, ports
from vfnet.cni.config import conf_version, parse_config, parse_invocation
from vfnet.cni.host import HostFactory, open_host
from vfnet.cni.protocol import SUPPORTED_VERSIONS, CniError, Code
from vfnet.cni.server import Connector, open_client
from vfnet.errors import ValidationError, VfnetError

__all__ = ["main", "run"]

_LEVELS = {"panic": "CRITICAL", "error": "ERROR", "warning": "WARNING", "info": "INFO"}


def main() -> None:
    sys.exit(run(os.environ, sys.stdin.buffer.read(), sys.stdout))


def run(
    environ: Mapping[str, str],
    stdin: bytes,
    out: TextIO,
    host_factory: HostFactory = open_host,
    connect: Connector = open_client,
) -> int:
    """One call; returns the exit status. ``connect`` opens the vfnet server a port is on."""
    version = conf_version(stdin)
    try:
        document = _dispatch(environ, stdin, host_factory, connect)
    except CniError as error:
        logging.getLogger(__name__).error("%s (code %d) %s", error.msg, error.code, error.details)
        out.write(json.dumps(error.document(version)) + "\n")
        return 1
    if document is not None:
        out.write(document + "\n")
    return 0


def _dispatch(
    environ: Mapping[str, str], stdin: bytes, host_factory: HostFactory, connect: Connector
) -> str | None:
    invocation = parse_invocation(environ)
    if invocation.command == "VERSION":
        return plugin.version_document(conf_version(stdin), SUPPORTED_VERSIONS)
    conf = parse_config(stdin)
    _logging(conf.log_level, conf.log_file)
    host = host_factory(conf)
    call = plugin.Call(invocation, conf, stdin, environ, host, connect)
    flows = ports if conf.port is not None else plugin
    try:
        if invocation.command == "ADD":
            return json.dumps(flows.add(call).document(conf.cni_version))
        {"CHECK": flows.check, "DEL": flows.delete}[invocation.command](call)
        return None
    except ValidationError as error:
        raise CniError(Code.INVALID_CONFIG, str(error)) from None
    except VfnetError as error:
        raise CniError(Code.IO_FAILURE, f"{type(error).__name__}: {error}") from None
    finally:
        host.close()


def _logging(level: str | None, path: str | None) -> None:
    handler: logging.Handler = logging.FileHandler(path) if path else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s vfnet-cni %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS.get(level or "info", "DEBUG"))
    # One line per request to the vfnet server is for debugging, not for a runtime's log.
    logging.getLogger("httpx").setLevel("DEBUG" if level == "debug" else "WARNING")
