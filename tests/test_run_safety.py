"""Run folders: nothing overwritten unasked, logs that survive a stop, honest resumes,
training that stops on NaN, and checkpoints that refuse to load when damaged."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import torch

import socialmarl as sm
from socialmarl.apps.cli import main
from socialmarl.learning.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from socialmarl.learning.trainer import RunExistsError, Trainer, TrainingDivergedError

SMALL = dict(envs_per_alpha=2, num_minibatches=1, episode_length=4, hidden=8,
             update_epochs=1, progress=False)
CLI_SMALL = ["--envs-per-alpha", "2", "--num-minibatches", "1", "--episode-length", "4",
             "--hidden", "8", "--update-epochs", "1", "--no-keep-cpu-memory"]
TIMING = ["sps", "seconds"]  # wall-clock columns: the only ones that may differ


def trainer(out=None, **kw) -> Trainer:
    args = {**SMALL, "alphas": [0.5, 1.0], "num_updates": 5, **kw}
    return Trainer(sm.ring_graph(6), out_dir=out, **args)


def stable(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=TIMING).reset_index(drop=True)


# ---------------------------------------------------------------------------- the log
def test_log_csv_gets_a_row_per_update_as_it_happens(tmp_path):
    tr = trainer(tmp_path, checkpoint_every=50)
    for update in (1, 2, 3):
        tr.train(update)  # stops after `update` updates, long before any checkpoint...
        on_disk = pd.read_csv(tmp_path / "log.csv")
        assert len(on_disk) == 2 * update  # ...but every finished update is in log.csv
    assert stable(on_disk).equals(stable(pd.DataFrame(tr.log_rows)))


def test_resume_after_a_stop_between_checkpoints_has_no_missing_or_duplicate_rows(
        tmp_path, monkeypatch):
    straight = trainer(tmp_path / "straight", checkpoint_every=2)
    straight.train()

    stopped = trainer(tmp_path / "stopped", checkpoint_every=2)
    real = Trainer.train_update
    calls = {"n": 0}

    def dies_in_update_4(self):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # as if killed during the 4th update
        return real(self)

    monkeypatch.setattr(Trainer, "train_update", dies_in_update_4)
    with pytest.raises(KeyboardInterrupt):
        stopped.train()
    monkeypatch.setattr(Trainer, "train_update", real)
    assert len(pd.read_csv(tmp_path / "stopped" / "log.csv")) == 3 * 2  # updates 1-3
    resumed = Trainer.from_checkpoint(tmp_path / "stopped", progress=False)
    assert resumed.update == 2  # the last checkpoint
    resumed.train()
    a = pd.read_csv(tmp_path / "straight" / "log.csv")
    b = pd.read_csv(tmp_path / "stopped" / "log.csv")
    assert list(b["update"]) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert stable(a).equals(stable(b))


def test_kill_9_leaves_a_log_row_per_finished_update(tmp_path):
    out = tmp_path / "run"
    cmd = [sys.executable, "-m", "socialmarl.apps.cli", "train", "--graph", "karate_club",
           "--alphas", "1", "--num-updates", "500", "--checkpoint-every", "400",
           "--out", str(out), *CLI_SMALL]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=Path(sm.__file__).parents[1])
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            log = out / "log.csv"
            if log.exists() and len(log.read_text().splitlines()) >= 4:
                break
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    lines = (out / "log.csv").read_text().splitlines()
    assert len(lines) >= 4 and lines[0].startswith("update,alpha")
    frame = pd.read_csv(out / "log.csv")
    assert list(frame["update"]) == list(range(1, len(frame) + 1))  # none missing, none twice
    assert (out / "config.json").exists() and not (out / "checkpoint.pt").exists()
    # the stopped run is not silently replaced, and --resume says why it cannot continue
    assert main(["train", "--graph", "karate_club", "--out", str(out), *CLI_SMALL]) == 2
    assert main(["train", "--out", str(out), "--resume"]) == 2


# ---------------------------------------------------------------------------- overwriting
def test_an_existing_run_is_never_replaced_unasked(tmp_path, capsys):
    out = tmp_path / "run"
    base = ["train", "--graph", "karate_club", "--alphas", "1", "--num-updates", "2",
            "--out", str(out), *CLI_SMALL]
    assert main(base) == 0
    assert main(["evaluate", str(out), "--episodes", "2"]) == 0
    (out / "notes.txt").write_text("mine")
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    capsys.readouterr()
    assert main(base) == 2
    err = capsys.readouterr().err
    assert "already holds a training run" in err and "--overwrite" in err and "--resume" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    with pytest.raises(RunExistsError):
        Trainer(sm.karate_club(), out_dir=out, **SMALL)
    # asked: the old run's files (and its eval/) go, the user's own files stay
    assert main([*base[:-len(CLI_SMALL)], "--num-updates", "1", *CLI_SMALL,
                 "--overwrite"]) == 0
    assert not (out / "eval").exists() and (out / "notes.txt").read_text() == "mine"
    assert len(pd.read_csv(out / "log.csv")) == 1


def test_resume_refuses_what_it_cannot_honour(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--out", str(out), "--resume"]) == 2  # no folder at all
    assert "no checkpoint" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    base = ["train", "--graph", "karate_club", "--alphas", "1", "--num-updates", "2",
            "--out", str(out), *CLI_SMALL]
    assert main(base) == 0
    saved = (out / "config.json").read_bytes()
    capsys.readouterr()
    assert main(["train", "--out", str(out), "--resume", "--lr", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "--lr" in err and "--overwrite" in err
    assert main(["train", "--out", str(out), "--resume", "--graph", "ba100"]) == 2
    assert (out / "config.json").read_bytes() == saved
    with pytest.raises(ValueError, match=r"lr \(saved 0.0005, given 0.1\)"):
        sm.train(sm.karate_club(), out_dir=out, resume=True, lr=0.1, progress=False)
    with pytest.raises(ValueError, match="own graph"):
        sm.train(sm.ring_graph(5), out_dir=out, resume=True, progress=False)


def test_argument_prefixes_are_not_accepted(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--sig", "2", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "unrecognized arguments: --sig" in capsys.readouterr().err


# ---------------------------------------------------------------------------- NaN
def test_training_stops_on_nan_and_writes_no_nan(tmp_path):
    tr = trainer(tmp_path, checkpoint_every=1)
    tr.train(2)
    good = (tmp_path / "checkpoint.pt").read_bytes()
    with torch.no_grad():  # population 1's slice of the stacked model
        next(tr.model.parameters())[1].fill_(float("nan"))
    with pytest.raises(TrainingDivergedError, match=r"update 3 \(population alpha=1, seed 0\)"):
        tr.train()
    assert (tmp_path / "checkpoint.pt").read_bytes() == good  # the last good state
    log = pd.read_csv(tmp_path / "log.csv")
    assert list(log["update"]) == [1, 1, 2, 2] and log.notna().all().all()


def test_cli_reports_divergence_with_exit_status_1(tmp_path, capsys):
    code = main(["train", "--graph", "karate_club", "--alphas", "1", "--num-updates", "3",
                 "--lr", "1e30", "--out", str(tmp_path / "run"), *CLI_SMALL])
    assert code == 1
    assert "diverged" in capsys.readouterr().err


def test_evaluation_refuses_nan_weights():
    policy = sm.AttentionPolicy(6)
    with torch.no_grad():
        next(policy.parameters())[0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite weights"):
        sm.evaluate(policy, sm.ring_graph(6), episodes=2)


# ---------------------------------------------------------------------------- checkpoints
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "run"
    Trainer(sm.ring_graph(6), out_dir=out, **{**SMALL, "alphas": [0.5, 1.0],
                                              "num_updates": 1}).train()
    return out


def _copy(run: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "copy"
    dst.mkdir()
    for name in ("checkpoint.pt", "config.json", "log.csv"):
        (dst / name).write_bytes((run / name).read_bytes())
    return dst


def _flip_inside_a_tensor(path: Path, trainer_: Trainer) -> None:
    """Flip 16 bytes inside the stored data of the largest weight tensor."""
    weight = max(trainer_.policies[0].parameters(), key=lambda p: p.numel())
    needle = weight.detach().contiguous().view(-1)[:8].numpy().tobytes()
    data = bytearray(path.read_bytes())
    at = data.find(needle)
    assert at > 0
    for i in range(at, at + 16):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_flipped_bytes_inside_a_tensor_are_detected(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path)
    tr = Trainer.from_checkpoint(run, progress=False)
    _flip_inside_a_tensor(run / "checkpoint.pt", tr)
    torch.load(run / "checkpoint.pt", weights_only=True)  # torch itself does not notice
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        sm.evaluate_run(run, episodes=2)


def _resave(run: Path, edit) -> Path:
    sd = torch.load(run / "checkpoint.pt", weights_only=True)
    edit(sd)
    if sd.get("format", "").startswith("socialmarl"):
        save_checkpoint(sd, run / "checkpoint.pt")  # a valid checksum over the edited content
    else:
        torch.save(sd, run / "checkpoint.pt")
    return run


def _drop_population(sd):
    sd["policies"].pop()


def _nan_weight(sd):
    next(iter(sd["policies"][0].values())).fill_(float("nan"))


def _wrong_shape(sd):
    key = next(iter(sd["policies"][1]))
    sd["policies"][1][key] = torch.zeros(3, 3)


def _pickled_object(sd):
    sd["log"] = io.BytesIO  # a Python class: not data


@pytest.mark.parametrize("edit,match", [
    (lambda sd: sd.pop("policies"), r"lacks \['policies'\]"),
    (_drop_population, "holds 1 policies for 2 populations"),
    (_nan_weight, "alpha=0.5, seed 0 has NaN or infinite weights"),
    (_wrong_shape, "does not fit this run"),
    (lambda sd: sd.update(config="{not json"), "config, graph or camp process is unusable"),
    (lambda sd: sd.update(format="someone-else-1"), "not a socialmarl checkpoint"),
])
def test_inconsistent_checkpoints_are_refused_with_the_file_named(finished_run, tmp_path,
                                                                   edit, match):
    run = _resave(_copy(finished_run, tmp_path), edit)
    with pytest.raises(ValueError, match=match) as exc:
        sm.evaluate_run(run, episodes=2)
    assert str(run / "checkpoint.pt") in str(exc.value)


def test_format_edit_after_saving_is_caught_too(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path)
    sd = torch.load(run / "checkpoint.pt", weights_only=True)
    sd["update"] = 99  # edited, checksum left as it was
    torch.save(sd, run / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="does not match its checksum"):
        Trainer.from_checkpoint(run)


def _truncate(b):
    return b[: len(b) // 2]


def _zip_without_pickle(b):
    src = zipfile.ZipFile(io.BytesIO(b))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        for info in src.infolist():
            if not info.filename.endswith("data.pkl"):
                dst.writestr(info, src.read(info))
    return buf.getvalue()


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def _pickle_payload(b):
    buf = io.BytesIO()
    torch.save({"format": "socialmarl-checkpoint-2", "x": _Evil()}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("damage,match", [
    (lambda b: b"", "empty"),
    (_truncate, "not a readable checkpoint"),
    (lambda b: b[:200], "not a readable checkpoint"),
    (lambda b: b"just some text\n", "not a readable checkpoint"),
    (lambda b: bytes(len(b)), "not a readable checkpoint"),
    (_zip_without_pickle, "not a readable checkpoint"),
    (_pickle_payload, "refused: the file holds Python objects"),
])
def test_broken_checkpoint_files_give_messages_not_tracebacks(finished_run, tmp_path, capsys,
                                                              damage, match):
    run = _copy(finished_run, tmp_path)
    path = run / "checkpoint.pt"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=match):
        load_checkpoint(path)
    assert main(["evaluate", str(run), "--episodes", "2"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err


def test_a_first_format_checkpoint_still_loads(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path)
    sd = torch.load(run / "checkpoint.pt", weights_only=True)
    sd.pop("checksum")
    sd["format"] = "socialmarl-checkpoint-1"
    torch.save(sd, run / "checkpoint.pt")
    assert Trainer.from_checkpoint(run, progress=False).update == 1


def test_evaluation_records_which_checkpoint_it_evaluated(finished_run, tmp_path):
    run = _copy(finished_run, tmp_path)
    sm.evaluate_run(run, episodes=2, out_dir=run / "eval")
    summary = json.loads((run / "eval" / "alpha_1" / "summary.json").read_text())
    stored = torch.load(run / "checkpoint.pt", weights_only=True)["checksum"]
    assert summary["config"]["checkpoint"] == {"update": 1, "checksum": stored}
