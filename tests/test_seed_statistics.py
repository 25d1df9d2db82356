"""Statistics over seeds: intervals that resample seeds, against closed forms.

Synthetic data plant a seed-level variance (every episode of a seed shares the seed's
offset; every agent of a seed shares the seed's attention noise level). The mean of ``S``
seed means of ``n`` episodes has standard error ``sqrt(var_seed/S + var_ep/(S*n))``; a
percentile bootstrap reproduces it up to its usual plug-in factors ``(S - 1)/S`` on the seed
part and ``(n - 1)/n`` on the episode part, and an interval's half-width is about 1.96 of
it. With no seed-level variance the interval over seeds must match the episode-only one (a
plain two-level bootstrap would be about sqrt(2) too wide there).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from socialmarl.analysis.importance import AttentionFit
from socialmarl.analysis.metrics import (
    SUMMARY_COLUMNS,
    SWEEP_COLUMNS,
    bootstrap_ci,
    concat_runs,
    episode_metrics,
    over_steps,
    summarise,
    sweep_table,
)
from socialmarl.networks.generators import complete_graph
from socialmarl.networks.graph import Graph

Z = 1.959963984540054  # the 97.5% normal quantile


def _half_sd(r) -> float:
    """The standard error a 95% percentile interval implies."""
    return (r.ci_high - r.ci_low) / (2 * Z)


# ------------------------------------------------------------------ metrics: bootstrap_ci
def _planted(k: int, s: int, n: int, var_seed: float, var_ep: float):
    rng = np.random.default_rng(1000 + k)
    runs = np.repeat(np.arange(s), n)
    v = (rng.normal(0.0, math.sqrt(var_seed), s)[runs]
         + rng.normal(0.0, math.sqrt(var_ep), s * n))
    return v, runs


def _widths(s, n, var_seed, var_ep, datasets=40, n_boot=1000):
    """RMS implied standard errors (over seeds, episodes only) and coverage of the mean 0."""
    seeds, flat, cov_seeds, cov_flat = [], [], [], []
    for k in range(datasets):
        v, runs = _planted(k, s, n, var_seed, var_ep)
        r = bootstrap_ci(v, runs=runs, n_boot=n_boot, seed=k).iloc[0]
        f = bootstrap_ci(v, n_boot=n_boot, seed=k).iloc[0]
        seeds.append(_half_sd(r))
        flat.append(_half_sd(f))
        cov_seeds.append(r.ci_low <= 0.0 <= r.ci_high)
        cov_flat.append(f.ci_low <= 0.0 <= f.ci_high)
        assert r.n == s * n and r.n_seeds == s
        assert r.value == pytest.approx(v.mean())  # equal seed sizes: the plain mean
    rms = lambda x: float(np.sqrt(np.mean(np.square(x))))  # noqa: E731
    return rms(seeds), rms(flat), float(np.mean(cov_seeds)), float(np.mean(cov_flat))


def test_interval_over_seeds_widens_as_the_closed_form_predicts():
    s, n, var_seed, var_ep = 10, 40, 0.1, 1.0
    seeds, flat, cov_seeds, cov_flat = _widths(s, n, var_seed, var_ep)
    closed = math.sqrt(var_seed / s + var_ep / (s * n))
    boot = math.sqrt((s - 1) / s * var_seed / s + (n - 1) / n * var_ep / (s * n))
    episodes_only = math.sqrt((var_seed + var_ep) / (s * n))  # what ignoring seeds shows
    assert seeds == pytest.approx(boot, rel=0.08)
    assert seeds == pytest.approx(closed, rel=0.12)
    assert flat == pytest.approx(episodes_only, rel=0.08)
    # about twice as wide as episode noise alone, as the closed form says (2.1)
    assert seeds / flat == pytest.approx(closed / episodes_only, rel=0.12)
    # the interval over seeds covers the true mean; the episode-only one mostly misses it
    assert cov_seeds >= 0.8
    assert cov_flat <= 0.75


def test_without_seed_variance_the_intervals_agree():
    s, n = 10, 40
    seeds, flat, cov_seeds, _ = _widths(s, n, 0.0, 1.0)
    closed = math.sqrt(1.0 / (s * n))
    assert flat == pytest.approx(closed, rel=0.06)
    # the truncated seed-variance estimate adds a little on average, not the sqrt(2) that
    # resampling episodes on top of unadjusted seed means would add
    assert 0.97 <= seeds / flat <= 1.15
    assert cov_seeds >= 0.85


def test_seeds_weigh_equally_and_are_counted():
    rng = np.random.default_rng(4)
    runs = np.array([5] * 30 + [9] * 6 + [2] * 12)
    v = rng.normal(size=(48, 3)) + np.array([0.0, 1.0, 2.0])
    v[:, 0] += np.where(runs == 9, 3.0, 0.0)  # the small seed differs
    v[runs == 2, 1] = np.nan  # one seed has no value for column 1
    v[[0, 7], 2] = np.nan
    r = bootstrap_ci(v, runs=runs, n_boot=500)
    assert list(r.columns) == ["value", "ci_low", "ci_high", "n", "n_seeds"]
    for j in range(3):
        cols = [v[runs == lab, j] for lab in (2, 5, 9)]
        per_seed = [np.nanmean(c) for c in cols if np.any(~np.isnan(c))]
        assert r.value[j] == pytest.approx(np.mean(per_seed))
        assert r.n_seeds[j] == len(per_seed)
        assert r.n[j] == np.sum(~np.isnan(v[:, j]))
        assert r.ci_low[j] <= r.value[j] <= r.ci_high[j]
    # the episode mean would weigh the small, shifted seed by 6/48, not 1/3
    assert r.value[0] - np.mean(v[:, 0]) > 0.5
    # labels only group: other labels in the same order give the same numbers
    names = np.array(["a", "b", "c"])[np.searchsorted([2, 5, 9], runs)]
    pd.testing.assert_frame_equal(r, bootstrap_ci(v, runs=names, n_boot=500))
    # one run is the episode bootstrap
    one = bootstrap_ci(v, runs=np.zeros(48), n_boot=500)
    pd.testing.assert_frame_equal(one.drop(columns="n_seeds"), bootstrap_ci(v, n_boot=500))
    assert one.n_seeds.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="one run label per episode"):
        bootstrap_ci(v, runs=runs[:5])


def test_few_seeds_interval_stays_within_the_seed_means():
    # with no inflation the resampled seed means lie between the grand mean and the seed's
    # own mean: a bounded metric's interval stays within its bounds
    runs = np.repeat(np.arange(3), 20)
    v = np.concatenate([np.ones(20), np.ones(20), np.r_[np.ones(16), np.zeros(4)]])
    r = bootstrap_ci(v, runs=runs, n_boot=2000).iloc[0]
    assert r.value == pytest.approx((1 + 1 + 0.8) / 3)
    assert 0.0 <= r.ci_low < r.value < r.ci_high <= 1.0


# ------------------------------------------------------------------ metrics: tidy tables
def _seed_records(seed_acc, b=40, t=3, n=8, seed=0):
    """Per seed: agents guess the truth with a seed-specific probability (a seed offset)."""
    rng = np.random.default_rng(seed)
    recs = {}
    for s, p in seed_acc.items():
        truth = rng.integers(0, 2, size=b)
        right = rng.random((b, t, n)) < p
        outputs = np.where(right, truth[:, None, None], 1 - truth[:, None, None])
        recs[s] = {"outputs": outputs, "truth": truth,
                   "rewards": rng.normal(size=(b, t, n)).astype(np.float32)}
    return recs


def test_summarise_over_seeds():
    seed_acc = {10: 0.55, 11: 0.8, 12: 0.65, 13: 0.9, 14: 0.7, 15: 0.6}
    recs = _seed_records(seed_acc)
    g = complete_graph(8)
    pooled = concat_runs(recs)
    assert set(pooled) == {"outputs", "truth", "rewards", "runs"}
    assert pooled["runs"].tolist() == np.repeat(list(seed_acc), 40).tolist()
    s = summarise(graph=g, n_boot=1000, **pooled)
    assert list(s.columns) == SUMMARY_COLUMNS
    s = s.set_index("metric")
    flat = summarise(pooled["outputs"], pooled["truth"], g, rewards=pooled["rewards"],
                     n_boot=1000).set_index("metric")
    per_seed = [episode_metrics(r["outputs"], r["truth"], g).accuracy_final.mean()
                for r in recs.values()]
    acc, acc_flat = s.loc["accuracy_final"], flat.loc["accuracy_final"]
    assert acc.value == pytest.approx(np.mean(per_seed))
    assert (acc.n, acc.n_seeds) == (240.0, 6.0)
    assert (acc_flat.n, acc_flat.n_seeds) == (240.0, 1.0)
    # the planted seed offsets dominate: the interval over seeds is several times wider,
    # about the closed-form standard error of the mean of the six seed means
    assert (acc.ci_high - acc.ci_low) > 3 * (acc_flat.ci_high - acc_flat.ci_low)
    se_seeds = np.std(per_seed, ddof=1) / math.sqrt(6)
    assert _half_sd(acc) == pytest.approx(math.sqrt(5 / 6) * se_seeds, rel=0.25)
    # rewards carry no seed offset: there the two intervals are alike
    ret, ret_flat = s.loc["mean_return"], flat.loc["mean_return"]
    assert 0.8 < (ret.ci_high - ret.ci_low) / (ret_flat.ci_high - ret_flat.ci_low) < 1.3
    # episode_metrics labels the rows; over_steps pools per step
    ep = episode_metrics(graph=g, **pooled)
    assert ep.run.tolist() == pooled["runs"].tolist()
    d = over_steps(graph=g, n_boot=300, **concat_runs(recs, fields=("outputs", "truth")))
    assert set(d.columns) == {"step", *SUMMARY_COLUMNS}
    a = d[d.metric == "accuracy"]
    assert (a.n_seeds == 6).all() and (a.n == 240).all()
    steps = np.mean([ep[ep.run == k].accuracy_final.mean() for k in seed_acc])
    assert a.value.iloc[-1] == pytest.approx(steps)
    # sweep_table carries n_seeds per (network, alpha); an older table counts as one seed
    old = flat.reset_index().drop(columns="n_seeds")
    t = sweep_table({("er", 0.5): s.reset_index(), ("er", 1.0): old})
    assert list(t.columns) == SWEEP_COLUMNS
    row = t[t.metric == "accuracy_final"].set_index("alpha").n_seeds
    assert row.to_dict() == {0.5: 6.0, 1.0: 1.0}


def test_concat_runs_checks_and_fills():
    g = complete_graph(3)
    a = {"outputs": np.ones((2, 4, 3), int), "truth": [1, 1]}
    b = {"outputs": np.zeros((3, 4, 3), int), "truth": [1, 0, 1],
         "edge_active": np.zeros((3, 4, g.num_edges), bool)}
    p = concat_runs([a, b])
    assert p["runs"].tolist() == [0, 0, 1, 1, 1]
    assert p["edge_active"].shape == (5, 4, g.num_edges)
    assert p["edge_active"][:2].all() and not p["edge_active"][2:].any()
    # tuple labels become positions
    assert concat_runs({(0.5, 1): a, (0.5, 2): a})["runs"].tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="differ in shape"):
        concat_runs([a, {"outputs": np.ones((2, 5, 3), int), "truth": [1, 1]}])
    with pytest.raises(ValueError, match="have no rewards"):
        concat_runs([a, b], fields=("rewards",))
    with pytest.raises(ValueError, match="episodes of outputs"):
        concat_runs([a, {"outputs": np.ones((2, 4, 3), int), "truth": [1, 1, 1]}])


# ------------------------------------------------------------------ AttentionFit
N_AGENTS, DEGREE = 100, 6


def _regular_graph() -> tuple[Graph, np.ndarray]:
    """Every agent observes 6 others, with human weights 1..6: agents are exchangeable."""
    rng = np.random.default_rng(0)
    snd = np.concatenate([rng.choice(np.delete(np.arange(N_AGENTS), i), DEGREE, replace=False)
                          for i in range(N_AGENTS)])
    g = Graph(N_AGENTS, np.stack([snd, np.repeat(np.arange(N_AGENTS), DEGREE)]))
    assert g.num_edges == N_AGENTS * DEGREE
    return g, np.tile(np.arange(1.0, DEGREE + 1), N_AGENTS)


def _row_spearman_moments(sigma: float, rows: int = 200_000) -> tuple[float, float]:
    """Mean and variance of one agent's Spearman for attention human * exp(sigma * noise)."""
    rng = np.random.default_rng(12345)
    att = np.log(np.arange(1.0, DEGREE + 1)) + sigma * rng.normal(size=(rows, DEGREE))
    d = np.argsort(np.argsort(att, 1), 1) - np.arange(DEGREE)
    rho = 1.0 - 6.0 * (d**2).sum(1) / (DEGREE * (DEGREE**2 - 1))
    return float(rho.mean()), float(rho.var())


