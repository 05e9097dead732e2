"""Where the API key, base URL and region come from: flag > environment > saved file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from gladia_cli.errors import AuthError, UsageError

DEFAULT_API_URL = "https://api.gladia.io"
REGIONS = ("eu-west", "us-west")


@dataclass(frozen=True)
class Settings:
    api_key: str
    api_url: str
    region: str | None
    key_source: str

    def __repr__(self) -> str:
        # The key must never reach a log or a traceback, even through repr().
        return f"Settings(api_key='***', api_url={self.api_url!r}, region={self.region!r}, source={self.key_source!r})"


def official_cli_key_file() -> Path:
    """Gladia's official CLI saves the key on the first line of ~/.gladia; reading it spares its users a step."""
    return Path.home() / ".gladia"


def _saved_key() -> tuple[str, str] | None:
    path = official_cli_key_file()
    try:
        first = path.read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    return (first, str(path)) if first else None


def resolve_key(flag: str | None) -> tuple[str, str]:
    """Return (key, where it came from)."""
    if flag:
        return flag.strip(), "--api-key"
    env = os.environ.get("GLADIA_API_KEY", "").strip()
    if env:
        return env, "GLADIA_API_KEY"
    saved = _saved_key()
    if saved:
        return saved
    raise AuthError("no API key", hint="pass --api-key, set GLADIA_API_KEY, or save it in ~/.gladia")


def resolve_api_url(flag: str | None) -> str:
    url = (flag or os.environ.get("GLADIA_API_URL") or DEFAULT_API_URL).strip().rstrip("/")
    scheme, sep, _ = url.partition("://")
    if not sep or scheme not in ("http", "https", "ws", "wss"):
        raise UsageError(f"invalid API URL {url!r}", hint="use e.g. https://api.gladia.io")
    # Like the official SDK, accept ws(s):// and use its http(s) twin for REST calls.
    return {"ws": "http", "wss": "https"}.get(scheme, scheme) + url[len(scheme) :]


def resolve_region(flag: str | None) -> str | None:
    region = (flag or os.environ.get("GLADIA_REGION") or "").strip() or None
    if region is not None and region not in REGIONS:
        raise UsageError(f"unknown region {region!r}", hint=f"use one of {', '.join(REGIONS)}")
    return region


def load(api_key: str | None = None, api_url: str | None = None, region: str | None = None) -> Settings:
    """Validate URL and region before the key, so a usage mistake is reported as one."""
    url = resolve_api_url(api_url)
    reg = resolve_region(region)
    key, source = resolve_key(api_key)
    return Settings(api_key=key, api_url=url, region=reg, key_source=source)
