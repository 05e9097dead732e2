"""Key storage (`gladia auth`), its precedence, and shell completion scripts that cannot drift from the CLI."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import invoke, one_line_error, run
from emulator import GladiaEmulator
from wavs import write_wav

if __package__:  # tests/ imported as a package
    from .virtual_mic import VirtualMic, virtual_mic
else:  # rootdir-relative import of tests/ (no __init__.py)
    from virtual_mic import VirtualMic, virtual_mic

from gladia_cli.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
KEY = "gk-0123456789abcdef"
__all__ = ["virtual_mic"]  # the fixture is used by name, not referenced


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    return tmp_path


def test_auth_set_from_stdin_saves_0600_and_status_masks(home: Path) -> None:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg")}
    proc = subprocess.run(
        [sys.executable, "-m", "gladia_cli", "auth", "set"],
        input=KEY + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    path = home / "xdg" / "gladia" / "api_key"
    assert path.read_text().strip() == KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert KEY not in proc.stdout + proc.stderr
    status = run("auth", "status", env=env)
    assert status.code == 0
    assert KEY not in status.stdout + status.stderr
    assert "gk-0" in status.stdout and "cdef" in status.stdout and str(path) in status.stdout


def test_precedence_flag_env_saved_official(home: Path, capsys) -> None:
    (home / ".gladia").write_text("official-key\n")
    assert "from: " + str(home / ".gladia") in invoke(capsys, "auth", "status").stdout
    assert invoke(capsys, "auth", "set", "saved-key-1234").code == 0
    assert "/xdg/gladia/api_key" in invoke(capsys, "auth", "status").stdout
    os.environ["GLADIA_API_KEY"] = "env-key-12345"
    try:
        assert "from: GLADIA_API_KEY" in invoke(capsys, "auth", "status").stdout
        assert "from: --api-key" in invoke(capsys, "auth", "status", "--api-key", "flag-key-123").stdout
        assert "from: --api-key" in invoke(capsys, "auth", "status", "--gladia-key", "flag-key-123").stdout
    finally:
        del os.environ["GLADIA_API_KEY"]


def test_auth_clear(home: Path, capsys) -> None:
    (home / ".gladia").write_text("official-key\n")
    invoke(capsys, "auth", "set", "saved-key-1234")
    result = invoke(capsys, "auth", "clear")
    assert result.code == 0
    assert not (home / "xdg" / "gladia" / "api_key").exists()
    assert "clear --all" in result.stderr  # ~/.gladia still provides a key: say so
    assert invoke(capsys, "auth", "clear", "--all").code == 0
    assert not (home / ".gladia").exists()
    status = invoke(capsys, "auth", "status")
    assert status.code == ExitCode.AUTH
    assert "gladia auth set" in one_line_error(status)


def test_empty_key_is_refused(home: Path, capsys) -> None:
    result = invoke(capsys, "auth", "set", "   ")
    assert result.code == ExitCode.USAGE
    assert "empty" in one_line_error(result)


def test_saved_key_is_used_for_requests(home: Path, emulator: GladiaEmulator, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GLADIA_API_URL", emulator.base_url)
    invoke(capsys, "auth", "set", "test-key")
    wav, _ = write_wav(home / "a.wav", 0.5)
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0").code == 0
    assert emulator.init_requests[0].headers["x-gladia-key"] == "test-key"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_match_the_cli(shell: str) -> None:
    result = run("completion", shell)
    assert result.code == 0
    assert (ROOT / "completions" / f"gladia.{shell}").read_text() == result.stdout, (
        f"completions/gladia.{shell} is stale: regenerate with `gladia completion {shell} > completions/gladia.{shell}`"
    )


def test_completion_offers_commands_and_language_codes() -> None:
    env = {"_GLADIA_COMPLETE": "complete_bash", "COMP_WORDS": "gladia listen --lang f", "COMP_CWORD": "3"}
    result = run(env=env)
    assert "fr" in result.stdout.split()
    env = {"_GLADIA_COMPLETE": "complete_bash", "COMP_WORDS": "gladia tr", "COMP_CWORD": "1"}
    assert run(env=env).stdout.split() == ["transcribe"]


@pytest.mark.parametrize(
    ("words", "offered", "not_offered"),
    [
        ("gladia listen --lang w", set(), {"wo"}),  # Wolof is a translation target, not a transcription language
        ("gladia listen --translate w", {"wo"}, set()),
        ("gladia listen --encoding wav/", {"wav/pcm", "wav/alaw", "wav/ulaw"}, set()),
        ("gladia transcribe --model sol", {"solaria-1", "solaria-3", "solaria-fusion"}, set()),
        ("gladia transcribe --summary-type b", {"bullet_points"}, {"general"}),
    ],
)
def test_completion_offers_what_each_option_accepts(words: str, offered: set[str], not_offered: set[str]) -> None:
    env = {"_GLADIA_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    got = set(run(env=env).stdout.split())
    assert offered <= got and not (not_offered & got), got


def test_bash_really_completes_with_the_script(tmp_path: Path) -> None:
    """Source the shipped script in a real bash and ask it to complete, as a shell would."""
    script = ROOT / "completions" / "gladia.bash"
    probe = (
        f"source {script}; COMP_WORDS=(gladia listen --lang e); COMP_CWORD=3; "
        f"_gladia_completion gladia; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    gladia = Path(sys.executable).parent / "gladia"
    if not gladia.exists():
        pytest.skip("the gladia console script is not installed next to this Python")
    env = {**os.environ, "PATH": f"{gladia.parent}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=30)
    assert {"en", "es", "el"} <= set(proc.stdout.split()), proc.stdout + proc.stderr


def test_a_refused_saved_key_says_where_it_comes_from(
    home: Path, emulator: GladiaEmulator, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("GLADIA_API_URL", emulator.base_url)
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    from gladia_cli import settings

    settings.save_key("not-a-valid-key")  # saved while Gladia was out of reach, or revoked since
    wav, _ = write_wav(home / "a.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime")
    assert result.code == ExitCode.AUTH
    line = one_line_error(result)
    assert "refused the API key" in line and "gladia auth set" in line and str(home / "xdg" / "gladia") in line
    assert "not-a-valid-key" not in result.stdout + result.stderr


def test_auth_set_checks_the_key_with_gladia_before_saving_it(
    home: Path, emulator: GladiaEmulator, capsys, monkeypatch
) -> None:
    from gladia_cli import settings

    monkeypatch.setenv("GLADIA_API_URL", emulator.base_url)
    refused = invoke(capsys, "auth", "set", "not-a-valid-key")
    assert refused.code == ExitCode.AUTH
    assert "Gladia refused the key" in one_line_error(refused) and "nothing was saved" in refused.stderr
    assert not settings.saved_key_file().exists() and "not-a-valid-key" not in refused.stderr
    accepted = invoke(capsys, "auth", "set", "test-key")
    assert accepted.code == 0 and "(Gladia accepted it)" in accepted.stderr
    assert settings.saved_key_file().read_text().strip() == "test-key"


def test_auth_set_out_of_reach_saves_the_key_and_says_it_was_not_checked(home: Path, capsys, monkeypatch) -> None:
    from gladia_cli import settings

    monkeypatch.setenv("GLADIA_API_URL", "http://127.0.0.1:9")
    result = invoke(capsys, "auth", "set", "some-key-12345")
    assert result.code == 0
    assert "could not check it with Gladia" in result.stderr and "gladia doctor" in result.stderr
    assert settings.saved_key_file().read_text().strip() == "some-key-12345"


# --- the generated scripts, run by the real shells ------------------------------------------------------------------


def needs(shell: str) -> str:
    """The shell's path; skipped when it is missing, but a failure under CI (.ci/run installs zsh and fish)."""
    path = shutil.which(shell)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{shell} is not installed (apt install {shell})")
        pytest.skip(f"{shell} is not installed")
    return path


