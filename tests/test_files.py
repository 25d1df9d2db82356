"""Result files: ordinary permissions, no temporary leftovers, writability checked early."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import socialmarl as sm
from socialmarl.common import files
from socialmarl.common.files import (
    append_text,
    atomic_write_bytes,
    check_writable_dir,
    remove_stale_temp_files,
)


@pytest.fixture
def umask():
    """Set the process umask for a test and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda value: os.umask(value)
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_atomic_write_has_the_mode_open_would_give(tmp_path, umask, mask):
    umask(mask)
    with open(tmp_path / "plain.txt", "w") as fh:  # the reference: a plain open()
        fh.write("x")
    written = atomic_write_bytes(tmp_path / "atomic.txt", b"x")
    assert mode(written) == mode(tmp_path / "plain.txt") == 0o666 & ~mask


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path, umask):
    umask(0o022)
    p = tmp_path / "shared.csv"
    p.write_text("old")
    p.chmod(0o664)
    atomic_write_bytes(p, b"new")
    assert p.read_bytes() == b"new" and mode(p) == 0o664


def test_training_and_evaluation_files_are_readable_by_others(tmp_path, umask):
    umask(0o022)
    run = tmp_path / "run"
    tr = sm.Trainer(sm.ring_graph(6), num_updates=1, envs_per_alpha=2, num_minibatches=1,
                    episode_length=4, hidden=8, progress=False, out_dir=run)
    tr.train()
    sm.evaluate_run(run, episodes=2, out_dir=run / "eval")
    written = [p for p in run.rglob("*") if p.is_file()]
    assert {p.name for p in written} >= {"checkpoint.pt", "log.csv", "config.json",
                                         "summary.csv", "steps.csv", "arrays.npz"}
    bad = {str(p.relative_to(run)): oct(mode(p)) for p in written if mode(p) != 0o644}
    assert not bad
    assert not list(run.rglob(".*.tmp"))


def test_append_text_adds_lines_and_creates_the_file(tmp_path):
    p = tmp_path / "sub" / "log.csv"
    append_text(p, "a,b\n")
    append_text(p, "1,2\n")
    assert p.read_text() == "a,b\n1,2\n"


