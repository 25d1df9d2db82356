"""The command line: demo, train, resume, evaluate, and clear errors."""

from __future__ import annotations

import contextlib
import io
import json
import os

import pandas as pd
import pytest

from socialmarl.apps.cli import main
from tests.real_data import real_data
from tests.test_files import plant_stale_temp_file

SMALL = ["--envs-per-alpha", "2", "--num-minibatches", "1", "--episode-length", "4",
         "--hidden", "8", "--update-epochs", "1"]


def test_demo_writes_results_with_config(tmp_path, capsys):
    assert main(["demo", "--graph", "karate_club", "--envs", "8", "--episodes", "1",
                 "--alphas", "0,1", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "demo.json").read_text())
    assert data["graph"]["nodes"] == 34 and data["game_config"]["alpha"] == [0.0, 1.0]
    table = pd.read_csv(tmp_path / "demo.csv")
    assert len(table) == 6  # 3 strategies x 2 alphas
    follow = table[table.strategy == "follow_signal"]
    # following one's own signal: accuracy about 0.69 whatever alpha is
    assert (abs(follow.final_accuracy - 0.69) < 0.12).all()
    assert "follow_signal" in capsys.readouterr().out


def test_train_resume_and_evaluate(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--graph", "camp_sample", "--alphas", "0.5,1", "--num-updates", "1",
            "--out", str(run), *SMALL]
    assert main(args) == 0
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["camp"] == {"rate": 0.5, "edges": 698}
    assert cfg["train_config"]["alphas"] == [0.5, 1.0]
    assert main(["train", "--out", str(run), "--resume"]) == 0  # already finished: no-op
    assert "resuming" in capsys.readouterr().out
    assert main(["evaluate", str(run), "--episodes", "4"]) == 0
    summary = pd.read_csv(run / "eval" / "summary.csv")
    assert sorted(summary.alpha) == [0.5, 1.0]
    assert (run / "eval" / "alpha_1" / "attention.csv").exists()


def test_errors_are_reported_not_raised(tmp_path, capsys):
    assert main(["demo", "--graph", "nosuchgraph", "--out", str(tmp_path)]) == 2
    assert "unknown network 'nosuchgraph'" in capsys.readouterr().err
    assert main(["train", "--alphas", "0.5,2", "--out", str(tmp_path / "x"), *SMALL]) == 2
    assert "alpha=2.0 is outside" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "no checkpoint" in capsys.readouterr().err


def _ring_edge_list(path, n: int, chords: int = 0):
    """An edge list file of a ring of ``n`` nodes (both directions) plus ``chords`` chords."""
    lines = ["# a hand-written network", *(f"{i} {(i + 1) % n}" for i in range(n)),
             *(f"{(i + 1) % n} {i}" for i in range(n)), *(f"{i} {i + n // 2}" for i in
                                                       range(chords))]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_train_and_evaluate_take_an_edge_list_path(tmp_path, capsys):
    friends = _ring_edge_list(tmp_path / "friends.txt", 6)
    run = tmp_path / "run"
    assert main(["train", "--graph", str(friends), "--alphas", "1", "--num-updates", "1",
                 "--out", str(run), *SMALL]) == 0
    assert "training on edge list" in capsys.readouterr().out
    graph = json.loads((run / "config.json").read_text())["graph"]
    assert (graph["name"], graph["nodes"], graph["edges"]) == ("friends", 6, 12)
    others = _ring_edge_list(tmp_path / "others.txt", 6, chords=2)
    assert main(["evaluate", str(run), "--graph", str(others), "--episodes", "2",
                 "--out", str(tmp_path / "ev")]) == 0
    played = json.loads((tmp_path / "ev" / "alpha_1" / "summary.json").read_text())
    assert (played["config"]["graph"]["name"], played["config"]["graph"]["edges"]) == (
        "others", 14)


def test_train_and_evaluate_take_a_real_data_set_by_name_with_data_dir(tmp_path, capsys):
    data_dir = real_data("bayaka_coforaging").parent  # the folder holding the data sets
    run = tmp_path / "run"
    assert main(["train", "--graph", "bayaka", "--data-dir", str(data_dir), "--alphas", "1",
                 "--num-updates", "1", "--out", str(run), *SMALL]) == 0
    assert "BaYaka co-foraging" in capsys.readouterr().out
    cfg = json.loads((run / "config.json").read_text())
    assert cfg["camp"] is not None and cfg["graph"]["nodes"] > 8
    assert main(["evaluate", str(run), "--graph", "bayaka", "--data-dir", str(data_dir),
                 "--episodes", "2", "--out", str(tmp_path / "ev")]) == 0
    played = json.loads((tmp_path / "ev" / "alpha_1" / "summary.json").read_text())
    assert played["config"]["graph"]["nodes"] == cfg["graph"]["nodes"]