@pytest.fixture
def gladia_bin(tmp_path: Path) -> Path:
    """A `gladia` on PATH that records each run (fixed values must not start it) and then runs this checkout."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "gladia"
    script.write_text(
        f'#!/bin/sh\necho "$*" >> {tmp_path / "runs"}\nPYTHONPATH={ROOT} exec {sys.executable} -m gladia_cli "$@"\n'
    )
    script.chmod(0o755)
    return bin_dir


def runs(gladia_bin: Path) -> list[str]:
    log = gladia_bin.parent / "runs"
    return log.read_text().splitlines() if log.exists() else []


def bash_complete(words: list[str], gladia_bin: Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> list[str]:
    """Source completions/gladia.bash in a real bash, set COMP_WORDS/COMP_CWORD as readline does, run the function
    `complete -p gladia` names; returns COMPREPLY (and whether bash was told to fall back to file names)."""
    probe = (
        f"source {ROOT / 'completions' / 'gladia.bash'}\n"
        "func=$(complete -p gladia); func=${func#*-F }; func=${func%% *}\n"
        'COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))\n'
        'compopt() { [[ $* == "-o default" ]] && echo "<files>"; }\n'  # no readline here: report the fallback
        '"$func" gladia "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"\n'
        "printf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    full_env = {**os.environ, "PATH": f"{gladia_bin}:{os.environ['PATH']}", **(env or {})}
    proc = subprocess.run(
        ["bash", "--norc", "-c", probe, "bash", *words],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=30,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    return [line for line in proc.stdout.splitlines() if line]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["gladia", "listen", "--lang", "f"], ["fa", "fi", "fo", "fr"]),
        (["gladia", "listen", "--lang", "en,f"], ["en,fa", "en,fi", "en,fo", "en,fr"]),
        (["gladia", "listen", "--lang", "=", "fr"], ["fr"]),  # --lang=fr, split by COMP_WORDBREAKS
        (["gladia", "listen", "--lang=fr"], ["--lang=fr"]),
        (["gladia", "transcribe", "--translate", "w"], ["wo"]),
        (["gladia", "listen", "--lang", "w"], []),
        (["gladia", "tr"], ["transcribe"]),
        (["gladia", "auth", "s"], ["set", "status"]),
        (["gladia", "auth", "clear", "--"], ["--help", "--all"]),
        (["gladia", "listen", "-o", "j"], ["json", "json-full", "jsonl"]),
        (["gladia", "result", "ID", "-o", "j"], ["json", "json-full"]),  # results have no jsonl
        (["gladia", "list", "--kind", ""], ["live", "pre-recorded"]),
        (["gladia", "transcribe", "--encoding", "wav/"], ["wav/pcm", "wav/alaw", "wav/ulaw"]),
        (["gladia", "transcribe", "--model", "s"], ["solaria-1", "solaria-3", "solaria-fusion"]),
        (["gladia", "listen", "--summary-type", "b"], ["bullet_points"]),
        (["gladia", "completion", ""], ["bash", "zsh", "fish"]),
        (["gladia", "--ver"], ["--version"]),
        (["gladia", "doctor", "--j"], ["--json"]),
        (["gladia", "listen", "--chunk-ms", ""], []),  # a number: nothing to offer, not file names
        (["gladia", "transcribe", "sam"], ["<files>"]),
        (["gladia", "listen", "--config", ""], ["<files>"]),
    ],
)
def test_bash_completes_without_python(words: list[str], expected: list[str], gladia_bin: Path) -> None:
    assert bash_complete(words, gladia_bin) == expected
    assert runs(gladia_bin) == []  # fixed values: gladia (and so Python) never started


def test_every_option_of_the_cli_is_in_every_script() -> None:
    """The scripts are generated from the click tree: each command and option of the CLI appears in each."""
    from gladia_cli.cli.app import app
    from gladia_cli.cli.completion import commands
    from gladia_cli.cli.typer_seam import command_tree

    scripts = {shell: (ROOT / "completions" / f"gladia.{shell}").read_text() for shell in ("bash", "zsh", "fish")}
    cmds = commands(command_tree(app))
    assert {c.path for c in cmds} >= {"", "listen", "transcribe", "doctor", "auth set", "completion"}
    for cmd in cmds:
        for option in cmd.options:
            for name in option.names:
                for shell, text in scripts.items():
                    assert f"{name}" in text, (shell, cmd.path, name)


def test_bash_asks_gladia_for_device_names(virtual_mic: VirtualMic, gladia_bin: Path) -> None:
    got = bash_complete(["gladia", "listen", "--device", ""], gladia_bin, env=virtual_mic.env)
    assert {"pulse", "default"} <= set(got), got
    assert runs(gladia_bin) == ["devices"]
    assert bash_complete(["gladia", "doctor", "-d", "pu"], gladia_bin, env=virtual_mic.env) == ["pulse"]


def test_one_device_list_for_devices_doctor_completion_and_device(
    virtual_mic: VirtualMic, gladia_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gladia devices`, `gladia doctor`, Tab completion (the shell's and Typer's) and `--device` read audio/devices:
    the PulseAudio sources (microphones and monitors) show in each, not only in `gladia devices`."""
    listed = run("devices", env=virtual_mic.env)
    assert listed.code == 0, listed.stderr
    names = [line.split("\t")[2] for line in listed.stdout.splitlines()]
    pulse = [name for name in names if name.startswith("virtmic")]
    assert pulse, names  # the virtual microphone's source and the monitor of its sink
    assert bash_complete(["gladia", "listen", "--device", ""], gladia_bin, env=virtual_mic.env) == names
    for key, value in virtual_mic.env.items():
        monkeypatch.setenv(key, value)
    from gladia_cli.cli.completion import complete_device

    assert [name for name, _ in complete_device("")] == names
    from gladia_cli.cli.doctor import Options, check_input_devices

    inputs = check_input_devices(Options())  # `gladia doctor`'s own check (the command's output: tests/test_doctor)
    assert inputs.ok and all(repr(name) in inputs.detail for name in pulse), inputs
    assert bash_complete(["gladia", "listen", "--device", "virtmic2"], gladia_bin, env=virtual_mic.env) == [
        n for n in names if n.startswith("virtmic2")
    ]


