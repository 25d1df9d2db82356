"""The command line: demo, train, resume, evaluate, and clear errors."""

from __future__ import annotations

import json

import pandas as pd

from socialmarl.apps.cli import main

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


def test_reproduce_smoke_writes_the_results_folder(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["reproduce", "--preset", "smoke", "--out", str(out), "--no-progress"]) == 0
    for name in ("conformity.png", "attention_fit.png", "numbers.csv", "attention_fit.csv",
                 "summary.txt", "config.json"):
        assert (out / name).stat().st_size > 0, name
    numbers = pd.read_csv(out / "numbers.csv")
    nets = set(numbers.network)
    assert {"bluesky-like", "camp", "learned attention vs human"} <= nets
    acc = numbers[(numbers.metric == "accuracy_final")]
    assert sorted(set(acc.alpha)) == [0.0, 1.0]
    assert ((acc.ci_low <= acc.value) & (acc.value <= acc.ci_high)).all()
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["preset"]["name"] == "smoke"
    assert "best alpha" in capsys.readouterr().out


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