def _fit_planted(k: int, sigmas: np.ndarray) -> tuple[float, float]:
    """Implied standard error of the pooled Spearman and its closed form."""
    g, human = _regular_graph()
    rng = np.random.default_rng(200 + k)
    learned = {(0.5, s): human * np.exp(sig * rng.normal(size=g.num_edges))
               for s, sig in enumerate(sigmas)}
    fit = AttentionFit(n_boot=2000, n_perm=5, seed=k).fit(g, learned, human)
    row = fit.alpha_table_.set_index("metric").loc["spearman"]
    assert (row.n, row.n_seeds) == (N_AGENTS, len(sigmas))
    per_seed = fit.table_[(fit.table_.model == "learned") & (fit.table_.metric == "spearman")]
    assert row.value == pytest.approx(per_seed.value.mean())
    mom = np.array([_row_spearman_moments(sg) for sg in sigmas])  # (S, 2): mean, variance
    s = len(sigmas)
    var_seed = mom[:, 0].var(ddof=1)  # the planted spread of the seeds' expected fits
    var_agent = mom[:, 1].mean()  # agents vary only by their own noise
    closed = (s - 1) / s * var_seed / s + (N_AGENTS - 1) / N_AGENTS * var_agent / (s * N_AGENTS)
    return _half_sd(row), math.sqrt(closed)