def fish_complete(line: str, gladia_bin: Path, env: dict[str, str] | None = None) -> list[str]:
    fish = needs("fish")
    script = ROOT / "completions" / "gladia.fish"
    full_env = {**os.environ, "PATH": f"{gladia_bin}:{os.environ['PATH']}", **(env or {})}
    proc = subprocess.run(
        [fish, "--no-config", "-c", f"source {script}; complete -C{shlex.quote(line)}"],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=ROOT,
        timeout=30,
    )
    assert proc.returncode == 0 and not proc.stderr, proc.stderr
    return [entry.split("\t")[0] for entry in proc.stdout.splitlines()]


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("gladia listen --lang f", {"fa", "fi", "fo", "fr"}),
        ("gladia listen --lang en,f", {"en,fa", "en,fi", "en,fo", "en,fr"}),
        ("gladia listen --lang=f", {"--lang=fa", "--lang=fi", "--lang=fo", "--lang=fr"}),
        ("gladia auth s", {"set", "status"}),
        ("gladia result ID -o j", {"json", "json-full"}),
        ("gladia list --kind ", {"live", "pre-recorded"}),
        ("gladia listen --enc", {"--encoding"}),
        ("gladia transcribe sam", {"samples/"}),
        ("gladia listen --chunk-ms ", set()),
    ],
)
def test_fish_completes_without_python(line: str, expected: set[str], gladia_bin: Path) -> None:
    assert set(fish_complete(line, gladia_bin)) == expected
    assert runs(gladia_bin) == []