def test_an_unreadable_graph_file_is_named_with_exit_status_2(tmp_path, capsys):
    bad = tmp_path / "network.txt"
    bad.write_bytes(b"\x00\xff\xfe\x80 not text \x00" * 8)
    assert main(["train", "--graph", str(bad), "--out", str(tmp_path / "run"), *SMALL]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "binary" in err and "Traceback" not in err
    assert not (tmp_path / "run" / "config.json").exists()
    run = tmp_path / "ok"
    _ring_edge_list(tmp_path / "ring.txt", 6)
    assert main(["train", "--graph", str(tmp_path / "ring.txt"), "--alphas", "1",
                 "--num-updates", "1", "--out", str(run), *SMALL]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(run), "--graph", str(bad), "--episodes", "2"]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "binary" in err and "Traceback" not in err
    assert not (run / "eval").exists()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_a_graph_file_without_read_permission_is_named(tmp_path, capsys):
    locked = _ring_edge_list(tmp_path / "locked.txt", 6)
    locked.chmod(0o000)
    try:
        assert main(["train", "--graph", str(locked), "--out", str(tmp_path / "run"),
                     *SMALL]) == 2
    finally:
        locked.chmod(0o644)
    err = capsys.readouterr().err
    assert str(locked) in err and "Traceback" not in err


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory) -> dict:
    """One smoke reproduction through the CLI, shared by the tests below (run once: it is
    the slowest step of this file).

    A stale temporary file of a dead writer is planted in the folder first, so the run also
    shows that a reproduction cleans up what a killed one left.
    """
    out = tmp_path_factory.mktemp("cli") / "rep"
    out.mkdir()
    stale = plant_stale_temp_file(out, "results.csv")
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = main(["reproduce", "--preset", "smoke", "--out", str(out), "--no-progress",
                     "--engine", "local"])
    assert code == 0, stderr.getvalue()
    return {"out": out, "stdout": stdout.getvalue(), "stale": stale}


def test_reproduce_smoke_writes_the_results_folder(reproduced):
    out = reproduced["out"]
    for name in ("accuracy_conformity.png", "accuracy_conformity.svg",
                 "lying_conformity.png", "social_vs_camp.svg", "attention_conformity.png",
                 "results.parquet", "results.csv", "attention_fit.csv", "summary.txt",
                 "config.json", "sweep.json"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "results.csv")
    assert set(table.network) == {"bluesky-like", "camp"}
    acc = table[(table.metric == "accuracy_final")]
    assert sorted(set(acc.alpha)) == [0.0, 1.0] and sorted(set(acc.seed)) == [0, 1]
    assert ((acc.ci_low <= acc.value) & (acc.value <= acc.ci_high)).all()
    assert {"belief_accuracy_final", "belief_brier_final", "signal_brier",
            "attention_spearman"} <= set(table.metric)
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["preset"]["name"] == "smoke" and cfg["sweep"]["seeds"] == [0, 1]
    text = (out / "summary.txt").read_text()
    for claim in ("accuracy", "lying", "camp", "attention"):
        assert f"({claim}):" in text
    assert text.count("verdict: ") == 4
    assert "verdict:" in reproduced["stdout"]
    assert not reproduced["stale"].exists()  # the killed writer's leftover is gone


def test_reproduce_prints_exactly_the_files_it_wrote(reproduced):
    out = reproduced["out"]
    last = reproduced["stdout"].rstrip("\n").splitlines()[-1]
    prefix = f"wrote {out}: "
    assert last.startswith(prefix), last
    printed = last[len(prefix):].split(", ")
    listed = [p.name + ("/" if p.is_dir() else "") for p in out.iterdir()]
    assert sorted(printed) == sorted(listed)  # nothing missed, nothing extra, no leftovers
    assert len(printed) == len(set(printed))


def test_a_second_reproduce_continues_and_another_preset_is_refused(reproduced, capsys):
    out = reproduced["out"]

    def state() -> dict:
        return {str(p.relative_to(out)): (p.stat().st_mtime_ns, p.read_bytes())
                for p in sorted(out.rglob("*")) if p.is_file()}

    before = state()
    assert main(["reproduce", "--preset", "quick", "--out", str(out), "--no-progress",
                 "--engine", "local"]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and str(out) in err and "Traceback" not in err
    assert state() == before
    # the same preset again: every job is finished, nothing is trained, the numbers stay
    assert main(["reproduce", "--preset", "smoke", "--out", str(out), "--no-progress",
                 "--engine", "local"]) == 0
    after = state()
    jobs = [k for k in before if k.startswith("jobs/")]
    assert all(after[k] == before[k] for k in jobs)
    assert after["results.csv"][1] == before["results.csv"][1]


def test_train_keeps_cpu_memory_unless_told_not_to(tmp_path, monkeypatch):
    import socialmarl.learning.cpu_memory as cpu_memory

    calls = []
    monkeypatch.setattr(cpu_memory, "retain_freed_memory", lambda enable=True: calls.append(
        enable) or True)
    base = ["train", "--graph", "karate_club", "--alphas", "1", "--num-updates", "1", *SMALL]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert calls == [True]
    assert main([*base, "--out", str(tmp_path / "b"), "--no-keep-cpu-memory"]) == 0
    assert calls == [True]
