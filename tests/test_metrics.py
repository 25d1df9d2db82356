"""Metrics against slow explicit loops, closed forms and bootstrap sanity checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from socialmarl.analysis.metrics import (
    SUMMARY_COLUMNS,
    SWEEP_COLUMNS,
    accuracy_per_step,
    agreement_per_step,
    bimodality_coefficient,
    bootstrap_ci,
    consensus_time,
    disagreement_per_step,
    entropy_per_step,
    episode_metrics,
    ever_lied,
    group_opinions,
    lying_mask,
    lying_rate,
    opinion_bimodality,
    over_steps,
    polarisation_per_step,
    summarise,
    sweep_table,
)
from socialmarl.networks.generators import complete_graph, erdos_renyi_graph
from socialmarl.networks.graph import Graph


def _random_case(seed=0, b=5, t=6, n=7, p_wait=0.25):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 2, size=(b, t, n))
    codes[rng.random((b, t, n)) < p_wait] = 2
    truth = rng.integers(0, 2, size=b)
    beliefs = rng.random((b, t, n))
    flips = rng.random((b, n)) < 0.5
    g = erdos_renyi_graph(n, 0.4, seed=seed, directed=True)
    # add a self loop to check that it is ignored
    ei = torch.cat([g.edge_index, torch.tensor([[0], [0]])], 1)
    g = Graph(n, ei)
    groups = rng.integers(0, 3, size=n)
    return codes, truth, beliefs, flips, g, groups


def _edges(g):
    return [(int(j), int(i)) for j, i in g.edge_index.T.tolist() if j != i]


# ------------------------------------------------------------------ slow references
def ref_accuracy(o, truth):
    b, t, n = o.shape
    out = np.zeros((b, t))
    for e in range(b):
        for s in range(t):
            out[e, s] = sum(o[e, s, i] == truth[e] for i in range(n)) / n
    return out


def ref_edge(o, edges, active=None, mask=None):
    b, t, _ = o.shape
    agree, dis = np.full((b, t), np.nan), np.full((b, t), np.nan)
    for e in range(b):
        for s in range(t):
            a = d = tot = 0
            for k, (j, i) in enumerate(edges):
                if mask is not None and not mask[k]:
                    continue
                if active is not None and not active[e, s, k]:
                    continue
                tot += 1
                if o[e, s, j] != 2 and o[e, s, i] != 2:
                    a += o[e, s, j] == o[e, s, i]
                    d += o[e, s, j] != o[e, s, i]
            if tot:
                agree[e, s], dis[e, s] = a / tot, d / tot
    return agree, dis


def ref_entropy(o):
    b, t, _ = o.shape
    out = np.zeros((b, t))
    for e in range(b):
        for s in range(t):
            g = [x for x in o[e, s] if x != 2]
            if not g:
                out[e, s] = 1.0
                continue
            p = sum(g) / len(g)
            out[e, s] = 0.0 if p in (0, 1) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
    return out


def ref_consensus(o, thr):
    b, t, n = o.shape
    out = np.full(b, np.nan)
    for e in range(b):
        for s in range(t):
            if any(all(sum(o[e, u, i] == g for i in range(n)) >= thr * n for u in range(s, t))
                   for g in (0, 1)):
                out[e] = s
                break
    return out


def ref_lying(o, beliefs, flips):
    b, t, n = o.shape
    out = np.zeros((b, t, n), dtype=bool)
    for e in range(b):
        for s in range(t):
            for i in range(n):
                a = o[e, s, i]
                if a == 2:
                    continue
                bel = beliefs[e, s, i]
                if flips[e, i]:  # into the agent's own frame
                    a, bel = 1 - a, 1 - bel
                out[e, s, i] = (bel - 0.5) * (a - 0.5) < 0
    return out


def ref_moments(x):
    x = np.asarray([v for v in x if not np.isnan(v)])
    if len(x) < 2:
        return np.nan, np.nan
    mu = x.mean()
    m2 = ((x - mu) ** 2).mean()
    if m2 < 1e-12:
        return m2 if len(x) >= 2 else np.nan, np.nan
    m3, m4 = ((x - mu) ** 3).mean(), ((x - mu) ** 4).mean()
    return m2, (m3**2 / m2**3 + 1) / (m4 / m2**2)


# ------------------------------------------------------------------ per-step measures
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_step_measures_match_loops(seed):
    o, truth, _, _, g, _ = _random_case(seed)
    np.testing.assert_allclose(accuracy_per_step(o, truth), ref_accuracy(o, truth))
    agree, dis = ref_edge(o, _edges(g))
    np.testing.assert_allclose(agreement_per_step(o, g), agree)
    np.testing.assert_allclose(disagreement_per_step(o, g), dis)
    np.testing.assert_allclose(entropy_per_step(o), ref_entropy(o), atol=1e-12)
    for thr in (0.6, 0.8, 1.0):
        np.testing.assert_array_equal(consensus_time(o, threshold=thr), ref_consensus(o, thr))


def test_edge_active_mask_matches_loop():
    o, _, _, _, g, _ = _random_case(3)
    rng = np.random.default_rng(3)
    act = rng.random((o.shape[0], o.shape[1], g.num_edges)) < 0.5
    act[0, 0] = False  # a step with no active edge -> NaN
    keep = (g.edge_index[0] != g.edge_index[1]).numpy()
    agree, _ = ref_edge(o, _edges(g), active=act[..., keep])
    got = agreement_per_step(o, g, edge_active=act)
    np.testing.assert_allclose(got, agree)
    assert np.isnan(got[0, 0])


def test_torch_and_numpy_inputs_agree():
    o, truth, beliefs, flips, g, groups = _random_case(4)
    a = summarise(o, truth, g, beliefs=beliefs, flips=flips, groups=groups, n_boot=100)
    b = summarise(torch.as_tensor(o), torch.as_tensor(truth), g, beliefs=torch.as_tensor(beliefs),
                  flips=torch.as_tensor(flips), groups=groups, n_boot=100, device="cpu")
    pd.testing.assert_frame_equal(a, b)


def test_consensus_closed_forms():
    o = np.zeros((2, 5, 10), dtype=int)
    o[1, :3, :3] = 1  # 70% at steps 0..2, then unanimity from step 3
    assert consensus_time(o, threshold=0.9).tolist() == [0.0, 3.0]
    assert consensus_time(o, threshold=0.7).tolist() == [0.0, 0.0]
    o[1, -1, :] = 1  # switches guess at the last step: consensus on 1 held from step 4
    assert consensus_time(o, threshold=0.9).tolist() == [0.0, 4.0]
    o[1, -1, :5] = 2  # half wait at the end: never a lasting consensus
    assert np.isnan(consensus_time(o, threshold=0.9)[1])
    with pytest.raises(ValueError, match="threshold"):
        consensus_time(o, threshold=0.5)


def test_all_agree_closed_form():
    g = complete_graph(6)
    o = np.ones((3, 4, 6), dtype=int)
    assert np.all(agreement_per_step(o, g) == 1.0)
    assert np.all(disagreement_per_step(o, g) == 0.0)
    assert np.all(entropy_per_step(o) == 0.0)
    s = summarise(o, [1, 1, 0], g, n_boot=100).set_index("metric")
    assert s.loc["agreement_final", "value"] == 1.0
    assert s.loc["accuracy_final", "value"] == pytest.approx(2 / 3)
    assert s.loc["consensus_reached", "value"] == 1.0
    assert s.loc["consensus_time", "value"] == 0.0


# ------------------------------------------------------------------ polarisation
def test_two_opposite_blocks_closed_form():
    n = 8
    g = complete_graph(n)
    blocks = np.array([0] * 4 + [1] * 4)
    o = np.where(blocks == 0, 0, 1)[None, None, :].repeat(3, 1)  # (1, 3, 8)
    p = polarisation_per_step(o, g, groups=blocks)
    assert np.allclose(p["group_variance"], 0.25)  # means 0 and 1
    assert np.allclose(p["group_gap"], 1.0)
    assert np.allclose(p["group_bimodality"], 1.0)
    assert np.allclose(p["cross_disagreement"], 1.0)
    assert np.allclose(p["within_disagreement"], 0.0)
    assert np.allclose(p["edge_disagreement"], 2 * 4 * 4 / (n * (n - 1)))
    # one consensus: no polarisation at all
    q = polarisation_per_step(np.ones_like(o), g, groups=blocks)
    assert np.allclose(q["group_variance"], 0.0) and np.allclose(q["group_gap"], 0.0)
    assert np.all(np.isnan(q["group_bimodality"]))  # zero variance
    # node attribute by name
    g2 = Graph(n, g.edge_index, node_attrs={"party": ["D"] * 4 + ["R"] * 4})
    r = polarisation_per_step(o, g2, groups="party")
    assert np.allclose(r["cross_disagreement"], 1.0)
    with pytest.raises(ValueError, match="no node attribute 'club'"):
        polarisation_per_step(o, g2, groups="club")


@pytest.mark.parametrize("seed", [0, 5])
def test_group_polarisation_matches_loops(seed):
    o, _, _, _, g, groups = _random_case(seed, b=3, t=4, n=9)
    p = polarisation_per_step(o, g, groups=groups)
    edges = _edges(g)
    cross = np.array([groups[j] != groups[i] for j, i in edges])
    _, dis_c = ref_edge(o, edges, mask=cross)
    _, dis_w = ref_edge(o, edges, mask=~cross)
    # edge masks given to the function are aligned with all edges (self loop included)
    np.testing.assert_allclose(p["cross_disagreement"], dis_c)
    np.testing.assert_allclose(p["within_disagreement"], dis_w)
    m = group_opinions(o, groups)
    b, t, _ = o.shape
    for e in range(b):
        for s in range(t):
            means = []
            for k in range(3):
                members = [i for i in range(9) if groups[i] == k and o[e, s, i] != 2]
                means.append(np.mean([o[e, s, i] for i in members]) if members else np.nan)
                assert np.allclose(m[e, s, k], means[-1], equal_nan=True)
            var, bc = ref_moments(means)
            assert np.allclose(p["group_variance"][e, s], var, equal_nan=True)
            assert np.allclose(p["group_bimodality"][e, s], bc, equal_nan=True)
            valid = [x for x in means if not np.isnan(x)]
            gap = max(valid) - min(valid) if len(valid) >= 2 else np.nan
            assert np.allclose(p["group_gap"][e, s], gap, equal_nan=True)


def test_bimodality_coefficient_reference_values():
    assert bimodality_coefficient(np.array([0.0, 1.0])) == pytest.approx(1.0)
    u = np.linspace(0, 1, 20001)
    assert bimodality_coefficient(u) == pytest.approx(5 / 9, rel=1e-3)
    z = np.random.default_rng(0).standard_normal(200000)
    assert bimodality_coefficient(z) == pytest.approx(1 / 3, rel=2e-2)
    assert np.isnan(bimodality_coefficient(np.array([0.3, 0.3, 0.3])))


def test_opinion_bimodality_matches_loop():
    o, *_ = _random_case(7, b=4, t=8, n=12)
    got = opinion_bimodality(o)
    for e in range(o.shape[0]):
        per = []
        for i in range(o.shape[2]):
            g = [x for x in o[e, :, i] if x != 2]
            per.append(np.mean(g) if g else np.nan)
        assert np.allclose(got[e], ref_moments(per)[1], equal_nan=True)


# ------------------------------------------------------------------ lying
@pytest.mark.parametrize("seed", [0, 1])
def test_lying_matches_loop_and_is_frame_invariant(seed):
    o, _, beliefs, flips, _, _ = _random_case(seed)
    ref = ref_lying(o, beliefs, flips)
    np.testing.assert_array_equal(lying_mask(o, beliefs, flips), ref)
    # the rule gives the same answer in the environment's frame (no flips) ...
    np.testing.assert_array_equal(lying_mask(o, beliefs), ref)
    # ... and with beliefs given in each agent's own frame
    own = np.where(flips[:, None, :], 1 - beliefs, beliefs)
    np.testing.assert_array_equal(lying_mask(o, own, flips, belief_frame="agent"), ref)
    guesses = (o != 2).sum((1, 2))
    np.testing.assert_allclose(lying_rate(o, beliefs, flips), ref.sum((1, 2)) / guesses)
    np.testing.assert_allclose(ever_lied(o, beliefs, flips), ref.any(1).mean(1))


def test_lying_edge_cases():
    o = np.array([[[0, 1, 2, 1]]])
    b = np.array([[[0.5, 0.5, 0.0, 0.0]]])  # undecided beliefs never lie; wait never lies
    assert lying_mask(o, b).tolist() == [[[False, False, False, True]]]
    assert np.isnan(lying_rate(np.full((1, 2, 2), 2), np.zeros((1, 2, 2)))[0])
    with pytest.raises(ValueError, match="needs the flips"):
        lying_mask(o, b, belief_frame="agent")
    with pytest.raises(ValueError, match=r"beliefs must be probabilities"):
        lying_mask(o, b + 2)


# ------------------------------------------------------------------ bootstrap
def _ref_bootstrap(v, n_boot, ci, rng):
    v = v[~np.isnan(v)]
    reps = [np.mean(v[rng.integers(0, len(v), len(v))]) for _ in range(n_boot)]
    return np.quantile(reps, [(1 - ci) / 2, 1 - (1 - ci) / 2])


def test_bootstrap_matches_explicit_resampling():
    v = np.random.default_rng(1).exponential(size=60)
    v[[3, 17]] = np.nan
    r = bootstrap_ci(v, n_boot=4000, seed=2).iloc[0]
    lo, hi = _ref_bootstrap(v, 4000, 0.95, np.random.default_rng(99))
    se = np.nanstd(v) / np.sqrt(58)
    assert r.value == pytest.approx(np.nanmean(v))
    assert r.n == 58
    assert abs(r.ci_low - lo) < 0.1 * se and abs(r.ci_high - hi) < 0.1 * se
    assert r.ci_low < r.value < r.ci_high


def test_bootstrap_shape_seed_and_coverage():
    rng = np.random.default_rng(0)
    v = rng.normal(size=(40, 3))
    r = bootstrap_ci(v, n_boot=300, seed=5)
    assert list(r.columns) == ["value", "ci_low", "ci_high", "n"] and len(r) == 3
    pd.testing.assert_frame_equal(r, bootstrap_ci(v, n_boot=300, seed=5))
    assert not r.equals(bootstrap_ci(v, n_boot=300, seed=6))
    assert np.all(r.ci_low <= r.value) and np.all(r.value <= r.ci_high)
    # the 90% interval covers the true mean 0 in roughly 90% of repeated experiments
    hits = []
    for k in range(200):
        x = rng.normal(size=(30, 1))
        b = bootstrap_ci(x, n_boot=400, ci=0.9, seed=k).iloc[0]
        hits.append(b.ci_low <= 0.0 <= b.ci_high)
    assert 0.8 <= np.mean(hits) <= 0.97
    # more data -> narrower interval
    small = bootstrap_ci(rng.normal(size=20), n_boot=500).iloc[0]
    big = bootstrap_ci(rng.normal(size=2000), n_boot=500).iloc[0]
    assert big.ci_high - big.ci_low < small.ci_high - small.ci_low
    # all NaN -> NaN row with n = 0
    z = bootstrap_ci(np.full(5, np.nan)).iloc[0]
    assert z.n == 0 and np.isnan(z.value) and np.isnan(z.ci_low)


def test_two_level_bootstrap_over_runs_is_wider():
    rng = np.random.default_rng(3)
    runs = np.repeat(np.arange(4), 50)
    v = rng.normal(size=200) * 0.1 + np.array([0.0, 1.0, 2.0, 3.0])[runs]  # runs differ
    flat = bootstrap_ci(v, n_boot=1000).iloc[0]
    nested = bootstrap_ci(v, runs=runs, n_boot=1000).iloc[0]
    assert nested.value == pytest.approx(flat.value)
    assert (nested.ci_high - nested.ci_low) > 3 * (flat.ci_high - flat.ci_low)
    # replicates: a run mean is one of 0..3 -> the CI spans a good part of [0, 3]
    assert nested.ci_low < 1.2 and nested.ci_high > 1.8
    with pytest.raises(ValueError, match="one run label per episode"):
        bootstrap_ci(v, runs=runs[:10])


# ------------------------------------------------------------------ tidy tables
def test_summarise_is_bootstrap_of_episode_metrics():
    o, truth, beliefs, flips, g, groups = _random_case(8, b=12)
    ep = episode_metrics(o, truth, g, beliefs=beliefs, flips=flips, groups=groups)
    assert len(ep) == 12
    s = summarise(o, truth, g, beliefs=beliefs, flips=flips, groups=groups, n_boot=300)
    assert list(s.columns) == SUMMARY_COLUMNS
    expected = {
        "accuracy_mean", "accuracy_final", "entropy_mean", "entropy_final", "consensus_reached",
        "consensus_time", "opinion_bimodality", "agreement_mean", "agreement_final",
        "edge_disagreement_final", "group_variance_final", "group_bimodality_final",
        "group_gap_final", "cross_disagreement_final", "within_disagreement_final",
        "lying_rate", "ever_lied", "wait_rate", "belief_accuracy_mean",
        "belief_accuracy_final", "belief_brier_final",
    }
    assert set(s.metric) == expected
    s = s.set_index("metric")
    for m in expected:
        col = ep[m].to_numpy()
        if np.all(np.isnan(col)):
            assert np.isnan(s.loc[m, "value"])
            continue
        assert s.loc[m, "value"] == pytest.approx(np.nanmean(col))
        assert s.loc[m, "n"] == np.sum(~np.isnan(col))
        assert s.loc[m, "ci_low"] <= s.loc[m, "value"] + 1e-12 <= s.loc[m, "ci_high"] + 2e-12
    np.testing.assert_allclose(ep.accuracy_mean, ref_accuracy(o, truth).mean(1))
    np.testing.assert_allclose(ep.lying_rate, lying_rate(o, beliefs, flips))
    np.testing.assert_allclose(ep.wait_rate, (o == 2).mean((1, 2)))


def test_rewards_and_signals_columns():
    o, truth, _, _, g, _ = _random_case(12, b=6)
    rng = np.random.default_rng(12)
    rewards = rng.normal(size=o.shape).astype(np.float32)
    signals = rng.normal(0.5, 1.0, size=(o.shape[0], o.shape[2])).astype(np.float32)
    signals[0, :3] = 0.5  # no signal: reads as 0
    ep = episode_metrics(o, truth, g, rewards=rewards, signals=signals)
    ref_ret = [np.mean([sum(float(rewards[e, s, i]) for s in range(o.shape[1]))
                        for i in range(o.shape[2])]) for e in range(o.shape[0])]
    np.testing.assert_allclose(ep.mean_return, ref_ret, rtol=1e-12)
    ref_sig = [np.mean([(signals[e, i] > 0.5) == truth[e] for i in range(o.shape[2])])
               for e in range(o.shape[0])]
    np.testing.assert_allclose(ep.signal_accuracy, ref_sig)
    s = summarise(o, truth, g, rewards=rewards, signals=signals, n_boot=50).set_index("metric")
    assert s.loc["mean_return", "value"] == pytest.approx(np.mean(ref_ret))
    with pytest.raises(ValueError, match="rewards has shape"):
        episode_metrics(o, truth, g, rewards=rewards[:, :-1])
    with pytest.raises(ValueError, match="signals has shape"):
        episode_metrics(o, truth, g, signals=signals[:, :-1])


def test_over_steps_values():
    o, truth, _, _, g, _ = _random_case(9, b=10)
    d = over_steps(o, truth, g, n_boot=200)
    acc = d[d.metric == "accuracy"].sort_values("step")
    np.testing.assert_allclose(acc.value, ref_accuracy(o, truth).mean(0))
    agree, _ = ref_edge(o, _edges(g))
    np.testing.assert_allclose(d[d.metric == "agreement"].value, agree.mean(0))
    assert set(d.columns) == {"step", *SUMMARY_COLUMNS}
    assert (d.ci_low <= d.value + 1e-12).all() and (d.value <= d.ci_high + 1e-12).all()


def test_sweep_table_layout():
    o, truth, _, _, g, _ = _random_case(10)
    sums = {(net, a): summarise(o, truth, g, n_boot=50) for net in ("er", "ba")
            for a in (1.0, 0.0, 0.5)}
    t = sweep_table(sums)
    assert list(t.columns) == SWEEP_COLUMNS
    assert len(t) == 6 * len(sums[("er", 1.0)])
    sub = t[(t.network == "er") & (t.metric == "accuracy_final")]
    assert sub.alpha.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="network, alpha"):
        sweep_table({"er": sums[("er", 1.0)]})


def test_bad_inputs_name_the_problem():
    g = complete_graph(3)
    with pytest.raises(ValueError, match=r"\(B, T, N\)"):
        accuracy_per_step(np.zeros((2, 3)), [0])
    with pytest.raises(ValueError, match="code 3"):
        accuracy_per_step(np.full((1, 1, 3), 3), [0])
    with pytest.raises(ValueError, match="one per episode"):
        accuracy_per_step(np.zeros((2, 1, 3)), [0])
    with pytest.raises(ValueError, match="graph has 3 nodes but outputs has 4"):
        agreement_per_step(np.zeros((1, 1, 4)), g)
    with pytest.raises(ValueError, match="edge_active has shape"):
        agreement_per_step(np.zeros((1, 1, 3)), g, edge_active=np.ones((1, 1, 2), bool))


def test_edge_counts_agree_across_chunks(monkeypatch):
    import socialmarl.game.measures as mm

    o, _, _, _, g, groups = _random_case(11, b=9, t=4, n=8)
    ref = polarisation_per_step(o, g, groups=groups)
    ones = np.ones((9, 4, g.num_edges), dtype=bool)
    monkeypatch.setattr(mm, "_CHUNK_ELEMS", 50)  # force several episode chunks on both paths
    for act in (None, ones):
        got = polarisation_per_step(o, g, groups=groups, edge_active=act)
        for k in ref:
            np.testing.assert_allclose(got[k], ref[k])
        agree, _ = ref_edge(o, _edges(g))
        np.testing.assert_allclose(agreement_per_step(o, g, edge_active=act), agree)