def test_fish_asks_gladia_for_device_names(virtual_mic: VirtualMic, gladia_bin: Path) -> None:
    got = fish_complete("gladia listen --device ", gladia_bin, env=virtual_mic.env)
    assert {"pulse", "default"} <= set(got), got


def test_zsh_completes_at_a_real_prompt(gladia_bin: Path, tmp_path: Path) -> None:
    """A real interactive zsh in tmux: compinit, source the script, press Tab, read the screen."""
    zsh = needs("zsh")
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    sock = tmp_path / "tmux.sock"
    env = f"env -i HOME={tmp_path} TERM=xterm-256color PATH={gladia_bin}:/usr/bin:/bin"
    tmux = ["tmux", "-S", str(sock)]
    subprocess.run([*tmux, "new-session", "-d", "-s", "z", "-x", "150", "-y", "30", f"{env} {zsh} -f"], check=True)

    def screen_after(keys: str, want: str, timeout: float = 10.0) -> str:
        subprocess.run([*tmux, "send-keys", "-t", "z", "C-u", keys, "Tab"], check=True)
        deadline = time.monotonic() + timeout
        while True:
            screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "z"], capture_output=True, text=True).stdout
            if want in screen or time.monotonic() > deadline:
                return screen

    try:
        setup = f"autoload -U compinit; compinit -u; source {ROOT / 'completions' / 'gladia.zsh'}; PS1='%% '"
        subprocess.run([*tmux, "send-keys", "-t", "z", setup, "Enter"], check=True)
        screen = screen_after("gladia listen --lang f", "fr  -- French")
        assert all(f"{code}  -- " in screen for code in ("fa", "fi", "fo", "fr")), screen
        screen = screen_after("gladia tr", "gladia transcribe")
        assert "% gladia transcribe" in screen, screen
        screen = screen_after("gladia result ID -o json-", "json-full")
        assert "-o json-full" in screen, screen
        assert runs(gladia_bin) == []
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