def dead_pid() -> int:
    """The pid of a process that has just exited (free: not reused this quickly)."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return int(proc.stdout)


def plant_stale_temp_file(folder: Path, name: str) -> Path:
    """What a writer of ``folder/name`` killed mid-write leaves: its temporary file, named
    with this host and a pid that no longer runs (see socialmarl.common.files)."""
    folder.mkdir(parents=True, exist_ok=True)
    stale = folder / f".{name}~{files._HOST}~{dead_pid()}~abcd1234.tmp"
    stale.write_text("half a file")
    assert files._TEMP_RE.match(stale.name)  # the name the cleanup recognises
    return stale


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path):
    dead_pid_ = dead_pid()
    dead = tmp_path / f".checkpoint.pt~{files._HOST}~{dead_pid_}~abcd1234.tmp"
    alive = tmp_path / f".log.csv~{files._HOST}~{os.getpid()}~abcd1234.tmp"
    other_new = tmp_path / ".log.csv~otherhost~1~abcd1234.tmp"
    other_old = tmp_path / ".config.json~otherhost~1~abcd1234.tmp"
    legacy_old = tmp_path / ".log.csv.k2j4h5g6.tmp"
    user_file = tmp_path / ".notes.tmp"
    for p in (dead, alive, other_new, other_old, legacy_old, user_file):
        p.write_text("partial")
    day_ago = os.path.getmtime(dead) - 2 * 24 * 3600
    for p in (other_old, legacy_old, user_file):
        os.utime(p, (day_ago, day_ago))
    removed = remove_stale_temp_files(tmp_path)
    assert sorted(p.name for p in removed) == sorted([dead.name, other_old.name,
                                                      legacy_old.name])
    assert alive.exists() and other_new.exists() and user_file.exists()


def test_a_killed_write_leaves_no_half_file_and_the_next_run_cleans_up(tmp_path):
    # a child process dies (os._exit) in the middle of an atomic write
    code = (
        "import os, socialmarl.common.files as f\n"
        "real = os.replace\n"
        "os.replace = lambda *a: os._exit(9)\n"
        f"f.atomic_write_bytes({str(tmp_path / 'checkpoint.pt')!r}, b'new')\n"
    )
    (tmp_path / "checkpoint.pt").write_bytes(b"old")
    proc = subprocess.run([sys.executable, "-c", code], cwd=Path(sm.__file__).parents[1])
    assert proc.returncode == 9
    assert (tmp_path / "checkpoint.pt").read_bytes() == b"old"
    leftovers = list(tmp_path.glob(".*.tmp"))
    assert len(leftovers) == 1
    assert remove_stale_temp_files(tmp_path) == leftovers
    assert not list(tmp_path.glob(".*.tmp"))


# -------------------------------------------------- the call sites of the stale-file cleanup
TINY = dict(num_updates=1, envs_per_alpha=2, num_minibatches=1, episode_length=4, hidden=8,
            update_epochs=1, progress=False)


def test_training_start_removes_stale_temp_files(tmp_path):
    run = tmp_path / "run"
    stale = plant_stale_temp_file(run, "log.csv")
    mine = run / ".notes.tmp"  # not a name of socialmarl's: never touched
    mine.write_text("keep")
    sm.Trainer(sm.ring_graph(6), out_dir=run, **TINY).train()
    assert not stale.exists() and mine.exists()
    assert (run / "checkpoint.pt").exists()
    stale = plant_stale_temp_file(run, "checkpoint.pt")  # killed again, then resumed
    sm.Trainer.from_checkpoint(run, progress=False).train()
    assert not stale.exists()


def test_evaluation_removes_stale_temp_files_from_its_folder(tmp_path):
    run = tmp_path / "run"
    sm.Trainer(sm.ring_graph(6), out_dir=run, **TINY).train()
    out = tmp_path / "eval"
    stale = [plant_stale_temp_file(out, "summary.csv"),
             plant_stale_temp_file(out / "alpha_1", "arrays.npz")]
    sm.evaluate_run(run, episodes=2, out_dir=out)
    assert (out / "alpha_1" / "arrays.npz").exists()
    assert not any(p.exists() for p in stale)


def test_crawl_writing_and_the_request_cache_remove_stale_temp_files(tmp_path):
    from socialmarl.networks.bluesky.client import RequestCache
    from socialmarl.networks.bluesky.format import write_crawl

    crawl = tmp_path / "crawl"
    stale = plant_stale_temp_file(crawl, "edges.csv")
    write_crawl(sm.Graph(2, [[0], [1]], [1.0], node_attrs={"handle": ["a.test", "b.test"]}),
                crawl)
    assert not stale.exists() and (crawl / "edges.csv").exists()
    cache = tmp_path / "cache"
    stale = plant_stale_temp_file(cache / "ab", "request.json")  # in a sub-folder
    RequestCache(cache)
    assert not stale.exists()


def _unwritable_folder(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        d = tmp_path / "readonly"
        d.mkdir()
        d.chmod(0o500)
        return d
    # root may write anywhere a permission bit forbids; /sys refuses even root
    sys_dir = Path("/sys")
    try:
        check_writable_dir(sys_dir)
    except PermissionError:
        return sys_dir
    pytest.skip("running as root with no folder that refuses writes (/sys is writable)")


def test_unwritable_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    folder = _unwritable_folder(tmp_path)
    with pytest.raises(PermissionError, match=f"cannot write into the run folder {folder}"):
        sm.Trainer(sm.ring_graph(6), num_updates=1, envs_per_alpha=2, num_minibatches=1,
                   progress=False, out_dir=folder)


def test_unwritable_folder_is_refused_simulated(tmp_path, monkeypatch):
    # the same check on any machine: creating a file in the folder fails
    import tempfile

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError, match="choose another folder"):
        check_writable_dir(tmp_path / "x")


def test_a_file_where_the_folder_should_be_is_named(tmp_path):
    (tmp_path / "run").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        check_writable_dir(tmp_path / "run")
