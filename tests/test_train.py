"""The trainer: resume equals uninterrupted, logs and checkpoints, config validation."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

import socialmarl as sm
from socialmarl.learning.policy import EdgePlanning
from socialmarl.learning.population import StackedPolicy
from socialmarl.learning.trainer import TrainConfig, Trainer

TIMING = ["sps", "seconds"]


def small(**kw) -> TrainConfig:
    base = dict(
        alphas=[0.0, 1.0], envs_per_alpha=4, num_minibatches=2, num_updates=4,
        episode_length=5, hidden=16, p_signal=0.5, perc_start=0.5, checkpoint_every=2,
        update_epochs=2,
    )
    base.update(kw)
    return TrainConfig(**base)


def test_resume_equals_uninterrupted(tmp_path):
    g = sm.barabasi_albert_graph(12, 2, seed=0)
    full = Trainer(g, small(), progress=False)
    full.train()

    first = Trainer(g, small(), out_dir=tmp_path / "run", progress=False)
    first.train(num_updates=2)  # "stopped" after two updates, checkpoint written
    del first
    resumed = Trainer.from_checkpoint(tmp_path / "run", progress=False)
    assert resumed.update == 2
    resumed.train()
    for a, b in zip(full.policies, resumed.policies):
        for (name, pa), (_, pb) in zip(a.state_dict().items(), b.state_dict().items()):
            assert torch.equal(pa, pb), name
    pd.testing.assert_frame_equal(full.log.drop(columns=TIMING), resumed.log.drop(columns=TIMING))
    saved = pd.read_csv(tmp_path / "run" / "log.csv")
    assert len(saved) == 8 and set(saved["alpha"]) == {0.0, 1.0}
    info = json.loads((tmp_path / "run" / "config.json").read_text())
    assert info["train_config"]["alphas"] == [0.0, 1.0]
    assert info["game_config"]["num_envs"] == 8


def test_checkpoint_loads_as_plain_data(tmp_path):
    g = sm.ring_graph(6)
    tr = Trainer(g, small(num_updates=1), out_dir=tmp_path, progress=False)
    tr.train()
    sd = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert sd["update"] == 1 and len(sd["policies"]) == 2
    assert not list(tmp_path.glob("*.tmp"))


def test_curricula_reach_their_targets():
    g = sm.ring_graph(6)
    tr = Trainer(g, small(num_updates=6, p_signal=0.3, perc_start=0.4), progress=False)
    log = tr.train()
    one = log[log.alpha == 1.0]
    zero = log[log.alpha == 0.0]
    assert one.p_signal.iloc[0] == pytest.approx(1.0)
    assert one.p_signal.iloc[-1] < 0.35
    assert zero.p_signal.iloc[-1] < 0.05  # the signal is annealed away at alpha = 0
    assert zero.effective_alpha.iloc[0] == pytest.approx(0.1)
    assert zero.effective_alpha.iloc[-1] < 0.01
    assert one.p_perc.iloc[0] == pytest.approx(0.4) and one.p_perc.is_monotonic_increasing
    assert (one.effective_alpha == 1.0).all()


def test_log_columns_and_progress():
    g = sm.ring_graph(6)
    log = Trainer(g, small(num_updates=2, alphas=[0.5]), progress=False).train()
    for col in ("update", "alpha", "episode_return", "accuracy", "final_accuracy", "entropy",
                "agreement", "policy_loss", "value_loss", "entropy_loss", "belief_loss", "sps"):
        assert col in log.columns
    assert log["agent_steps"].tolist() == [4 * 5 * 6, 2 * 4 * 5 * 6]


@pytest.mark.parametrize(
    "kw,match",
    [
        (dict(alphas=[]), "alphas is empty"),
        (dict(alphas=[0.5, 1.5]), "alpha=1.5 is outside"),
        (dict(alphas=[0.5, 0.5]), "repeat"),
        (dict(num_minibatches=8), "num_minibatches=8 exceeds"),
        (dict(lr=-1.0), "lr=-1.0 must be > 0"),
        (dict(p_signal=1.5), "p_signal=1.5"),
    ],
)
def test_bad_config(kw, match):
    with pytest.raises(ValueError, match=match):
        small(**kw)


def test_resume_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        Trainer.from_checkpoint(tmp_path)


def test_several_episodes_per_rollout_stack_and_unstack():
    g = sm.ring_graph(6)
    tr = Trainer(g, small(episodes_per_rollout=3, num_updates=2), progress=False)
    log = tr.train()
    assert log["agent_steps"].iloc[0] == 3 * 5 * 8 * 6
    data = {k: torch.arange(15 * 8 * 6).reshape(15, 8, 6) for k in ("signal", "own_output")}
    data["flips"] = torch.zeros(15, 8, 6, dtype=torch.bool)
    idx = torch.tensor([1, 4])
    stacked = tr._stack_steps(data, None, idx)
    # entry t * (k b) + e is step t of the e-th (episode, env) pair
    assert stacked.signal[0 * 6 + 0].tolist() == data["signal"][0, 1].tolist()
    assert stacked.signal[1 * 6 + 2].tolist() == data["signal"][5 + 1, 1].tolist()
    back = Trainer._unstack(stacked.signal.reshape(5, 6, 6), 3)
    assert torch.equal(back, data["signal"][:, idx])


def test_rollout_plans_reused_in_the_epochs_equal_fresh_plans(monkeypatch):
    """The trainer keeps the attention plans the rollout built and reorders them for the
    PPO epochs; a run that rebuilds them from the stacked observations is bit-identical
    (several episodes per rollout, two populations, dynamic edges)."""
    g = sm.barabasi_albert_graph(12, 2, seed=1)
    cfg = small(alphas=[0.3, 1.0], episodes_per_rollout=2, num_updates=2, perc_start=0.5)
    built = []
    orig = EdgePlanning.attention_plan

    def counting(self, obs):
        built.append(obs.signal.shape[0])
        return orig(self, obs)

    monkeypatch.setattr(EdgePlanning, "attention_plan", counting)
    reused = Trainer(g, cfg, progress=False)
    log_a = reused.train()
    assert set(built) == {cfg.num_envs}  # only the rollout's per-step plans
    built.clear()

    # the same run with plans rebuilt inside every pass of the stacked model
    original = StackedPolicy.forward_sequence
    monkeypatch.setattr(StackedPolicy, "forward_sequence",
                        lambda self, obs, steps, plan=None: original(self, obs, steps))
    fresh = Trainer(g, cfg, progress=False)
    log_b = fresh.train()
    assert set(built) - {cfg.num_envs}  # plans were built inside the minibatch passes
    cols = ["episode_return", "policy_loss", "value_loss", "approx_kl", "grad_norm"]
    pd.testing.assert_frame_equal(log_a[cols], log_b[cols], check_exact=True)
    for pa, pb in zip(reused.model.parameters(), fresh.model.parameters()):
        assert torch.equal(pa, pb)