@pytest.mark.parametrize("spread", [0.0, 0.5])
def test_attention_fit_interval_over_seeds_matches_closed_form(spread):
    s = 10
    got, want = [], []
    for k in range(3):
        sig = np.exp(spread * np.random.default_rng(50 + k).normal(size=s))  # seed offsets
        a, b = _fit_planted(k, sig)
        got.append(a)
        want.append(b)
    got, want = np.array(got), np.array(want)
    agents_only = math.sqrt(_row_spearman_moments(1.0)[1] / (s * N_AGENTS))
    if spread == 0.0:
        # no seed-level variance: the agent-only standard error, not sqrt(2) times it
        np.testing.assert_allclose(want, agents_only, rtol=0.01)
        assert np.sqrt(np.mean(got**2)) == pytest.approx(agents_only, rel=0.1)
    else:
        assert np.all(want > 3 * agents_only)  # the planted seed offsets dominate
        # percentiles of ten seeds are coarse: each fit within 15%, together within 8%
        np.testing.assert_allclose(got, want, rtol=0.15)
        assert np.sqrt(np.mean(got**2)) == pytest.approx(np.sqrt(np.mean(want**2)), rel=0.08)


def test_best_alpha_accounts_for_seed_variation():
    g, human = _regular_graph()
    rng = np.random.default_rng(5)
    # both alphas train seeds of very different quality; alpha 0.8's seeds are each a bit
    # noisier, so agent noise alone calls 0.2 better, but seed variation swamps it
    noise = {0.2: [0.3, 0.8, 1.6, 2.4], 0.8: [0.5, 1.1, 2.0, 2.9]}
    learned = {a: [human * np.exp(sd * rng.normal(size=g.num_edges)) for sd in sds]
               for a, sds in noise.items()}
    fit = AttentionFit(n_boot=1000, n_perm=5).fit(g, learned, human)
    pa = fit.per_agent_[fit.per_agent_.model == "learned"]
    diff = pa.groupby(["alpha", "agent"]).spearman.mean().unstack("alpha")
    diff = diff[0.2] - diff[0.8]
    assert diff.mean() / (diff.std(ddof=1) / math.sqrt(len(diff))) > 3.0  # agents only
    assert fit.best_alpha_ == 0.2
    assert fit.alphas_not_worse_ == [0.2, 0.8]
    assert 0.5 < fit.best_alpha_probability_.loc[0.2] < 0.9
    at = fit.alpha_table_.set_index(["alpha", "metric"])
    assert (at.n_seeds == 4).all()
    # the seed-pooled interval is far wider than any one seed's (agents only)
    one = fit.table_[(fit.table_.model == "learned") & (fit.table_.metric == "spearman")]
    pooled = at.loc[(0.2, "spearman")]
    assert pooled.ci_high - pooled.ci_low > 2.5 * (one.ci_high - one.ci_low).max()


