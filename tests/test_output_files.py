"""Output files (--output-file, --output-dir, audio -O): atomic for regular files, but a symlink is followed, a FIFO
or device is written straight through, a new file's mode follows the umask and a replaced file keeps its mode."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import invoke
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.batch import run_batch, write_text_atomic
from gladia_cli.errors import ExitCode
from gladia_cli.output import files as outfile

needs_posix = pytest.mark.skipif(os.name != "posix", reason="symlinks, FIFOs, umask and /dev are POSIX here")
pytestmark = needs_posix


@pytest.fixture
def umask() -> Iterator[None]:
    """Restore the process umask whatever a test sets."""
    old = os.umask(0o022)
    os.umask(old)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def null_device(tmp_path: Path) -> Path:
    """/dev/null for an unprivileged run (which cannot rename over it anyway); as root, a private node of the same
    device in tmp_path, so a regression clobbers that one and never the system's /dev/null."""
    if os.geteuid() != 0:
        return Path("/dev/null")
    node = tmp_path / "devnull"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        os.close(os.open(node, os.O_WRONLY))
    except OSError as exc:
        pytest.skip(f"cannot make a private null device as root: {exc}")
    return node


def is_null_device(path: Path) -> bool:
    info = os.lstat(path)
    return stat.S_ISCHR(info.st_mode) and info.st_rdev == os.stat("/dev/null").st_rdev


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def leftovers(folder: Path) -> list[str]:
    return sorted(name for name in os.listdir(folder) if name.endswith(".part"))


