"""Populations (alpha, seed): each trained in a batch exactly as it would be trained alone.

Every population starts from parameters drawn with its own seed and plays its own episodes,
actions and minibatches (one random stream per population), so the batch changes nothing
for any of them; logs, checkpoints and evaluations carry (alpha, seed).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

import socialmarl as sm
from socialmarl.apps.cli import main

SMALL = dict(envs_per_alpha=4, num_minibatches=2, num_updates=3, episode_length=5, hidden=16,
             attn_dim=4, update_epochs=2, perc_start=0.5, p_signal=0.5, checkpoint_every=2)
SAME = ["update", "alpha", "seed", "episode_return", "accuracy", "final_accuracy",
        "agreement", "entropy", "policy_loss", "value_loss", "belief_loss", "grad_norm"]


def _graph() -> sm.Graph:
    return sm.barabasi_albert_graph(12, 2, seed=1)


def test_each_population_in_a_batch_equals_it_trained_alone():
    """P = 4 populations trained as one stacked model in float64 equal each of them trained
    alone (same seed, same alpha) to tight tolerance: parameters and log."""
    g = _graph()
    batch = sm.Trainer(g, alphas=[0.0, 1.0], seeds=[3, 7], progress=False, **SMALL)
    assert batch.populations == [(0.0, 3), (0.0, 7), (1.0, 3), (1.0, 7)]
    batch.model.double()
    log = batch.train()
    assert sorted(set(zip(log.alpha, log.seed))) == batch.populations
    trained = batch.policies
    for p, (alpha, seed) in enumerate(batch.populations):
        alone = sm.Trainer(g, alphas=[alpha], seed=seed, progress=False, **SMALL)
        alone.model.double()
        alone_log = alone.train()
        for (name, a), b in zip(trained[p].named_parameters(), alone.policies[0].parameters()):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11, msg=f"{alpha, seed} {name}")
        mine = log[(log.alpha == alpha) & (log.seed == seed)].reset_index(drop=True)
        pd.testing.assert_frame_equal(mine[SAME], alone_log[SAME], rtol=1e-6, atol=1e-9)
    # a population's parameters differ from its neighbours' (the test can fail)
    assert not torch.equal(trained[0].fc1.weight, trained[1].fc1.weight)


def test_seeds_give_different_populations_and_alphas_share_episodes():
    g = _graph()
    tr = sm.Trainer(g, alphas=[0.5, 1.0], seeds=[0, 1], progress=False, **SMALL)
    first = [torch.cat([w.reshape(-1) for w in pol.parameters()]) for pol in tr.policies]
    assert len(first) == 4
    assert torch.equal(first[0], first[2])  # (0.5, 0) and (1.0, 0): the same start
    assert not torch.equal(first[0], first[1])  # another seed, another start
    obs = tr.game.observation()
    e = SMALL["envs_per_alpha"]
    # alpha 0.5 and 1.0 with seed 0 play the same episodes (common random numbers)
    assert torch.equal(obs.signal[:e], obs.signal[2 * e: 3 * e])
    assert not torch.equal(obs.signal[:e], obs.signal[e: 2 * e])


def test_seeds_are_checked():
    with pytest.raises(ValueError, match="repeat a value"):
        sm.TrainConfig(seeds=[1, 1])
    with pytest.raises(ValueError, match="seeds is empty"):
        sm.TrainConfig(seeds=[])
    with pytest.raises(ValueError, match="seed=-1"):
        sm.TrainConfig(seeds=[-1])
    assert sm.TrainConfig(seed=5).populations == [(1.0, 5)]


def test_resume_with_seeds_equals_uninterrupted(tmp_path):
    g = _graph()
    full = sm.Trainer(g, alphas=[0.0, 1.0], seeds=[2, 9], progress=False, **SMALL)
    full_log = full.train()
    part = sm.Trainer(g, alphas=[0.0, 1.0], seeds=[2, 9], out_dir=tmp_path, progress=False,
                      **SMALL)
    part.train(num_updates=2)  # checkpoint at update 2
    again = sm.Trainer.from_checkpoint(tmp_path, progress=False)
    log = again.train()
    pd.testing.assert_frame_equal(log[SAME], full_log[SAME], check_exact=True)
    for a, b in zip(again.model.parameters(), full.model.parameters()):
        assert torch.equal(a, b)
    on_disk = pd.read_csv(tmp_path / "log.csv")
    assert list(zip(on_disk["update"], on_disk.seed)) == list(zip(log["update"], log.seed))


def test_runs_and_evaluations_carry_alpha_and_seed(tmp_path):
    g = _graph()
    sm.train(g, alphas=[0.0, 1.0], seeds=[2, 9], out_dir=tmp_path, progress=False, **SMALL)
    run = sm.load_run(tmp_path)
    assert run.populations == [(0.0, 2), (0.0, 9), (1.0, 2), (1.0, 9)]
    assert len(run.policies) == 4
    records = sm.evaluate_run(tmp_path, episodes=4, out_dir=tmp_path / "eval")
    assert sorted(records) == run.populations
    assert all(rec.seed == seed for (_, seed), rec in records.items())
    summary = pd.read_csv(tmp_path / "eval" / "summary.csv")
    assert sorted(zip(summary.alpha, summary.seed)) == run.populations
    assert (tmp_path / "eval" / "alpha_1_seed_9" / "summary.json").exists()
    saved = json.loads((tmp_path / "eval" / "alpha_0_seed_2" / "summary.json").read_text())
    assert saved["config"]["population"] == {"alpha": 0.0, "seed": 2}


def test_seeds_from_the_command_line(tmp_path, capsys):
    run = tmp_path / "run"
    args = ["train", "--graph", "karate_club", "--seeds", "0", "1", "--alphas", "0", "1",
            "--out", str(run), "--envs-per-alpha", "2", "--num-minibatches", "1",
            "--update-epochs", "1", "--episode-length", "4", "--hidden", "8", "--attn-dim",
            "4", "--num-updates", "1", "--no-keep-cpu-memory"]
    assert main(args) == 0
    saved = json.loads((run / "config.json").read_text())["train_config"]
    assert saved["seeds"] == [0, 1] and saved["alphas"] == [0.0, 1.0]
    assert main(["evaluate", str(run), "--episodes", "2"]) == 0
    out = capsys.readouterr().out
    assert "seed" in out
    summary = pd.read_csv(run / "eval" / "summary.csv")
    assert len(summary) == 4 and set(summary.seed) == {0, 1}
