"""Saved defaults and profiles (`config.toml`, `gladia config`, `--profile`): what they change at the emulator, what
wins over them, and a broken file reported as one line."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
from cli_runner import invoke, one_line_error
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.cli import defaults as profiles
from gladia_cli.errors import ExitCode, UsageError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


@pytest.fixture
def emu(api_env: GladiaEmulator) -> GladiaEmulator:
    api_env.prerecorded.polls_before_done = 0
    return api_env


def config_path() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "gladia" / "config.toml"


def write_config(text: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


MEETING = """\
lang = ["en"]
diarize = true

[profile.meeting]
lang = "fr"
translate = ["de"]
"""


# --- what the defaults change at the emulator -----------------------------------------------------------------------


def test_defaults_and_profile_shape_the_prerecorded_body(emu: GladiaEmulator, tmp_path: Path, capsys, monkeypatch):
    write_config(MEETING)
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)

    assert invoke(capsys, "transcribe", str(wav)).code == 0
    body = emu.prerecorded.created_bodies()[-1]
    assert body["language_config"] == {"languages": ["en"]}
    assert body["diarization"] is True

    # The profile, before or after the command: its lang over the top level, the top level's diarize still there.
    for args in (["--profile", "meeting", "transcribe", str(wav)], ["transcribe", str(wav), "--profile=meeting"]):
        result = invoke(capsys, *args)
        assert result.code == 0, result.stderr
        body = emu.prerecorded.created_bodies()[-1]
        assert body["language_config"] == {"languages": ["fr"]}
        assert body["translation"] is True and body["translation_config"]["target_languages"] == ["de"]
        assert body["diarization"] is True

    monkeypatch.setenv("GLADIA_PROFILE", "meeting")
    assert invoke(capsys, "transcribe", str(wav), "-l", "es").code == 0  # a typed flag wins over the profile
    assert emu.prerecorded.created_bodies()[-1]["language_config"] == {"languages": ["es"]}
    assert invoke(capsys, "transcribe", str(wav)).code == 0  # $GLADIA_PROFILE picks the profile
    assert emu.prerecorded.created_bodies()[-1]["language_config"] == {"languages": ["fr"]}
    assert invoke(capsys, "--profile", "", "transcribe", str(wav)).code == 0  # an empty --profile: none
    assert emu.prerecorded.created_bodies()[-1]["language_config"] == {"languages": ["en"]}


def test_live_defaults_reach_post_v2_live_and_spare_the_prerecorded_mode(emu: GladiaEmulator, tmp_path: Path, capsys):
    write_config('endpointing = 0.5\noutput = "jsonl"\n\n[profile.fast]\nendpointing = 0.2\n')
    wav, _ = write_wav(tmp_path / "a.wav", 1.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert emu.init_requests[-1].body["endpointing"] == 0.5
    assert result.stdout.lstrip().startswith("{")  # -o jsonl from the file
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--profile", "fast").code == 0
    assert emu.init_requests[-1].body["endpointing"] == 0.2
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--endpointing", "1").code == 0
    assert emu.init_requests[-1].body["endpointing"] == 1.0
    # Without --realtime, the live-only defaults (endpointing, -o jsonl) do not apply, rather than being refused.
    plain = invoke(capsys, "transcribe", str(wav))
    assert plain.code == 0, plain.stderr
    assert plain.stdout.splitlines()[0] == "Split infinity in a time when less is more."
    # result has no jsonl: the saved output is not its
    job_id = emu.prerecorded.only_job().id
    fetched = invoke(capsys, "result", job_id)
    assert fetched.code == 0 and fetched.stdout.splitlines()[0] == "Split infinity in a time when less is more."


def test_a_saved_switch_is_turned_off_for_one_run_by_its_no_flag(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    write_config("diarize = true\nner = true\n")
    wav, _ = write_wav(tmp_path / "a.wav", 0.5)
    assert invoke(capsys, "transcribe", str(wav), "--no-diarize", "--no-ner").code == 0
    body = emu.prerecorded.created_bodies()[0]
    assert "diarization" not in body and "named_entity_recognition" not in body
    assert invoke(capsys, "transcribe", str(wav)).code == 0
    assert emu.prerecorded.created_bodies()[1]["diarization"] is True


def test_result_takes_its_saved_output(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    assert invoke(capsys, "transcribe", "https://example.com/a.mp3").code == 0
    job_id = emu.prerecorded.only_job().id
    write_config('output = "srt"\n')
    fetched = invoke(capsys, "result", job_id)
    assert fetched.code == 0 and "-->" in fetched.stdout
    assert "-->" not in invoke(capsys, "result", job_id, "-o", "text").stdout


def test_environment_wins_over_the_profile(emu: GladiaEmulator, tmp_path: Path, capsys, monkeypatch) -> None:
    wav, _ = write_wav(tmp_path / "a.wav", 1.0)
    # $GLADIA_API_URL (the emulator) wins over a profile's unreachable URL.
    write_config(
        f'region = "us-west"\n\n[profile.here]\napi-url = "{emu.base_url}"\n\n'
        '[profile.away]\napi-url = "http://127.0.0.1:9"\n'
    )
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--profile", "away").code == 0
    assert emu.init_requests[-1].query == {"region": "us-west"}
    # Without the environment, the profile's URL is the one used.
    monkeypatch.delenv("GLADIA_API_URL")
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--profile", "here").code == 0
    monkeypatch.setenv("GLADIA_REGION", "eu-west")
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--profile", "here").code == 0
    assert emu.init_requests[-1].query == {"region": "eu-west"}
    args = ("transcribe", str(wav), "--realtime", "--speed", "0", "--region", "us-west", "--profile", "here")
    assert invoke(capsys, *args).code == 0
    assert emu.init_requests[-1].query == {"region": "us-west"}  # and a typed flag wins over both
    listed = invoke(capsys, "config", "list")
    assert "$GLADIA_REGION wins" in listed.stdout


# --- a broken file: one line, the file, the key and the fix, exit 2 ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        ("lang = [en\n", [], ["not valid TOML", "line 1"]),
        ("sample-rate = 44.1\n", [], ["'sample-rate'", "gladia config set sample-rate", "gladia config unset"]),
        ('output = "bogus"\n', [], ["'output'", "bogus"]),
        ("partials = 1\n", [], ["'partials'", "true or false"]),
        ("colour = true\n", [], ["unknown key 'colour'", "gladia config unset colour"]),
        ("lnag = 'en'\n", [], ["unknown key 'lnag'", "did you mean `lang`?", "gladia config unset lnag"]),
        ('api-key = "secret-value"\n', [], ["unknown key 'api-key'", "gladia auth set"]),
        ("[profile.x]\nlang = 3\n", ["--profile", "x"], ["[profile.x]", "--profile x"]),
        ("[profile.x]\nlang = 'en'\n", ["--profile", "y"], ["no profile 'y'", "profiles: x"]),
        ("profile = 3\n", [], ["[profile.NAME]"]),
        # Values of the right type that the commands' own checks refuse: said as the file's, not as a flag's.
        ('lang = ["xx"]\n', [], ["'lang'", "unknown language code 'xx'", "gladia config unset lang"]),
        ("region = 'mars'\n", [], ["'region'", "unknown region 'mars'"]),
        ("speakers = 0\n", [], ["'speakers'", "at least 1"]),
        ("chunk-ms = 5\n", [], ["'chunk-ms'", "10 to 1000"]),
    ],
)
def test_broken_config_is_one_line_and_exit_2(
    emu: GladiaEmulator, tmp_path: Path, capsys, text: str, args: list[str], expected: list[str]
) -> None:
    path = write_config(text)
    wav, _ = write_wav(tmp_path / "a.wav", 0.5)
    result = invoke(capsys, *args, "transcribe", str(wav))
    assert result.code == ExitCode.USAGE
    line = one_line_error(result)
    for part in expected + ([str(path)] if "no profile" not in expected[0] else []):
        assert part in line
    assert "config set lnag" not in line  # advice that would fail the same way
    assert emu.prerecorded.created_bodies() == [] and emu.init_requests == []


def test_unknown_profile_from_the_environment_names_it(emu: GladiaEmulator, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GLADIA_PROFILE", "ghost")
    result = invoke(capsys, "list")
    assert result.code == ExitCode.USAGE
    assert "no profile 'ghost'" in one_line_error(result) and "$GLADIA_PROFILE" in one_line_error(result)


def test_commands_without_defaults_ignore_the_file(api_env: GladiaEmulator, capsys) -> None:
    write_config("lang = [en\n")
    assert invoke(capsys, "languages").code == 0
    assert invoke(capsys, "config", "path").stdout.strip() == str(config_path())


# --- gladia config ----------------------------------------------------------------------------------------------------


def test_config_set_checks_and_saves_with_care(api_env: GladiaEmulator, capsys) -> None:
    assert invoke(capsys, "config", "set", "language", "en", "fr").code == 0  # an alias, saved as `lang`
    assert invoke(capsys, "config", "set", "sample-rate", "44100").code == 0
    assert invoke(capsys, "config", "set", "partials", "false", "--profile", "quiet").code == 0
    assert invoke(capsys, "--profile", "quiet", "config", "set", "endpointing", "0.25").code == 0
    assert invoke(capsys, "config", "set", "vocabulary", 'Gladia "Solaria"', "back\\slash\nline").code == 0
    path = config_path()
    data = tomllib.loads(path.read_text())
    assert data["lang"] == ["en", "fr"] and data["sample-rate"] == 44100
    assert data["vocabulary"] == ['Gladia "Solaria"', "back\\slash\nline"]
    assert data["profile"]["quiet"] == {"partials": False, "endpointing": 0.25}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temporary file left behind

    for args, expected in [
        (["sample-rate", "fast"], "sample-rate"),
        (["output", "bogus"], "bogus"),
        (["colour", "red"], "unknown key 'colour'"),
        (["lnag", "en"], "unknown key 'lnag'; did you mean `lang`?"),
        (["languag", "en"], "did you mean `lang`?"),
        (["api-key", "abcdefgh123"], "gladia auth set"),
        (["model", "a", "b"], "one value"),
        (["lang", "fr", "--profile", "bad name"], "invalid profile name"),
    ]:
        refused = invoke(capsys, "config", "set", *args)
        assert refused.code == ExitCode.USAGE, args
        assert expected in one_line_error(refused)
    assert "abcdefgh123" not in refused.stderr
    assert tomllib.loads(path.read_text()) == data  # nothing refused was written


@pytest.mark.parametrize(
    ("key", "value", "needle"),
    [
        ("lang", "xx", "unknown language code 'xx'"),
        ("lang", "", "at least one language code"),
        ("translate", "zz", "unknown language code 'zz'"),
        ("sample-rate", "12345", "unsupported sample rate 12345"),
        ("channels", "0", "channel count 0"),
        ("chunk-ms", "5", "10 to 1000"),
        ("endpointing", "99", "0.01 to 10"),
        ("journal-max-mb", "0", "at least 1"),
        ("region", "mars", "unknown region 'mars'"),
        ("api-url", "ftp://x", "invalid API URL"),
        ("speakers", "0", "at least 1"),
    ],
)
def test_config_set_refuses_what_the_command_would_refuse(
    api_env: GladiaEmulator, capsys, key: str, value: str, needle: str
) -> None:
    result = invoke(capsys, "config", "set", key, value)
    assert result.code == ExitCode.USAGE
    assert needle in one_line_error(result)
    assert not config_path().exists()


def test_config_get_list_unset(api_env: GladiaEmulator, capsys, monkeypatch) -> None:
    write_config('output = "srt"\n' + MEETING)
    assert invoke(capsys, "config", "get", "lang").stdout == "en\n"
    assert invoke(capsys, "config", "get", "language", "--profile", "meeting").stdout == "fr\n"
    missing = invoke(capsys, "config", "get", "model")
    assert missing.code == 1 and missing.stdout == "" and "not saved" in missing.stderr

    listed = invoke(capsys, "config", "list")
    assert listed.code == 0
    assert 'lang = ["en"]' in listed.stdout and "# defaults" in listed.stdout
    assert "profiles: meeting" in listed.stdout
    monkeypatch.setenv("GLADIA_PROFILE", "meeting")
    listed = invoke(capsys, "config", "list").stdout
    assert 'lang = "fr"' in listed and 'profile meeting, over defaults ["en"]' in listed
    assert "diarize = true" in listed
    tomllib.loads(listed)  # the listing is itself TOML

    assert invoke(capsys, "config", "unset", "translate", "--profile", "meeting").code == 0
    assert invoke(capsys, "config", "unset", "lang", "--profile", "meeting").code == 0
    assert "meeting" not in tomllib.loads(config_path().read_text()).get("profile", {})  # left empty: removed
    write_config('api-key = "gk-0123456789abcdef"\n')
    listed = invoke(capsys, "--profile", "", "config", "list")
    assert "gk-0123456789abcdef" not in listed.stdout + listed.stderr and "unknown key" in listed.stdout
    write_config("colour = 1\n")
    assert invoke(capsys, "--profile", "", "config", "list").stdout.count("unknown key") == 1
    assert invoke(capsys, "--profile", "", "config", "unset", "colour").code == 0  # how a bad key is mended
    assert tomllib.loads(config_path().read_text()) == {}


def test_config_path_follows_xdg(monkeypatch, tmp_path: Path, capsys) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "x"))
    assert invoke(capsys, "config", "path").stdout.strip() == str(tmp_path / "x" / "gladia" / "config.toml")
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert invoke(capsys, "config", "path").stdout.strip() == str(tmp_path / ".config" / "gladia" / "config.toml")


@pytest.mark.parametrize(
    "value", ["plain", 'q"uote', "back\\slash", "tab\tnew\nline", "\x00\x1f\x7f", "é€😀", "", "[not] = a table"]
)
def test_toml_strings_round_trip(value: str) -> None:
    config = profiles.Config(Path("x"), {"vocabulary": [value], "model": value, "n": 3, "f": 0.5, "b": True})
    assert tomllib.loads(profiles.dumps(config)) == {"vocabulary": [value], "model": value, "n": 3, "f": 0.5, "b": True}


# --- drift guard: transcribe's two modes -----------------------------------------------------------------------------


def test_mode_lists_match_what_transcribe_refuses(tmp_path: Path) -> None:
    """The one list of each mode (cli/flags.py) is what transcribe refuses, and what saved defaults keep to a mode."""
    from gladia_cli.cli import flags
    from gladia_cli.cli.app import app
    from gladia_cli.cli.flags import BodyFlags
    from gladia_cli.cli.prerecorded_request import transcribe_request
    from gladia_cli.cli.typer_seam import command_tree

    command = command_tree(app).subcommands["transcribe"]
    wav, _ = write_wav(tmp_path / "a.wav", 0.5)
    base = {p.name: p.default for p in command.params if p.name not in ("api_key", "api_url")}
    base.update(inputs=[str(wav)], output="text", speed=None)
    samples = {int: 2, float: 0.5, bool: True, str: "wav/pcm", Path: tmp_path / "new.wav"}

    def refused(key: str, param, realtime: bool) -> bool:
        value = samples.get(param.value_type, samples[str]) if not param.is_flag else True
        if param.choices:
            value = param.choices[0]  # a value the option takes (for -o, text: taken in both modes)
        if key in ("output-dir",):
            value = tmp_path / "out"
        flags = {**base, "realtime": realtime, param.name: value}
        try:
            body, rest = BodyFlags.split(flags)
            transcribe_request(body, **rest)
        except UsageError as exc:
            return "applies to" in str(exc)  # --speakers is refused as --diarize
        return False

    live_only, pre_only = set(), set()
    for key, pairs in profiles.targets(command_tree(app)).items():
        for target in pairs:
            if target.command != "transcribe" or key in ("realtime", "api-url"):
                continue
            if refused(key, target.param, realtime=False):
                live_only.add(key)
            if refused(key, target.param, realtime=True):
                pre_only.add(key)
    assert live_only == set(flags.REALTIME_ONLY)
    assert pre_only == set(flags.PRERECORDED_ONLY)


def test_profile_after_the_command_moves_before_it_but_not_past_a_double_dash() -> None:
    from gladia_cli.cli.main import _profile_first

    args = ["transcribe", "a.wav", "--profile", "x", "-l", "en", "--", "--profile", "y"]
    assert _profile_first(args) == ["--profile", "x", "transcribe", "a.wav", "-l", "en", "--", "--profile", "y"]
    assert _profile_first(["list", "--profile=x"]) == ["--profile=x", "list"]
    assert _profile_first(["list", "-n", "3"]) == ["list", "-n", "3"]