def test_attention_seeds_as_lists_or_keys():
    g, human = _regular_graph()
    rng = np.random.default_rng(6)
    atts = [human * np.exp(rng.normal(size=g.num_edges)) for _ in range(3)]
    by_list = AttentionFit(n_boot=200, n_perm=5).fit(g, {0.5: atts, 1.0: atts[0]}, human)
    by_key = AttentionFit(n_boot=200, n_perm=5).fit(
        g, {**{(0.5, s): a for s, a in enumerate(atts)}, 1.0: atts[0]}, human)
    pd.testing.assert_frame_equal(by_list.alpha_table_, by_key.alpha_table_)
    pd.testing.assert_frame_equal(by_list.table_, by_key.table_)
    assert sorted(by_list.learned_) == [(0.5, 0.0), (0.5, 1.0), (0.5, 2.0), (1.0, 0.0)]
    # one seed: the alpha's interval is that seed's agent bootstrap
    at = by_list.alpha_table_.set_index(["alpha", "metric"])
    t = by_list.table_.set_index(["model", "alpha", "seed", "metric"])
    for m in ("spearman", "js_divergence", "in_importance_spearman"):
        assert at.loc[(1.0, m), "n_seeds"] == 1
        for c in ("value", "ci_low", "ci_high"):
            assert at.loc[(1.0, m), c] == t.loc[("learned", 1.0, 0.0, m), c]
    with pytest.raises(ValueError, match="twice"):
        AttentionFit().fit(g, {0.5: atts[0], (0.5, 0): atts[1]}, human)
