"""The belief head's quality in the tables: episode_metrics, summarise, EvalRecord.summary.

Lying is read against the belief head, so the tables report the head's accuracy and Brier
score beside it, and the own-signal baselines (signal accuracy, signal Brier score). Each
number is checked against a NumPy recomputation written here, including beliefs given in
the agents' own frames with other-play flips.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import socialmarl as sm
from socialmarl.analysis import metrics
from socialmarl.analysis.evaluation import EvalRecord
from socialmarl.game import measures as ms

BELIEF_COLUMNS = ["belief_accuracy_mean", "belief_accuracy_final", "belief_brier_final"]


def random_inputs(seed: int, b: int = 7, t: int = 5, n: int = 6):
    rng = np.random.default_rng(seed)
    outputs = rng.integers(0, 3, size=(b, t, n))
    beliefs = rng.random((b, t, n))
    beliefs[rng.random(beliefs.shape) < 0.15] = 0.5
    truth = rng.integers(0, 2, size=b)
    flips = rng.random((b, n)) < 0.5
    signals = np.where(rng.random((b, n)) < 0.8, truth[:, None] + rng.normal(size=(b, n)), 0.5)
    return outputs, beliefs, truth, flips, signals


def np_belief_quality(beliefs_env, truth):
    """(B, T) belief accuracy and Brier score by plain NumPy loops over agents."""
    b, t, n = beliefs_env.shape
    acc, brier = np.zeros((b, t)), np.zeros((b, t))
    for e in range(b):
        for s in range(t):
            x = beliefs_env[e, s]
            psi = truth[e]
            acc[e, s] = sum(((v > 0.5) if psi == 1 else (v < 0.5)) for v in x) / n
            brier[e, s] = sum((v - psi) ** 2 for v in x) / n
    return acc, brier


def np_signal_brier(signals, truth, sigma):
    post = 1.0 / (1.0 + np.exp(-(2.0 * signals - 1.0) / (2.0 * sigma**2)))
    return ((post - truth[:, None]) ** 2).mean(1)


@pytest.mark.parametrize("seed", [0, 1])
def test_episode_metrics_belief_columns_match_numpy(seed):
    outputs, beliefs, truth, flips, signals = random_inputs(seed)
    df = metrics.episode_metrics(outputs, truth, beliefs=beliefs, flips=flips,
                                 signals=signals, sigma=0.8)
    acc, brier = np_belief_quality(beliefs, truth)
    np.testing.assert_allclose(df["belief_accuracy_mean"], acc.mean(1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["belief_accuracy_final"], acc[:, -1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["belief_brier_final"], brier[:, -1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(df["signal_brier"], np_signal_brier(signals, truth, 0.8),
                               rtol=1e-12)
    # the per-step building blocks are the same numbers
    np.testing.assert_allclose(metrics.belief_accuracy_per_step(beliefs, truth), acc, atol=0)
    np.testing.assert_allclose(metrics.belief_brier_per_step(beliefs, truth), brier,
                               atol=1e-12)


def test_beliefs_in_the_agents_own_frames_are_mapped_to_the_environment():
    outputs, beliefs_env, truth, flips, _ = random_inputs(3)
    own = np.where(flips[:, None, :], 1.0 - beliefs_env, beliefs_env)
    env_df = metrics.episode_metrics(outputs, truth, beliefs=beliefs_env, flips=flips)
    own_df = metrics.episode_metrics(outputs, truth, beliefs=own, flips=flips,
                                     belief_frame="agent")
    for c in ["lying_rate", "ever_lied", *BELIEF_COLUMNS]:
        np.testing.assert_allclose(own_df[c], env_df[c], atol=1e-12, err_msg=c)
    # read unmapped, the own-frame beliefs of flipped agents would be wrong
    raw = metrics.episode_metrics(outputs, truth, beliefs=own)
    assert not np.allclose(raw["belief_accuracy_mean"], env_df["belief_accuracy_mean"])
    # one flipped agent: own-frame belief 0.9 on a truth of 0 is right in the environment
    one = metrics.episode_metrics([[[0]]], [0], beliefs=[[[0.9]]], flips=[[True]],
                                  belief_frame="agent")
    assert one[BELIEF_COLUMNS].values.tolist() == [[1.0, 1.0, pytest.approx(0.01)]]
    assert one["lying_rate"].tolist() == [0.0]  # says 0 = its own 1, which it believes
    with pytest.raises(ValueError, match="needs the flips"):
        metrics.belief_accuracy_per_step([[[0.9]]], [0], belief_frame="agent")


def test_columns_appear_only_with_their_inputs_and_keep_their_order():
    outputs, beliefs, truth, flips, signals = random_inputs(5)
    plain = list(metrics.episode_metrics(outputs, truth).columns)
    assert not set(plain) & {*BELIEF_COLUMNS, "lying_rate", "signal_accuracy", "signal_brier"}
    # sigma alone changes nothing; signals without sigma give signal_accuracy only
    assert list(metrics.episode_metrics(outputs, truth, sigma=1.0).columns) == plain
    with_signals = list(metrics.episode_metrics(outputs, truth, signals=signals).columns)
    assert with_signals == plain + ["signal_accuracy"]
    full = list(metrics.episode_metrics(outputs, truth, beliefs=beliefs, flips=flips,
                                        signals=signals, sigma=1.0).columns)
    assert full == plain + ["lying_rate", "ever_lied", *BELIEF_COLUMNS, "signal_accuracy",
                            "signal_brier"]
    s = metrics.summarise(outputs, truth, beliefs=beliefs, signals=signals, sigma=1.0,
                          n_boot=20)
    assert s.metric.tolist() == full[1:]  # all but "episode"
    s0 = metrics.summarise(outputs, truth, n_boot=20)
    assert not set(s0.metric) & {*BELIEF_COLUMNS, "signal_brier"}


def test_summarise_values_are_episode_means():
    outputs, beliefs, truth, _, signals = random_inputs(6, b=12)
    s = metrics.summarise(outputs, truth, beliefs=beliefs, signals=signals, sigma=0.5,
                          n_boot=50).set_index("metric")
    acc, brier = np_belief_quality(beliefs, truth)
    assert s.loc["belief_accuracy_mean", "value"] == pytest.approx(acc.mean())
    assert s.loc["belief_accuracy_final", "value"] == pytest.approx(acc[:, -1].mean())
    assert s.loc["belief_brier_final", "value"] == pytest.approx(brier[:, -1].mean())
    assert s.loc["signal_brier", "value"] == pytest.approx(
        np_signal_brier(signals, truth, 0.5).mean())
    assert s.loc["signal_brier", "n"] == 12


def test_closed_forms_of_an_uninformative_head():
    """A coin-flip head (b = 0.5): accuracy 0, Brier 0.25; no signal: Brier 0.25."""
    o = np.ones((3, 4, 5), int)
    df = metrics.episode_metrics(o, [1, 0, 1], beliefs=np.full((3, 4, 5), 0.5),
                                 signals=np.full((3, 5), 0.5), sigma=1.0)
    assert df["lying_rate"].tolist() == [0.0] * 3  # a belief of 0.5 never lies ...
    assert df["belief_accuracy_final"].tolist() == [0.0] * 3  # ... nor leans to the truth
    assert df["belief_brier_final"].tolist() == [0.25] * 3
    assert df["signal_brier"].tolist() == [0.25] * 3


def test_bad_sigma_and_shapes_name_the_problem():
    outputs, beliefs, truth, _, signals = random_inputs(7)
    with pytest.raises(ValueError, match="sigma=0.0"):
        metrics.episode_metrics(outputs, truth, signals=signals, sigma=0.0)
    with pytest.raises(ValueError, match="sigma"):
        metrics.signal_brier(signals, truth, -1.0)
    with pytest.raises(ValueError, match=r"beliefs has shape \(7, 6\); it must be \(B, T, N\)"):
        metrics.belief_brier_per_step(beliefs[:, 0], truth)
    with pytest.raises(ValueError, match="signals has shape"):
        metrics.signal_brier(signals[0], truth, 1.0)


def make_record(config) -> EvalRecord:
    outputs, beliefs, truth, flips, signals = random_inputs(8)
    b, t, n = outputs.shape
    graph = sm.ring_graph(n)
    zeros = np.zeros((b, t), np.float32)
    return EvalRecord(
        outputs=outputs.astype(np.int8), beliefs=beliefs.astype(np.float32),
        lying=metrics.lying_mask(outputs, beliefs), rewards=np.zeros((b, t, n), np.float32),
        signals=signals.astype(np.float32), truth=truth, flips=flips, accuracy=zeros,
        agreement=zeros, entropy=zeros, attention=np.zeros(graph.num_edges),
        self_attention=np.zeros(n), graph=graph, alpha=0.0, config=config,
    )


def test_eval_record_summary_reports_belief_quality():
    rec = make_record({"game": {"sigma": 0.6}})
    s = rec.summary()
    assert {"belief_accuracy", "belief_brier", "signal_brier", "signal_accuracy"} <= set(s)
    acc, brier = np_belief_quality(rec.beliefs.astype(np.float64), rec.truth)
    assert s["belief_accuracy"] == pytest.approx(acc[:, -1].mean(), abs=1e-12)
    assert s["belief_brier"] == pytest.approx(brier[:, -1].mean(), abs=1e-12)
    assert s["signal_brier"] == pytest.approx(
        np_signal_brier(rec.signals.astype(np.float64), rec.truth, 0.6).mean(), rel=1e-12)
    # without a sigma in the config (or sigma 0) the baseline is NaN, the key stays
    for config in ({}, {"game": {}}, {"game": {"sigma": 0.0}}):
        s = make_record(config).summary()
        assert math.isnan(s["signal_brier"])
        assert not math.isnan(s["belief_brier"])


def test_evaluate_records_its_sigma_for_the_baseline():
    torch.manual_seed(0)
    g = sm.ring_graph(5)
    rec = sm.evaluate(sm.AttentionPolicy(5, hidden=8), g, episodes=6, episode_length=3,
                      seed=2, sigma=0.4)
    assert rec.config["game"]["sigma"] == 0.4
    s = rec.summary()
    want = ms.signal_brier(torch.as_tensor(rec.signals), torch.as_tensor(rec.truth), 0.4)
    assert s["signal_brier"] == pytest.approx(float(want.mean()), rel=1e-12)
    assert 0.0 <= s["belief_brier"] <= 1.0 and 0.0 <= s["belief_accuracy"] <= 1.0
