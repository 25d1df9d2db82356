"""Claims and seed-level statistics on synthetic sweeps with planted effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from socialmarl.analysis.claims import VERDICTS, assess_claims, claims_text
from socialmarl.analysis.importance import AttentionFit
from socialmarl.analysis.seeds import (
    alpha_contrast,
    contrast,
    difference_in_differences,
    seed_bootstrap,
    seed_summary,
    seed_t_interval,
    t_contrast,
    welch_df,
)
from socialmarl.networks.generators import stochastic_block_graph
from tests.synthetic_sweep import synthetic_table

SUP, CON, UNR = VERDICTS
NB = 1000


def _means(t: pd.DataFrame, net: str, metric: str) -> pd.Series:
    """Seed means per alpha, straight from the table (not through the module)."""
    d = t[(t.network == net) & (t.metric == metric)]
    return d.groupby("alpha").value.mean()


def _by_name(claims):
    return {c.name: c for c in claims}


# ---------------------------------------------------------------------------- seeds
def test_seed_bootstrap_equals_numpy_percentile_bootstrap():
    v = np.array([0.31, 0.52, 0.47, 0.29, 0.66, 0.41])
    rng = np.random.default_rng(7)
    reps = v[rng.integers(0, v.size, size=(500, v.size))].mean(1)
    want = (v.mean(), *np.quantile(reps, [0.05, 0.95]))
    np.testing.assert_allclose(seed_bootstrap(v, n_boot=500, ci=0.9, seed=7), want)
    # the summary sorts seeds by id before resampling: row order does not matter
    t = pd.DataFrame({"network": "n", "kind": "social", "alpha": 0.5, "seed": [5, 1, 3, 0, 4, 2],
                      "metric": "accuracy_final", "value": v, "ci_low": 0.0, "ci_high": 1.0,
                      "n": 10})
    by_id = t.sort_values("seed").value.to_numpy()
    rng = np.random.default_rng(3)
    reps = by_id[rng.integers(0, 6, size=(400, 6))].mean(1)
    s = seed_summary(t.sample(frac=1.0, random_state=1), method="bootstrap", n_boot=400,
                     ci=0.95, seed=3)
    np.testing.assert_allclose(s[["value", "ci_low", "ci_high"]].to_numpy()[0],
                               [v.mean(), *np.quantile(reps, [0.025, 0.975])])
    assert s.n_seeds.iloc[0] == 6 and s.n.iloc[0] == 60 and s.interval.iloc[0] == "seeds"
    assert s.conformity.iloc[0] == 0.5


def test_seed_bootstrap_covers_the_known_mean_at_about_the_stated_rate():
    rng = np.random.default_rng(11)
    hits = []
    for k in range(300):
        v = rng.normal(0.3, 0.1, size=12)
        _, lo, hi = seed_bootstrap(v, n_boot=400, ci=0.9, seed=k)
        hits.append(lo <= 0.3 <= hi)
    # percentile bootstraps under-cover a little with 12 seeds (about 0.86 for 0.90)
    assert 0.8 <= np.mean(hits) <= 0.96


def test_one_seed_falls_back_to_the_episode_interval():
    t = synthetic_table(seeds=1)
    s = seed_summary(t, n_boot=100)
    assert (s.n_seeds == 1).all() and (s.interval == "episodes (one seed)").all()
    r = t[(t.network == "camp") & (t.alpha == 0.5) & (t.metric == "accuracy_final")].iloc[0]
    got = s[(s.network == "camp") & (s.alpha == 0.5) & (s.metric == "accuracy_final")].iloc[0]
    assert (got.value, got.ci_low, got.ci_high) == (r.value, r.ci_low, r.ci_high)
    c = alpha_contrast(t, "accuracy_final", "camp", 1.0, 0.0)
    assert c.interval == "episodes (one seed)" and c.n_seeds == (1, 1)
    # two independent normal terms of sd 0.02/1.96 (infinite df): the normal interval of
    # the difference, half-width 1.96 * 0.02 * sqrt(2) / 1.96
    z = stats.norm.ppf(0.975)
    assert c.df == np.inf and c.se == pytest.approx(0.02 * np.sqrt(2) / z)
    assert (c.ci_high - c.ci_low) / 2 == pytest.approx(0.02 * np.sqrt(2))
    b = alpha_contrast(t, "accuracy_final", "camp", 1.0, 0.0, method="bootstrap", n_boot=2000)
    assert (b.ci_high - b.ci_low) / 2 == pytest.approx(0.02 * np.sqrt(2), rel=0.1)
    # a one-seed cell beside a cell of 4 seeds: Welch's df counts only the seed term
    t4 = synthetic_table(seeds=4, noise=0.05, rng_seed=9)
    mixed = pd.concat([t4[t4.alpha != 0.0], t4[(t4.alpha == 0.0) & (t4.seed == 2)]])
    m = alpha_contrast(mixed, "accuracy_final", "camp", 1.0, 0.0)
    v = t4[(t4.network == "camp") & (t4.alpha == 1.0) & (t4.metric == "accuracy_final")].value
    one = t4[(t4.network == "camp") & (t4.alpha == 0.0) & (t4.seed == 2)
             & (t4.metric == "accuracy_final")].iloc[0]
    v1, v2 = v.var(ddof=1) / 4, ((one.ci_high - one.ci_low) / (2 * z)) ** 2
    assert m.interval == "seeds and episodes" and m.n_seeds == (4, 1)
    assert m.df == pytest.approx((v1 + v2) ** 2 / (v1 ** 2 / 3))
    half = stats.t.ppf(0.975, m.df) * np.sqrt(v1 + v2)
    assert (m.ci_low, m.ci_high) == pytest.approx((m.estimate - half, m.estimate + half))
    # no episode interval for the one-seed cell: no interval at all
    bare = mixed.assign(ci_low=np.nan, ci_high=np.nan)
    assert alpha_contrast(bare, "accuracy_final", "camp", 1.0, 0.0).interval == "none"


def test_bootstrap_contrasts_resample_each_cell_like_numpy():
    t = synthetic_table(seeds=4, noise=0.05, rng_seed=3)
    c = difference_in_differences(t, "accuracy_final", "bluesky-like", "camp", 1.0, 0.0,
                                  method="bootstrap", n_boot=300, seed=5)
    rng = np.random.default_rng(5)
    reps = np.zeros(300)
    est = 0.0
    for w, net, a in [(1, "bluesky-like", 1.0), (-1, "bluesky-like", 0.0), (-1, "camp", 1.0),
                      (1, "camp", 0.0)]:
        v = t[(t.network == net) & (t.alpha == a) & (t.metric == "accuracy_final")]
        v = v.sort_values("seed").value.to_numpy()
        reps += w * v[rng.integers(0, v.size, size=(300, v.size))].mean(1)
        est += w * v.mean()
    assert c.estimate == pytest.approx(est)
    np.testing.assert_allclose([c.ci_low, c.ci_high], np.quantile(reps, [0.025, 0.975]))
    # paired: one draw of seed ids for every cell
    p = alpha_contrast(t, "accuracy_final", "camp", 1.0, 0.0, paired=True, method="bootstrap",
                       n_boot=300, seed=2)
    rng = np.random.default_rng(2)
    idx = rng.integers(0, 4, size=(300, 4))
    va = t[(t.network == "camp") & (t.alpha == 1.0) & (t.metric == "accuracy_final")]
    vb = t[(t.network == "camp") & (t.alpha == 0.0) & (t.metric == "accuracy_final")]
    d = va.sort_values("seed").value.to_numpy()[idx].mean(1) - \
        vb.sort_values("seed").value.to_numpy()[idx].mean(1)
    np.testing.assert_allclose([p.ci_low, p.ci_high], np.quantile(d, [0.025, 0.975]))
    assert c.method == p.method == "bootstrap" and np.isnan(c.df)
    for method in ("t", "bootstrap"):
        with pytest.raises(ValueError, match="same >= 2 seed ids"):
            contrast(t[~((t.alpha == 0.0) & (t.seed == 0))], "accuracy_final",
                     [(1, "camp", 1.0), (-1, "camp", 0.0)], paired=True, method=method)
    with pytest.raises(ValueError, match="method='normal'"):
        contrast(t, "accuracy_final", [(1, "camp", 1.0)], method="normal")
    with pytest.raises(ValueError, match="method"):
        seed_summary(t, method="percentile")
    with pytest.raises(ValueError, match="no lying_rate value"):
        alpha_contrast(t, "lying_rate", "nowhere", 1.0, 0.0)


def test_t_intervals_equal_scipy():
    v = np.array([0.31, 0.52, 0.47, 0.29, 0.66, 0.41])
    for ci in (0.9, 0.95):
        lo, hi = stats.t.interval(ci, v.size - 1, loc=v.mean(), scale=stats.sem(v))
        np.testing.assert_allclose(seed_t_interval(v, ci=ci), (v.mean(), lo, hi))
    assert np.isnan(seed_t_interval([0.4, np.nan])[1])
    # the summary's default: the t interval of each cell's seeds
    t = synthetic_table(seeds=3, noise=0.05, rng_seed=4)
    s = seed_summary(t)
    for _, r in s.sample(10, random_state=0).iterrows():
        vals = t[(t.network == r.network) & (t.alpha == r.alpha) & (t.metric == r.metric)].value
        want = stats.t.interval(0.95, 2, loc=vals.mean(), scale=stats.sem(vals))
        np.testing.assert_allclose([r.value, r.ci_low, r.ci_high], [vals.mean(), *want])
        assert r.interval == "seeds" and r.seed_sd == pytest.approx(vals.std(ddof=1))


def _cell_values(t, net, alpha, metric="accuracy_final"):
    d = t[(t.network == net) & (t.alpha == alpha) & (t.metric == metric)]
    return d.sort_values("seed").value.to_numpy()


def test_welch_contrast_equals_the_hand_formula_and_scipy():
    t = synthetic_table(seeds=5, noise=0.05, rng_seed=6)
    # unequal seed counts: drop two seeds of one cell
    t = t[~((t.network == "camp") & (t.alpha == 0.0) & t.seed.isin([0, 3]))]
    a, b = _cell_values(t, "camp", 1.0), _cell_values(t, "camp", 0.0)
    c = alpha_contrast(t, "accuracy_final", "camp", 1.0, 0.0)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    df = (va + vb) ** 2 / (va ** 2 / (a.size - 1) + vb ** 2 / (b.size - 1))
    assert c.n_seeds == (5, 3) and c.method == "t" and not c.paired
    assert c.df == pytest.approx(df) and c.se == pytest.approx(np.sqrt(va + vb))
    assert welch_df([va, vb], [a.size - 1, b.size - 1]) == pytest.approx(df)
    ref = stats.ttest_ind(a, b, equal_var=False)
    assert ref.df == pytest.approx(df)
    ci = ref.confidence_interval(0.95)
    assert (c.ci_low, c.ci_high) == pytest.approx((ci.low, ci.high))
    # four cells, weights +-1: the difference in differences
    cells = [(1, "bluesky-like", 1.0), (-1, "bluesky-like", 0.0), (-1, "camp", 1.0),
             (1, "camp", 0.0)]
    d = difference_in_differences(t, "accuracy_final", "bluesky-like", "camp", 1.0, 0.0,
                                  ci=0.9)
    vals = [_cell_values(t, n, al) for _, n, al in cells]
    var = [x.var(ddof=1) / x.size for x in vals]
    df4 = sum(var) ** 2 / sum(v ** 2 / (x.size - 1) for v, x in zip(var, vals))
    est = sum(w * x.mean() for (w, _, _), x in zip(cells, vals))
    half = stats.t.ppf(0.95, df4) * np.sqrt(sum(var))
    assert d.df == pytest.approx(df4) and d.estimate == pytest.approx(est)
    assert (d.ci_low, d.ci_high) == pytest.approx((est - half, est + half))
    # the table-free arithmetic gives the same numbers
    assert t_contrast([w for w, _, _ in cells], vals, ci=0.9) == pytest.approx(
        (d.estimate, d.ci_low, d.ci_high, d.se, d.df))


def test_paired_contrast_is_the_t_interval_of_per_seed_differences():
    rng = np.random.default_rng(8)
    seed_effect = rng.normal(0.0, 0.1, size=5)  # shared by a seed's populations
    rows = [dict(network="ring", alpha=a, seed=s, metric="accuracy_final",
                 value=0.6 + 0.05 * a + seed_effect[s] + rng.normal(0.0, 0.01))
            for a in (0.0, 1.0) for s in range(5)]
    t = pd.DataFrame(rows)
    a, b = _cell_values(t, "ring", 1.0), _cell_values(t, "ring", 0.0)
    p = alpha_contrast(t, "accuracy_final", "ring", 1.0, 0.0, paired=True)
    u = alpha_contrast(t, "accuracy_final", "ring", 1.0, 0.0)
    ci = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert p.paired and p.df == 4.0 and p.se == pytest.approx(stats.sem(a - b))
    assert (p.ci_low, p.ci_high) == pytest.approx((ci.low, ci.high))
    assert p.estimate == pytest.approx(u.estimate)
    # the shared seed effect cancels when paired, not when the cells are taken apart
    assert p.side == 1 and u.side == 0
    assert (p.ci_high - p.ci_low) < 0.3 * (u.ci_high - u.ci_low)
    assert u.df == pytest.approx(stats.ttest_ind(a, b, equal_var=False).df)


def _null_exclusions(n_tables, seeds, *, paired=False, n_cells=2, rng_seed=0):
    """Share of simulated null tables whose 95% t interval of a contrast excludes 0."""
    rng = np.random.default_rng(rng_seed)
    weights = [1.0, -1.0, -1.0, 1.0][:n_cells]
    miss = 0
    for _ in range(n_tables):
        vals = rng.normal(0.5, 0.1, size=(n_cells, seeds))
        _, lo, hi, _, _ = t_contrast(weights, list(vals), paired=paired)
        miss += not (lo <= 0.0 <= hi)
    return miss / n_tables


def test_t_interval_of_a_null_contrast_covers_zero_at_the_nominal_rate():
    # 3 seeds per cell, as in the quick preset; 4000 tables each (a binomial sd of 0.0035)
    for kw in (dict(), dict(paired=True), dict(n_cells=4)):
        cover = 1.0 - _null_exclusions(4000, 3, **kw)
        assert 0.93 <= cover <= 0.975, (kw, cover)
    assert 0.93 <= 1.0 - _null_exclusions(2000, 5, rng_seed=1) <= 0.97
    # the same through the table: contrast() on 300 simulated sweeps of 3 seeds
    rng = np.random.default_rng(2)
    hits = []
    for _ in range(300):
        t = pd.DataFrame({"network": "n", "alpha": np.repeat([0.0, 1.0], 3),
                          "seed": [0, 1, 2] * 2, "metric": "m",
                          "value": rng.normal(0.5, 0.1, size=6)})
        hits.append(contrast(t, "m", [(1, "n", 1.0), (-1, "n", 0.0)]).side == 0)
    assert 0.9 <= np.mean(hits) <= 0.99
    # the percentile bootstrap over 3 seeds is far too narrow: it misses about 21% of the time
    rng = np.random.default_rng(3)
    miss = 0
    for _ in range(1000):
        a, b = rng.normal(0.5, 0.1, size=(2, 3))
        ra = a[rng.integers(0, 3, size=(500, 3))].mean(1)
        rb = b[rng.integers(0, 3, size=(500, 3))].mean(1)
        lo, hi = np.quantile(ra - rb, [0.025, 0.975])
        miss += not (lo <= 0 <= hi)
    assert miss / 1000 > 0.15


def test_summary_warns_when_settings_are_pooled_and_keeps_them_apart_with_by():
    t = synthetic_table(seeds=2)
    t2 = pd.concat([t, t.assign(lr=1e-3, value=t.value + 0.1)], ignore_index=True)
    with pytest.warns(UserWarning, match="lr"):
        seed_summary(t2, n_boot=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = seed_summary(t2, n_boot=50, by=["lr"])
    assert set(s.lr) == {3e-4, 1e-3} and (s.n_seeds == 2).all()


# ---------------------------------------------------------------------------- claims
def test_planted_effects_are_supported_with_the_planted_sizes():
    t = synthetic_table()
    claims = _by_name(assess_claims(t, n_boot=NB))
    assert {k: c.verdict for k, c in claims.items()} == {
        "accuracy": SUP, "lying": SUP, "camp": SUP, "attention": SUP}
    acc = _means(t, "bluesky-like", "accuracy_final")
    assert claims["accuracy"].estimate == pytest.approx(acc[1.0] - acc[0.0])
    assert claims["accuracy"].estimate == pytest.approx(0.3, abs=0.03)
    lie = _means(t, "bluesky-like", "lying_rate")
    assert claims["lying"].estimate == pytest.approx(lie[0.0] - lie[1.0])
    cam = _means(t, "camp", "accuracy_final")
    assert claims["camp"].estimate == pytest.approx((acc[1.0] - acc[0.0]) - (cam[1.0] - cam[0.0]))
    att = _means(t, "bluesky-like", "attention_spearman")
    # best high-conformity alpha (0) minus best low-conformity alpha (0.75)
    assert claims["attention"].estimate == pytest.approx(att[0.0] - att[0.75])
    for c in claims.values():
        assert c.ci_low > 0 and c.ci_low <= c.estimate <= c.ci_high
    # the camp's agreement change is stated beside claim 3
    assert "agreement changes by" in claims["camp"].sentence
    assert "a significant rise" in claims["camp"].sentence


def test_reversed_effects_are_contradicted():
    t = synthetic_table(drop_social=-0.2, drop_camp=0.2, lie=-0.3, att=-0.4)
    claims = _by_name(assess_claims(t, n_boot=NB))
    assert {k: c.verdict for k, c in claims.items()} == {
        "accuracy": CON, "lying": CON, "camp": CON, "attention": CON}
    assert claims["accuracy"].ci_high < 0
    assert "high-conformity alpha is significantly worse" in claims["attention"].reason
    # learned attention worse than a baseline contradicts claim 4 too
    t2 = synthetic_table(att=0.02, uniform=0.6)
    c4 = _by_name(assess_claims(t2, n_boot=NB))["attention"]
    assert c4.verdict == CON and "significantly worse than the uniform" in c4.reason


def test_noise_is_not_resolved():
    counts = {k: 0 for k in ("accuracy", "lying", "camp", "attention")}
    for r in range(10):
        t = synthetic_table(drop_social=0.0, drop_camp=0.0, lie=0.0, att=0.0, agree_gain=0.0,
                            uniform=0.1, popularity=0.1, noise=0.05, rng_seed=100 + r)
        for c in assess_claims(t, n_boot=500, seed=r):
            counts[c.name] += c.verdict == UNR
    # a 95% interval wrongly excludes 0 now and then, rarely more than twice in ten
    assert all(v >= 7 for v in counts.values()), counts


def test_uninformative_beliefs_block_the_lying_verdict():
    t = synthetic_table(belief_acc=0.5, belief_brier=0.25)  # lying planted, beliefs junk
    c = _by_name(assess_claims(t, n_boot=NB))["lying"]
    assert c.verdict == UNR and "beliefs uninformative" in c.reason
    assert any("NOT informative" in d for d in c.details)
    # beliefs informative only from alpha 0.75 up: lying compared between 0.75 and 1
    t = synthetic_table(informative_above=0.6)
    c = _by_name(assess_claims(t, n_boot=NB))["lying"]
    lie = _means(t, "bluesky-like", "lying_rate")
    assert c.estimate == pytest.approx(lie[0.75] - lie[1.0])
    assert "alpha 0.75" in c.compared and c.verdict == SUP
    # belief accuracy and Brier with their baselines beside every lying number
    lying_lines = [d for d in c.details if "lying rate" in d]
    assert len(lying_lines) == 5
    assert all("own signal" in d and "Brier" in d for d in lying_lines)
    # beliefs informative at a single alpha only: nothing to compare
    t = synthetic_table(informative_above=0.9)
    assert _by_name(assess_claims(t, n_boot=NB))["lying"].verdict == UNR
    # no belief metrics at all
    t = synthetic_table()
    t = t[~t.metric.str.startswith("belief_")]
    c = _by_name(assess_claims(t, n_boot=NB))["lying"]
    assert c.verdict == UNR and "belief quality not measured" in c.reason


def test_absent_inputs_are_not_resolved_with_a_reason():
    t = synthetic_table(networks={"bluesky-like": "social"}, human=())
    claims = _by_name(assess_claims(t, n_boot=NB))
    assert claims["accuracy"].verdict == SUP
    assert claims["camp"].verdict == UNR and "no camp" in claims["camp"].reason
    assert claims["attention"].verdict == UNR and "no attention" in claims["attention"].reason
    t = synthetic_table(networks={"camp": "camp"}, human=())
    claims = _by_name(assess_claims(t, n_boot=NB))
    assert claims["accuracy"].verdict == UNR and "no social network" in claims["accuracy"].reason
    # columns beyond the schema (and a missing kind) do not break it
    t = synthetic_table(seeds=3).drop(columns=["kind", "job"]).assign(note="x")
    assert _by_name(assess_claims(t, n_boot=200))["camp"].verdict == SUP
    with pytest.raises(ValueError, match="lacks column"):
        assess_claims(t.drop(columns="seed"))


def _fit(best_alpha: float, worst_alpha: float) -> AttentionFit:
    g = stochastic_block_graph([15, 15], 0.5, 0.2, seed=1, directed=True)
    rng = np.random.default_rng(1)
    human = rng.exponential(size=g.num_edges)
    learned = {}
    for s in range(3):
        learned[(best_alpha, s)] = human * np.exp(0.2 * rng.normal(size=g.num_edges))
        learned[(worst_alpha, s)] = rng.exponential(size=g.num_edges)
    return AttentionFit(n_boot=200, n_perm=20).fit(g, learned, human)


def test_attention_claim_reads_the_fit_when_given():
    t = synthetic_table(human=())
    fit = _fit(0.0, 1.0)
    assert fit.best_alpha_ == 0.0 and fit.alphas_not_worse_ == [0.0]
    c = _by_name(assess_claims(t, {"bluesky-like": fit}, n_boot=NB))["attention"]
    assert c.verdict == SUP
    at = fit.alpha_table_[fit.alpha_table_.metric == "spearman"].set_index("alpha").value
    assert c.estimate == pytest.approx(at[0.0] - at[1.0])
    c = _by_name(assess_claims(t, {"bluesky-like": _fit(1.0, 0.0)}, n_boot=NB))["attention"]
    assert c.verdict == CON
    with pytest.raises(TypeError, match="dict"):
        assess_claims(t, [fit])


def test_claims_text_lists_every_claim_with_verdict_and_numbers():
    t = synthetic_table(informative_above=0.6)
    claims = assess_claims(t, n_boot=NB, ci=0.9)
    text = claims_text(claims)
    for k, c in enumerate(claims, 1):
        assert f"Claim {k} ({c.name})" in text
        assert f"verdict: {c.verdict}" in text
    assert "90% seed-level Student-t interval" in text
    assert f"{claims[0].estimate:+.3f} [{claims[0].ci_low:+.3f}, {claims[0].ci_high:+.3f}]" in text