class FifoReader:
    """Reads a FIFO to its end in a thread, so a writer can open it (opening a FIFO blocks until both ends exist)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = b""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with open(self.path, "rb") as fifo:
            self.data = fifo.read()

    def join(self) -> bytes:
        self.thread.join(timeout=10)
        assert not self.thread.is_alive(), "the FIFO was never opened for writing"
        return self.data


# --------------------------------------------------------------------------------------------------------------------
# outfile.replace_file / write_text, and batch.write_text_atomic on top of it
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664), (0o077, 0o600)])
def test_a_new_file_gets_0666_minus_the_umask(tmp_path: Path, umask: None, mask: int, expected: int) -> None:
    os.umask(mask)
    path = tmp_path / "new.txt"
    write_text_atomic(path, "hello\n")
    assert path.read_text() == "hello\n"
    assert mode(path) == expected
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("old_mode", [0o644, 0o640, 0o604, 0o664])
def test_a_replaced_file_keeps_its_mode(tmp_path: Path, umask: None, old_mode: int) -> None:
    os.umask(0o077)
    path = tmp_path / "old.txt"
    path.write_text("old")
    os.chmod(path, old_mode)
    write_text_atomic(path, "new")
    assert path.read_text() == "new"
    assert mode(path) == old_mode


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_a_replaced_file_keeps_its_owner_when_root(tmp_path: Path) -> None:
    path = tmp_path / "theirs.txt"
    path.write_text("old")
    os.chown(path, 65534, 65534)
    write_text_atomic(path, "new")
    info = os.stat(path)
    assert (info.st_uid, info.st_gid) == (65534, 65534) and path.read_text() == "new"


def test_a_symlink_stays_and_its_target_gets_the_content(tmp_path: Path, umask: None) -> None:
    os.umask(0o077)
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    target = real_dir / "transcript.txt"
    target.write_text("old")
    os.chmod(target, 0o644)
    link = tmp_path / "link.txt"
    link.symlink_to(os.path.join("real", "transcript.txt"))  # relative, resolved from the link's folder
    write_text_atomic(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "transcript.txt")
    assert target.read_text() == "new\n" and mode(target) == 0o644
    assert leftovers(tmp_path) == [] and leftovers(real_dir) == []


def test_a_chain_of_symlinks_is_followed_to_the_end(tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("old")
    (tmp_path / "middle").symlink_to(target)
    (tmp_path / "first").symlink_to(tmp_path / "middle")
    write_text_atomic(tmp_path / "first", "new")
    assert (tmp_path / "first").is_symlink() and (tmp_path / "middle").is_symlink()
    assert target.read_text() == "new"


def test_a_dangling_symlink_creates_its_target(tmp_path: Path, umask: None) -> None:
    os.umask(0o022)
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "later.txt")
    write_text_atomic(link, "made")
    assert link.is_symlink()
    assert (tmp_path / "later.txt").read_text() == "made" and mode(tmp_path / "later.txt") == 0o644


def test_a_symlink_loop_is_an_error_and_the_links_stay(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError):
        write_text_atomic(tmp_path / "a", "x")
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()
    assert leftovers(tmp_path) == []


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    write_text_atomic(fifo, "through the pipe\n")
    assert reader.join() == b"through the pipe\n"
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert sorted(os.listdir(tmp_path)) == ["pipe"]


def test_a_symlink_to_a_fifo_writes_into_the_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    reader = FifoReader(fifo)
    write_text_atomic(link, "via the link")
    assert reader.join() == b"via the link"
    assert link.is_symlink() and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_dev_null_stays_a_device(tmp_path: Path, null_device: Path) -> None:
    before = os.lstat(null_device)
    write_text_atomic(null_device, "gone")
    with outfile.replace_file(null_device) as out:
        out.write(b"x" * 100_000)
    after = os.lstat(null_device)
    assert is_null_device(null_device) and after.st_ino == before.st_ino
    assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)
    assert leftovers(null_device.parent) == []


def test_a_symlink_to_dev_null_stays(tmp_path: Path, null_device: Path) -> None:
    link = tmp_path / "sink"
    link.symlink_to(null_device)
    write_text_atomic(link, "gone")
    assert link.is_symlink() and is_null_device(null_device)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError):
        write_text_atomic(tmp_path, "x")


def test_an_error_while_writing_leaves_the_old_file_and_no_temp_file(tmp_path: Path, umask: None) -> None:
    path = tmp_path / "kept.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    with pytest.raises(RuntimeError), outfile.replace_file(path) as out:
        out.write(b"half of it")
        raise RuntimeError("crash")
    assert path.read_text() == "old" and mode(path) == 0o640
    assert sorted(os.listdir(tmp_path)) == ["kept.txt"]
    fresh = tmp_path / "fresh.txt"
    with pytest.raises(KeyboardInterrupt), outfile.replace_file(fresh) as out:
        out.write(b"half")
        raise KeyboardInterrupt
    assert not fresh.exists() and sorted(os.listdir(tmp_path)) == ["kept.txt"]


def test_the_temp_file_is_created_beside_the_target_with_the_umask(tmp_path: Path, umask: None) -> None:
    """Atomic rename needs the same filesystem, so the temp file is in the target's folder (not the link's)."""
    os.umask(0o027)
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    link = tmp_path / "link.txt"
    link.symlink_to(real_dir / "t.txt")
    with outfile.replace_file(link) as out:
        temps = [real_dir / name for name in leftovers(real_dir)]
        assert len(temps) == 1 and leftovers(tmp_path) == []
        assert mode(temps[0]) == 0o640
        out.write(b"x")
    assert (real_dir / "t.txt").read_bytes() == b"x" and leftovers(real_dir) == []


def test_concurrent_writers_leave_the_umask_alone(tmp_path: Path, umask: None) -> None:
    """Batch writes run in threads: nothing here touches the process umask, so every file gets the same mode."""
    os.umask(0o022)
    paths = [tmp_path / f"out{i}.txt" for i in range(40)]
    threads = [threading.Thread(target=write_text_atomic, args=(p, p.name)) for p in paths]
    for each in threads:
        each.start()
    for each in threads:
        each.join()
    assert all(p.read_text() == p.name and mode(p) == 0o644 for p in paths)
    assert os.umask(0o022) == 0o022
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc/self/fd")
@pytest.mark.parametrize("stdout_kind", ["pipe", "file", "appended"])
def test_dev_stdout_writes_to_this_processs_stdout(tmp_path: Path, stdout_kind: str) -> None:
    """In a child process: `/dev/stdout` on a pipe or on a redirected file gets the text; the link itself stays.

    As root, a private link like /dev/stdout (to /proc/self/fd/1), so a regression cannot replace the system's."""
    if os.geteuid() == 0:
        link = tmp_path / "links" / "stdout"
        link.parent.mkdir()
        link.symlink_to("/proc/self/fd/1")
    else:
        link = Path("/dev/stdout")
    code = "import sys; from pathlib import Path; from gladia_cli.batch import write_text_atomic; "
    code += "write_text_atomic(Path(sys.argv[1]), 'to stdout\\n')"
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-c", code, str(link)]
    if stdout_kind == "pipe":
        proc = subprocess.run(command, capture_output=True, env=env, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == b"to stdout\n"
    else:
        out = tmp_path / "redirected.txt"
        before = b"earlier lines\n" if stdout_kind == "appended" else b""
        out.write_bytes(before + b"x" * 100 * (stdout_kind == "file"))  # `>` truncates, `>>` keeps
        with open(out, "ab" if stdout_kind == "appended" else "wb") as handle:
            inode = os.fstat(handle.fileno()).st_ino
            proc = subprocess.run(command, stdout=handle, stderr=subprocess.PIPE, env=env, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert out.read_bytes() == before + b"to stdout\n" and os.stat(out).st_ino == inode  # into, not replaced
        assert leftovers(tmp_path) == []
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1"
    if link.parent != Path("/dev"):
        assert os.listdir(link.parent) == ["stdout"]


def test_batch_keeps_a_dangling_symlink_when_the_write_fails(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    link = out / "a.txt"
    link.symlink_to(tmp_path / "missing-dir" / "a.txt")
    results = run_batch(
        ["a"],
        jobs=1,
        output_dir=out,
        fmt_ext="txt",
        force=True,  # without it the dangling link counts as an existing output and the input is skipped
        transcribe_one=lambda source: {},
        write_output=lambda source, job, path: write_text_atomic(path, source),
    )
    assert [r.status for r in results] == ["failed"]
    assert link.is_symlink()


# --------------------------------------------------------------------------------------------------------------------
# Through the CLI, against the loopback emulator
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def emu(api_env: GladiaEmulator) -> GladiaEmulator:
    api_env.prerecorded.polls_before_done = 0
    return api_env


def test_cli_transcribe_output_file_follows_a_symlink(emu: GladiaEmulator, tmp_path: Path, capsys, umask) -> None:
    os.umask(0o077)
    wav, _ = write_wav(tmp_path / "talk.wav", 0.5)
    target = tmp_path / "keep" / "talk.txt"
    target.parent.mkdir()
    target.write_text("old")
    os.chmod(target, 0o644)
    link = tmp_path / "talk.txt"
    link.symlink_to(target)
    result = invoke(capsys, "transcribe", str(wav), "--output-file", str(link), "--force")
    assert result.code == 0, result.stderr
    assert link.is_symlink() and "quick brown fox" in target.read_text() and mode(target) == 0o644


def test_cli_transcribe_output_file_new_file_follows_the_umask(
    emu: GladiaEmulator, tmp_path: Path, capsys, umask
) -> None:
    os.umask(0o027)
    wav, _ = write_wav(tmp_path / "talk.wav", 0.5)
    out = tmp_path / "talk.srt"
    result = invoke(capsys, "transcribe", str(wav), "--output-file", str(out), "-o", "srt")
    assert result.code == 0, result.stderr
    assert mode(out) == 0o640 and "-->" in out.read_text()


def test_cli_result_output_file_into_a_fifo_and_dev_null(
    emu: GladiaEmulator, tmp_path: Path, capsys, null_device: Path
) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 0.5)
    assert invoke(capsys, "transcribe", str(wav)).code == 0
    job_id = emu.prerecorded.only_job().id
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    result = invoke(capsys, "result", job_id, "--output-file", str(fifo))
    assert result.code == 0, result.stderr
    assert b"quick brown fox" in reader.join() and stat.S_ISFIFO(os.lstat(fifo).st_mode)
    null = invoke(capsys, "result", job_id, "--output-file", str(null_device))
    assert null.code == 0, null.stderr
    assert is_null_device(null_device)


def test_cli_batch_output_dir_keeps_symlinks_and_modes(emu: GladiaEmulator, tmp_path: Path, capsys, umask) -> None:
    os.umask(0o022)
    inputs = [str(write_wav(tmp_path / f"{name}.wav", 0.3)[0]) for name in ("a", "b")]
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("old")
    os.chmod(elsewhere, 0o600)
    (out / "a.txt").symlink_to(elsewhere)
    result = invoke(capsys, "transcribe", *inputs, "--output-dir", str(out), "--force")
    assert result.code == 0, result.stderr
    assert (out / "a.txt").is_symlink() and "quick brown fox" in elsewhere.read_text() and mode(elsewhere) == 0o600
    assert mode(out / "b.txt") == 0o644
    assert leftovers(out) == [] and leftovers(tmp_path) == []


def test_cli_audio_force_over_a_symlink_and_dev_null(
    emu: GladiaEmulator, tmp_path: Path, capsys, umask, null_device: Path
) -> None:
    os.umask(0o002)
    wav, _ = write_wav(tmp_path / "talk.wav", 0.5)
    assert invoke(capsys, "transcribe", str(wav)).code == 0
    job_id = emu.prerecorded.only_job().id
    fresh = tmp_path / "fresh.wav"
    assert invoke(capsys, "audio", job_id, "-O", str(fresh)).code == 0
    assert fresh.read_bytes() == wav.read_bytes() and mode(fresh) == 0o600  # recorded speech: the user's alone
    target = tmp_path / "stored.wav"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    link = tmp_path / "link.wav"
    link.symlink_to(target)
    refused = invoke(capsys, "audio", job_id, "-O", str(link))
    assert refused.code != 0 and target.read_bytes() == b"old"
    forced = invoke(capsys, "audio", job_id, "-O", str(link), "--force")
    assert forced.code == 0, forced.stderr
    assert link.is_symlink() and target.read_bytes() == wav.read_bytes() and mode(target) == 0o640
    null = invoke(capsys, "audio", job_id, "-O", str(null_device), "--force")
    assert null.code == 0, null.stderr
    assert is_null_device(null_device)
    assert leftovers(tmp_path) == []


def test_write_problem_checks_where_the_write_will_happen(tmp_path: Path) -> None:
    """The pre-flight check and the writer agree: a link's target directory, not the link's, must exist."""
    from gladia_cli.output.files import write_problem

    assert write_problem(tmp_path / "new.txt") is None
    assert write_problem(Path(os.devnull)) is None  # written through: /dev itself need not be writable
    link = tmp_path / "link.txt"
    link.symlink_to(tmp_path / "gone" / "t.txt")
    assert write_problem(link) == f"directory not found: {tmp_path / 'gone'}"
    assert write_problem(tmp_path) == "it is a directory"
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert write_problem(loop)  # a loop is a problem, reported before any upload


# --------------------------------------------------------------------------------------------------------------------
# Another user's symlinks in a shared directory (as root: only root can give a link away)
# --------------------------------------------------------------------------------------------------------------------

needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away"
)
NOBODY = 65534


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A sticky world-writable directory, like /tmp."""
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(directory, 0o1777)
    return directory


def planted(shared: Path, name: str, target: Path) -> Path:
    link = shared / name
    link.symlink_to(target)
    os.lchown(link, NOBODY, NOBODY)
    return link


@needs_root
def test_a_link_another_user_planted_is_not_followed(tmp_path: Path, shared: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"root's own")
    os.chmod(victim, 0o600)
    link = planted(shared, "out.txt", victim)
    assert "owned by another user" in (outfile.write_problem(link) or "")
    with pytest.raises(PermissionError), outfile.replace_file(link) as out:
        out.write(b"overwritten")
    assert victim.read_bytes() == b"root's own" and link.is_symlink()
    dangling = planted(shared, "new.txt", tmp_path / "created-elsewhere")
    with pytest.raises(PermissionError), outfile.replace_file(dangling) as out:
        out.write(b"x")
    assert not (tmp_path / "created-elsewhere").exists()


@needs_root
def test_the_cli_writes_through_no_planted_link(emu: GladiaEmulator, tmp_path: Path, shared: Path, capsys) -> None:
    """`result --output-file`, `audio -O --force` and `transcribe --output-dir --force` into a shared directory."""
    wav, _ = write_wav(tmp_path / "talk.wav", 0.5)
    assert invoke(capsys, "transcribe", str(wav)).code == 0
    job_id = emu.prerecorded.only_job().id
    victim = tmp_path / "victim"
    victim.write_bytes(b"root's own")
    os.chmod(victim, 0o600)
    for args in (
        ("result", job_id, "--output-file", str(planted(shared, "t.txt", victim))),
        ("audio", job_id, "-O", str(planted(shared, "a.wav", victim)), "--force"),
    ):
        result = invoke(capsys, *args)
        assert result.code != 0 and "owned by another user" in result.stderr, result.stderr
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    out = tmp_path / "out"
    out.mkdir()
    os.chmod(out, 0o1777)
    planted(out, "talk.txt", victim)
    batch = invoke(
        capsys, "transcribe", str(wav), str(write_wav(tmp_path / "b.wav", 0.3)[0]), "--output-dir", str(out), "--force"
    )
    assert batch.code != 0
    assert victim.read_bytes() == b"root's own"


def test_a_dangling_link_counts_as_existing_in_a_batch(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    inputs = [str(write_wav(tmp_path / f"{name}.wav", 0.3)[0]) for name in ("a", "b")]
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.txt").symlink_to(tmp_path / "nowhere.txt")
    result = invoke(capsys, "transcribe", *inputs, "--output-dir", str(out))
    assert not (tmp_path / "nowhere.txt").exists()  # not created through the link without --force
    assert (out / "a.txt").is_symlink() and "quick brown fox" in (out / "b.txt").read_text()
    assert result.code in (0, 6)


def test_record_and_downloads_are_private_whatever_the_umask(tmp_path: Path, umask: None) -> None:
    from gladia_cli.audio.format import PcmFormat
    from gladia_cli.audio.recording import WavRecorder

    os.umask(0o000)
    recorder = WavRecorder(tmp_path / "meeting.wav", PcmFormat(16000, 1, 16, "wav/pcm"))
    recorder.close()
    assert mode(tmp_path / "meeting.wav") == 0o600
    (tmp_path / "dangling.wav").symlink_to(tmp_path / "nowhere.wav")
    from gladia_cli.errors import UsageError

    with pytest.raises(UsageError, match="already exists"):
        WavRecorder(tmp_path / "dangling.wav", PcmFormat(16000, 1, 16, "wav/pcm"))


def test_a_config_directory_we_create_is_0700_under_umask_000(tmp_path: Path, umask: None, monkeypatch) -> None:
    from gladia_cli import settings

    os.umask(0o000)
    target = tmp_path / "home" / ".config" / "gladia" / "key"
    settings.write_private(target, b"k")
    for directory in (tmp_path / "home", tmp_path / "home" / ".config", tmp_path / "home" / ".config" / "gladia"):
        assert mode(directory) == 0o700, directory
    assert mode(target) == 0o600


# ---------------------------------------------------------------------------------------------------------------
# One rule for every output: an existing file is refused unless --force, the same flag everywhere


def test_every_output_refuses_an_existing_file_unless_force(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 0.5)
    assert invoke(capsys, "transcribe", str(wav)).code == 0
    job_id = emu.prerecorded.only_job().id
    existing = tmp_path / "existing"
    commands = {
        "transcribe --output-file": ("transcribe", str(wav), "--output-file", str(existing)),
        "transcribe --realtime --output-file": (
            "transcribe", str(wav), "--realtime", "--speed", "0", "-o", "srt", "--output-file", str(existing),
        ),
        "transcribe --realtime --record": (
            "transcribe", str(wav), "--realtime", "--speed", "0", "--record", str(existing),
        ),
        "result --output-file": ("result", job_id, "--output-file", str(existing)),
        "audio -O": ("audio", job_id, "-O", str(existing)),
    }  # fmt: skip
    for name, args in commands.items():
        existing.write_bytes(b"kept")
        sessions = len(emu.init_requests)
        refused = invoke(capsys, *args)
        assert refused.code == ExitCode.USAGE, (name, refused.stderr)
        assert "already exists" in refused.stderr and "--force" in refused.stderr, (name, refused.stderr)
        assert refused.stderr.count("\n") == 1, name
        assert existing.read_bytes() == b"kept", name
        assert len(emu.init_requests) == sessions, name  # refused before any session
        forced = invoke(capsys, *args, "--force")
        assert forced.code == 0, (name, forced.stderr)
        assert existing.read_bytes() != b"kept", name
        if "srt" in args:  # replaced, not appended to: one valid SRT
            assert existing.read_text().count("\n1\n") == 0 and existing.read_text().startswith("1\n")