def test_completion_benchmark_runs(tmp_path: Path) -> None:
    """bench/completion.py end to end on tiny counts (no timing assertion): it writes its section of a report."""
    report = tmp_path / "results.md"
    report.write_text("# results\n\n## 1. Start-up\n\nkept\n")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "completion.py"),
            "--repeat",
            "1",
            "--count",
            "2",
            "--output",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    text = report.read_text()
    assert "## 1. Start-up\n\nkept" in text and text.count("## 6. Shell completion") == 1
    assert "| bash: completions/gladia.bash |" in text


def test_zsh_device_names_come_from_the_name_column_even_beside_an_empty_one(tmp_path: Path) -> None:
    """`gladia devices` piped: default mark, index, name, channels... The mark is empty on most rows, and zsh's
    plain (ps:\\t:) split drops empty fields, which completed the channel counts ("32") instead of the names."""
    zsh = needs("zsh")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    rows = "*\\t0\\tdefault\\t32\\tALSA\\n\\t1\\tUSB mic\\t2\\tALSA\\n\\t2\\tpulse\\t32\\tALSA\\n"
    stub = bin_dir / "gladia"
    stub.write_text(f"#!/bin/sh\nprintf '{rows}'\n")
    stub.chmod(0o755)
    probe = (
        "compdef() { :; }\n"
        f"source {ROOT / 'completions' / 'gladia.zsh'}\n"
        'compadd() { shift; for n in ${(P)1}; do print -r -- "$n"; done; }\n'  # compadd -a names
        f"_gladia_devices {stub}\n"
    )
    proc = subprocess.run([zsh, "-f", "-c", probe], capture_output=True, text=True, timeout=30)
    assert proc.stdout.splitlines() == ["default", "USB mic", "pulse"], proc.stdout + proc.stderr
