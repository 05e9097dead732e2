"""`gladia doctor`: every part of a setup checked in one go, each check a small function returning a `Check`.

A check never raises: `run` wraps each one, so a broken PortAudio cannot hide a missing key, and nothing ends in a
traceback. The network check runs in a thread while the audio checks (and their 2-second listen) run, so the whole
report takes about as long as the listen.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

from gladia_cli.cli.flags import as_flags
from gladia_cli.errors import GladiaError
from gladia_cli.version import __version__

LISTEN_SECONDS = 2.0
LISTEN_RATE = 16000  # what `gladia listen` records by default: the listen proves that exact format works
SILENT_DBFS = -60.0  # a muted or disconnected input: nothing but the converter's noise floor
CLIPPED_FRACTION = 0.001  # more than 0.1% of samples at full scale: the input gain is too high
API_TIMEOUT = 5.0
MIN_PYTHON = (3, 10)


@dataclass(frozen=True)
class Check:
    """One line of the report; `fix` says what to do when `ok` is False."""

    name: str
    ok: bool
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class Options:
    device: str | None = None
    api_key: str | None = None
    api_url: str | None = None
    region: str | None = None
    listen_seconds: float = LISTEN_SECONDS


def _failed(name: str, exc: BaseException) -> Check:
    """A GladiaError already says what went wrong and what to do; anything else is a bug in the check itself."""
    if isinstance(exc, GladiaError):
        return Check(name, False, as_flags(exc.message), as_flags(exc.hint) if exc.hint else exc.hint)
    return Check(
        name, False, f"the check itself failed ({type(exc).__name__})", "this is a bug in gladia: please report it"
    )


# --- the checks -----------------------------------------------------------------------------------------------------


def check_python(_: Options) -> Check:
    version = ".".join(str(part) for part in sys.version_info[:3])
    if tuple(sys.version_info[:2]) < MIN_PYTHON:
        return Check("python", False, f"{version} ({sys.executable})", "gladia needs Python 3.10 or newer")
    return Check("python", True, f"{version} ({sys.executable})")


def check_packages(_: Options) -> Check:
    """The requirements the installed `gladia` declares (its metadata, not a list kept here), each installed and
    recent enough."""
    from gladia_cli import requirements

    try:
        found = requirements.installed(requirements.DISTRIBUTION)
    except requirements.NotInstalled:
        return Check(
            "packages",
            False,
            f"gladia {__version__} runs from a source tree, not an installed package",
            "install it: pip install . (or pipx install .) in the source tree",
        )
    bad = [r for r in found if not r.ok]
    detail = f"gladia {__version__}; " + ", ".join(f"{r.name} {r.installed}" for r in found if r.installed)
    if bad:
        problems = ", ".join(r.problem for r in bad)
        fix = "pip install " + " ".join(f"'{r.requirement}'" for r in bad)
        return Check("packages", False, f"{problems}; {detail}", fix)
    return Check("packages", True, detail)


def check_portaudio(_: Options) -> Check:
    from gladia_cli.audio.portaudio import sounddevice

    sd = sounddevice()  # UsageError with the install hint when libportaudio is missing
    devices = sd.query_devices()
    return Check("portaudio", True, f"{sd.get_portaudio_version()[1].split(',')[0]}; {len(devices)} device(s)")


def check_input_devices(_: Options) -> Check:
    from gladia_cli.audio.devices import list_inputs, no_input_error

    devices = list_inputs()
    if not devices:
        why = no_input_error()
        return Check(
            "input devices",
            False,
            why.message.removeprefix("no input device found: ") if why.hint else "none found",
            why.hint or why.message.removeprefix("no input device found: "),
        )
    default = next((d for d in devices if d.is_default), None)
    named = f"default {default.index}: {default.name!r}" if default else "no default (the first one is used)"
    pulse = [d.name for d in devices if d.pulse_source]
    also = f"; PulseAudio: {', '.join(repr(name) for name in pulse)}" if pulse else ""
    return Check("input devices", True, f"{len(devices)} found; {named}{also}")


def _levels(pcm: bytes) -> tuple[float, float, float]:
    """Peak and RMS in dBFS, and the fraction of samples at full scale, of 16-bit PCM."""
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    if samples.size == 0:
        return -math.inf, -math.inf, 0.0
    peak = float(np.max(np.abs(samples))) / 32768.0
    rms = float(np.sqrt(np.mean(samples**2))) / 32768.0
    clipped = float(np.count_nonzero(np.abs(samples) >= 32767)) / samples.size

    def dbfs(value: float) -> float:
        return 20 * math.log10(value) if value > 0 else -math.inf

    return dbfs(peak), dbfs(rms), clipped


def check_listen(options: Options) -> Check:
    from gladia_cli.audio.capture import MicrophoneSource
    from gladia_cli.audio.devices import resolve_input
    from gladia_cli.audio.format import PcmFormat

    device = resolve_input(options.device)
    fmt = PcmFormat(sample_rate=LISTEN_RATE, channels=1, bit_depth=16, encoding="wav/pcm")
    mic = MicrophoneSource(fmt, device, chunk_ms=100, max_buffer_seconds=max(options.listen_seconds * 2, 1.0))
    mic.check()
    wanted = fmt.chunk_bytes(round(options.listen_seconds * 1000))
    pcm = bytearray()
    deadline = time.monotonic() + options.listen_seconds + 3.0  # a device that delivers nothing must not hang us
    chunks = mic.chunks()
    try:
        for chunk in chunks:
            pcm += chunk
            if len(pcm) >= wanted or time.monotonic() > deadline:
                break
    finally:
        mic.close()
        for _ in chunks:  # drain: chunks() stops the stream and releases the device
            pass
    name = f"{options.device or 'default'} ({device.index}: {device.name!r})"
    if len(pcm) < wanted // 2:
        seconds = len(pcm) / fmt.bytes_per_second
        return Check(
            "listen",
            False,
            f"{name} delivered {seconds:.1f} s of audio in {options.listen_seconds:g} s",
            "pick another device with --device",
        )
    peak, rms, clipped = _levels(bytes(pcm))
    levels = f"peak {peak:.1f} dBFS, RMS {rms:.1f} dBFS" if math.isfinite(peak) else "digital silence"
    detail = f"{name}, {options.listen_seconds:g} s: {levels}"
    if peak < SILENT_DBFS:
        return Check(
            "listen",
            False,
            f"{detail}: silent",
            "unmute the microphone or raise its input volume, speak during the check, or pick another with --device",
        )
    if clipped > CLIPPED_FRACTION:
        return Check(
            "listen", False, f"{detail}: clipping ({clipped:.1%} of samples at full scale)", "lower the input gain"
        )
    return Check("listen", True, detail)


def _tool(name: str, purpose: str) -> Check:
    path = shutil.which(name)
    if path is None:
        return Check(
            name,
            False,
            f"not on PATH ({purpose})",
            "install it (Debian/Ubuntu: apt install ffmpeg; macOS: brew install ffmpeg)",
        )
    try:
        proc = subprocess.run([path, "-version"], capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Check(name, False, f"{path} does not run ({type(exc).__name__})", "reinstall ffmpeg")
    first = (proc.stdout.splitlines() or [""])[0]
    words = first.split()
    version = words[2] if len(words) > 2 and words[1] == "version" else "version unknown"
    return Check(
        name, proc.returncode == 0, f"{path} ({version})", None if proc.returncode == 0 else "reinstall ffmpeg"
    )


def check_ffmpeg(_: Options) -> Check:
    return _tool("ffmpeg", "needed for mp3, m4a, ogg, flac and video input")


def check_ffprobe(_: Options) -> Check:
    return _tool("ffprobe", "reads a media file's rate and channels before ffmpeg decodes it")


def check_api_key(options: Options) -> Check:
    from gladia_cli.settings import mask, resolve_key

    key, source = resolve_key(options.api_key)
    return Check("api key", True, f"{mask(key)} from {source}")


def check_new_key(key: str, api_url: str | None) -> None:
    """`gladia auth set`: ask Gladia about the key before saving it. Refused (401): nothing saved, exit 3; Gladia
    out of reach: saved, and said, with `gladia doctor` to check it later."""
    from gladia_cli import settings
    from gladia_cli.api import probe_key
    from gladia_cli.console.terminal import notice
    from gladia_cli.errors import ApiError, AuthError, NetworkError

    key = settings.check_key_format(key)
    url = settings.resolve_api_url(api_url)
    try:
        status = probe_key(
            settings.Settings(
                api_key=key,
                api_url=url,
                region=None,
                key_source="gladia auth set",
                url_source=settings.api_url_source(api_url),
            )
        )
    except (NetworkError, ApiError) as exc:  # unreachable, or an answer that says nothing of the key
        path = settings.save_key(key)
        notice(f"saved the key {settings.mask(key)} in {path}")
        notice(f"could not check it with Gladia ({exc.message}); `gladia doctor` checks it once {url} is reachable")
        return
    if status == 401:
        raise AuthError(
            f"Gladia refused the key {settings.mask(key)} (401); nothing was saved",
            hint="copy the key again from app.gladia.io, then `gladia auth set`",
        )
    path = settings.save_key(key)
    notice(f"saved the key {settings.mask(key)} in {path} (Gladia accepted it)")


def check_api(options: Options) -> Check:
    """One cheap authenticated GET (the newest live session): the network, the URL and the key in one request."""
    from gladia_cli.api import probe_key
    from gladia_cli.settings import Settings, api_url_source, resolve_api_url, resolve_key

    url = resolve_api_url(options.api_url)
    try:
        key, source = resolve_key(options.api_key)
    except GladiaError:
        key, source = "", "none"
    started = time.monotonic()
    where = api_url_source(options.api_url)
    status = probe_key(Settings(api_key=key, api_url=url, region=None, key_source=source, url_source=where))
    ms = (time.monotonic() - started) * 1000
    if status == 401:
        if not key:
            return Check("gladia api", True, f"{url} reachable ({ms:.0f} ms); the key was not checked: there is none")
        return Check(
            "gladia api",
            False,
            f"{url} reachable, but it refused the key from {source} (401)",
            "check the key given by " + source
            if source in ("--api-key", "GLADIA_API_KEY")
            else "replace it with `gladia auth set`",
        )
    if status == 403:
        return Check(
            "gladia api", True, f"{url} reachable, key accepted ({ms:.0f} ms; listing sessions is not allowed)"
        )
    return Check("gladia api", True, f"{url} reachable, key accepted ({ms:.0f} ms)")


def check_region(options: Options) -> Check:
    from gladia_cli.settings import resolve_region

    region = resolve_region(options.region)
    if region is None:
        return Check("region", True, "none set: Gladia picks the nearest (--region or GLADIA_REGION to choose)")
    source = "--region" if options.region else "GLADIA_REGION"
    return Check("region", True, f"{region} (from {source})")


LOCAL_CHECKS: tuple[tuple[str, Callable[[Options], Check]], ...] = (
    ("python", check_python),
    ("packages", check_packages),
    ("portaudio", check_portaudio),
    ("input devices", check_input_devices),
    ("listen", check_listen),
    ("ffmpeg", check_ffmpeg),
    ("ffprobe", check_ffprobe),
    ("api key", check_api_key),
)
NETWORK_CHECKS: tuple[tuple[str, Callable[[Options], Check]], ...] = (
    ("gladia api", check_api),
    ("region", check_region),
)


def _safe(name: str, check: Callable[[Options], Check], options: Options) -> Check:
    try:
        return check(options)
    except BaseException as exc:  # one failing check must never stop the others
        if isinstance(exc, KeyboardInterrupt):
            raise
        return _failed(name, exc)


def _scrub(check: Check, keys: list[str]) -> Check:
    """Belt and braces: whatever a library put into a message, no key leaves this module."""
    from gladia_cli.settings import scrub

    def clean(text: str | None) -> str | None:
        return None if text is None else scrub(text, keys)

    return Check(check.name, check.ok, clean(check.detail) or "", clean(check.fix))


def run(options: Options) -> Iterator[Check]:
    """Yield the checks in report order, each as soon as it is known; the network ones run meanwhile in a thread."""
    from gladia_cli.settings import known_keys

    keys = known_keys(["--api-key", options.api_key] if options.api_key else [])
    network: list[Check] = []

    def run_network() -> None:
        for name, check in NETWORK_CHECKS:
            network.append(_safe(name, check, options))

    thread = threading.Thread(target=run_network, name="gladia-doctor-network", daemon=True)
    thread.start()
    for name, check in LOCAL_CHECKS:
        yield _scrub(_safe(name, check, options), keys)
    thread.join()
    for result in network:
        yield _scrub(result, keys)


# --- the report -----------------------------------------------------------------------------------------------------


def line(check: Check, *, symbols: bool) -> str:
    """`✓ name  detail` at a terminal; `ok` / `FAIL` otherwise (ASCII: greppable, and safe for any log encoding)."""
    mark = ("✓" if check.ok else "✗") if symbols else ("ok  " if check.ok else "FAIL")
    text = f"{mark} {check.name:<13} {check.detail}"
    if not check.ok and check.fix:
        text += f"\n{' ' * (len(mark) + 1)}{'fix:':<13} {check.fix}"
    return text


def as_json(checks: list[Check]) -> str:
    return json.dumps({"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}, ensure_ascii=False)


def report(options: Options, *, json_out: bool) -> int:
    """Print the report on stdout (it is the command's output, like `gladia devices`); 0 when every check passed.

    Marks are ✓/✗ only when stdout is a terminal: piped or saved (`gladia doctor > report.txt`, CI logs) the lines
    read `ok`/`FAIL`, plain ASCII that greps and survives any encoding. Nothing goes to stderr.
    """
    from gladia_cli.console.terminal import is_tty

    symbols = is_tty(sys.stdout)
    checks = []
    for check in run(options):
        checks.append(check)
        if not json_out:
            sys.stdout.write(line(check, symbols=symbols) + "\n")
            sys.stdout.flush()
    if json_out:
        sys.stdout.write(as_json(checks) + "\n")
    return 0 if all(c.ok for c in checks) else 1
