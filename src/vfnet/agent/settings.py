"""The agent's own settings: where its host config is, which server, which token, how often."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from vfnet.errors import ValidationError

DRIVERS = ("memory", "eswitch", "netlink")


@dataclass(frozen=True, slots=True)
class AgentSettings:
    """Checked once at start; the host config itself is (re)read by the loop.

    ``host`` None means the config's ``[host] name``, which defaults to the machine's
    hostname. ``resync`` forces a full rediscovery at least that often, whatever the
    cheap fingerprint says; ``vf_wait`` bounds the wait for new VFs' netdevs.
    """

    config_path: Path
    server_url: str
    token: str
    host: str | None = None
    driver: str = "netlink"
    interval: float = 10.0
    once: bool = False
    resync: float = 300.0
    vf_wait: float = 10.0


def agent_settings(
    *,
    config_path: Path,
    server_url: str | None,
    token: str | None,
    token_file: Path | None,
    host: str | None = None,
    driver: str = "netlink",
    interval: float = 10.0,
    once: bool = False,
) -> AgentSettings:
    """Settings from the command line and environment.

    Raises:
        ValidationError: naming the option and what is wrong with it.
    """
    if not server_url:
        raise ValidationError("--server", "required (or set VFNET_URL)")
    parts = urlsplit(server_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError("--server", f"{server_url!r} is not an http(s) URL")
    if driver not in DRIVERS:
        raise ValidationError("--driver", f"{driver!r} is not one of {', '.join(DRIVERS)}")
    if not interval > 0:
        raise ValidationError("--interval", f"must be more than 0 seconds, not {interval:g}")
    if host is not None and not host.strip():
        raise ValidationError("--host", "must not be empty")
    return AgentSettings(
        config_path=config_path,
        server_url=server_url,
        token=resolve_token(token, token_file),
        host=host,
        driver=driver,
        interval=interval,
        once=once,
    )


def resolve_token(token: str | None, token_file: Path | None) -> str:
    """The token given, or the first line of the token file; exactly one of them."""
    if token and token_file:
        raise ValidationError("--token-file", "give --token or --token-file, not both")
    if token_file is not None:
        try:
            token = token_file.read_text(encoding="utf-8").strip().splitlines()[0]
        except OSError as error:
            raise ValidationError("--token-file", f"cannot read: {error.strerror}") from None
        except IndexError:
            raise ValidationError("--token-file", f"{token_file} is empty") from None
    if not token or not token.strip():
        raise ValidationError("--token", "required (or --token-file, or VFNET_AGENT_TOKEN)")
    return token.strip()
