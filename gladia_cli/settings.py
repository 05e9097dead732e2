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
    url_source: str = "the default URL"  # where api_url came from, for a message that blames the right thing

    def check_url_hint(self) -> str:
        if self.url_source == "the default URL":
            return "check your connection (the URL is the default one; --api-url or GLADIA_API_URL sets another)"
        return f"check your connection, and the URL given by {self.url_source}"

    def __repr__(self) -> str:
        # The key must never reach a log or a traceback, even through repr().
        return f"Settings(api_key='***', api_url={self.api_url!r}, region={self.region!r}, source={self.key_source!r})"


def config_dir() -> Path:
    """$XDG_CONFIG_HOME/gladia, else ~/.config/gladia."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    return (Path(base) if base else Path.home() / ".config") / "gladia"


def saved_key_file() -> Path:
    return config_dir() / "api_key"


def official_cli_key_file() -> Path:
    """Gladia's official CLI saves the key on the first line of ~/.gladia; reading it spares its users a step."""
    return Path.home() / ".gladia"


def _read_key(path: Path) -> str | None:
    try:
        first = path.read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, UnicodeDecodeError, IndexError):
        return None
    return first or None


def _saved_key() -> tuple[str, str] | None:
    """Ours first, then the official CLI's file, so its users switch with nothing to redo."""
    for path in (saved_key_file(), official_cli_key_file()):
        key = _read_key(path)
        if key:
            return key, str(path)
    return None


def check_key_format(key: str) -> str:
    key = key.strip()
    if not key:
        raise UsageError("the API key is empty", hint="give the key itself (it is on your Gladia account page)")
    if any(c.isspace() for c in key) or not key.isprintable():
        raise UsageError("the API key contains spaces or control characters", hint="paste the key alone")
    return key


def _private_parents(directory: Path) -> None:
    """Create `directory` and any missing parent 0700 whatever the umask (mkdir's mode is masked by it: with umask
    000 a created ~/.config was 0777); directories that exist are left as they are."""
    missing = []
    for each in (directory, *directory.parents):
        if each.exists():  # a file in the way fails below, as "Not a directory"
            break
        missing.append(each)
    for each in reversed(missing):
        each.mkdir(mode=0o700, exist_ok=True)
        os.chmod(each, 0o700)


def write_private(path: Path, data: bytes) -> None:
    """Mode 0600 in a 0700 directory, replaced atomically: never a moment where others can read it, and a reader
    never sees half a file (the saved key, config.toml)."""
    _private_parents(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def save_key(key: str) -> Path:
    """Write the key privately (see `write_private`)."""
    key = check_key_format(key)
    path = saved_key_file()
    try:
        write_private(path, (key + "\n").encode())
    except OSError as exc:
        raise UsageError(f"cannot save the key in {path}: {exc.strerror or exc}") from None
    return path


def clear_keys(*, include_official: bool) -> list[Path]:
    """Remove the saved key (and the official CLI's ~/.gladia if asked); returns the files removed."""
    removed = []
    targets = [saved_key_file()] + ([official_cli_key_file()] if include_official else [])
    for path in targets:
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise UsageError(f"cannot remove {path}: {exc.strerror or exc}") from None
    return removed


def known_keys(args: list[str]) -> list[str]:
    """Every key this run may know, so error text can be scrubbed of them (even one typed in the wrong place)."""
    keys = [os.environ.get("GLADIA_API_KEY", "")]
    for i, arg in enumerate(args):
        for flag in ("--api-key", "--gladia-key"):
            if arg == flag and i + 1 < len(args):
                keys.append(args[i + 1])
            elif arg.startswith(flag + "="):
                keys.append(arg.split("=", 1)[1])
    for path in (saved_key_file(), official_cli_key_file()):
        keys.append(_read_key(path) or "")
    return sorted({k.strip() for k in keys if len(k.strip()) >= 6}, key=len, reverse=True)


def mask(key: str) -> str:
    """Enough to tell two keys apart, never enough to use one."""
    from gladia_cli.safe_text import mask as masked

    return masked(key)


def scrub(text: str, keys: list[str]) -> str:
    """`text` with each of `keys`, every key this run resolved, and URL passwords masked."""
    from gladia_cli.safe_text import redact

    return redact(text, keys)


def resolve_key(flag: str | None) -> tuple[str, str]:
    """Return (key, where it came from)."""
    from gladia_cli.safe_text import remember_secret

    if flag is not None:
        # Given but empty (`--api-key "$UNSET_VAR"`) is a mistake to report, not a reason to use another key.
        key = check_key_format(flag)
        remember_secret(key)
        return key, "--api-key"
    env = os.environ.get("GLADIA_API_KEY", "").strip()
    if env:
        remember_secret(env)
        return env, "GLADIA_API_KEY"
    saved = _saved_key()
    if saved:
        remember_secret(saved[0])
        return saved
    raise AuthError("no API key", hint="run `gladia auth set`, set GLADIA_API_KEY, or pass `api_key`")


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
    return Settings(api_key=key, api_url=url, region=reg, key_source=source, url_source=api_url_source(api_url))


def api_url_source(flag: str | None) -> str:
    """Where `resolve_api_url` takes the URL from (a saved `api-url` arrives as the flag's value)."""
    if flag:
        return "--api-url (or the saved api-url)"
    return "GLADIA_API_URL" if os.environ.get("GLADIA_API_URL", "").strip() else "the default URL"
