"""AttentionFit and its building blocks against scipy, explicit loops and planted answers."""

from __future__ import annotations

import ast
import warnings

import numpy as np
import pytest
import torch
from scipy.spatial.distance import jensenshannon
from scipy.stats import spearmanr

from socialmarl.analysis.importance import (
    AttentionFit,
    edge_weights,
    in_importance,
    permute_within_rows,
    popularity_attention,
    row_normalise,
    rowwise_js_divergence,
    rowwise_spearman,
    uniform_attention,
)
from socialmarl.networks.generators import complete_graph, erdos_renyi_graph
from socialmarl.networks.graph import Graph
from tests.real_data import real_data


def _graph(seed=0, n=40, p=0.2):
    return erdos_renyi_graph(n, p, seed=seed, directed=True)


def _rows(g):
    """{receiver: [edge ids]} by an explicit loop."""
    out: dict[int, list[int]] = {}
    for k, (j, i) in enumerate(g.edge_index.T.tolist()):
        if i != j:
            out.setdefault(i, []).append(k)
    return out


def _t(fit, model="learned", metric="spearman", col="value", alpha=None):
    t = fit.table_[(fit.table_.model == model) & (fit.table_.metric == metric)]
    if alpha is not None:
        t = t[np.isclose(t.alpha, alpha)]
    assert len(t) >= 1
    return t[col].to_numpy()


# ------------------------------------------------------------------ building blocks
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rowwise_spearman_and_js_match_scipy(seed):
    g = _graph(seed)
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, g.num_edges).astype(float)  # many ties
    b = rng.random(g.num_edges)
    b[rng.random(g.num_edges) < 0.2] = 0.0  # zeros in the distributions
    rho = rowwise_spearman(g, a, b)
    js = rowwise_js_divergence(g, a + 0.5, b)
    checked = 0
    for i, ks in _rows(g).items():
        x, y = a[ks], b[ks]
        if len(ks) >= 2 and np.ptp(x) > 0 and np.ptp(y) > 0:
            assert rho[i] == pytest.approx(spearmanr(x, y).statistic, abs=1e-12)
            checked += 1
        else:
            assert np.isnan(rho[i])
        if y.sum() > 0:
            ref = jensenshannon(x + 0.5, y, base=2) ** 2
            assert js[i] == pytest.approx(ref, abs=1e-12)
        else:
            assert np.isnan(js[i])
    assert checked > 20
    lonely = np.setdiff1d(np.arange(g.num_nodes), list(_rows(g)))
    assert np.all(np.isnan(rho[lonely]))


def test_in_importance_popularity_uniform_match_loops():
    g = _graph(3)
    rng = np.random.default_rng(3)
    w = rng.random(g.num_edges)
    rows = _rows(g)
    snd = g.edge_index[0].numpy()
    ref = np.zeros(g.num_nodes)
    for _, ks in rows.items():
        for k in ks:
            ref[snd[k]] += w[k] / w[ks].sum()
    np.testing.assert_allclose(in_importance(g, w), ref)
    np.testing.assert_allclose(row_normalise(g, w)[rows[5]].sum(), 1.0)
    pop = rng.integers(0, 50, g.num_nodes).astype(float)
    pa, ua = popularity_attention(g, pop), uniform_attention(g)
    outdeg = np.bincount(snd, minlength=g.num_nodes)
    pd_ = popularity_attention(g)
    for _, ks in rows.items():
        p = pop[snd[ks]]
        np.testing.assert_allclose(pa[ks], p / p.sum() if p.sum() > 0 else 1 / len(ks))
        np.testing.assert_allclose(ua[ks], 1 / len(ks))
        np.testing.assert_allclose(pd_[ks], outdeg[snd[ks]] / outdeg[snd[ks]].sum())


def test_permute_within_rows_keeps_each_row_and_is_seeded():
    g = _graph(4)
    w = np.random.default_rng(4).random(g.num_edges)
    p = permute_within_rows(g, w, 30, seed=7)
    assert p.shape == (30, g.num_edges)
    for _, ks in _rows(g).items():
        for r in range(30):
            np.testing.assert_allclose(np.sort(p[r, ks]), np.sort(w[ks]))
    assert not np.allclose(p[0], p[1])
    np.testing.assert_array_equal(p, permute_within_rows(g, w, 30, seed=7))
    assert not np.array_equal(p, permute_within_rows(g, w, 30, seed=8))


def test_input_forms_agree_and_orientation_warning():
    g = _graph(5, n=15, p=0.4)
    w = np.random.default_rng(5).random(g.num_edges)
    dense = g.with_weights(w).adjacency(weighted=True).numpy()
    np.fill_diagonal(dense, 0.3)  # self-attention on the diagonal is fine
    np.testing.assert_allclose(edge_weights(g, dense), w)
    np.testing.assert_allclose(edge_weights(g, torch.as_tensor(w)), w)
    np.testing.assert_allclose(edge_weights(g, (w, np.ones(g.num_nodes))), w)
    # a nested list is a dense matrix even where N == E (two agents observing each other)
    g2 = Graph(2, [[0, 1], [1, 0]])
    np.testing.assert_allclose(edge_weights(g2, [[0.0, 0.4], [0.6, 0.0]]), [0.4, 0.6])
    with pytest.raises(ValueError, match="self weights"):
        edge_weights(g, (w, np.ones(3)))
    with pytest.warns(UserWarning, match="orientation"):
        edge_weights(g, dense.T)
    with pytest.raises(ValueError, match="per-edge values"):
        edge_weights(g, w[:-1])
    bad = w.copy()
    bad[2] = -1.0
    with pytest.raises(ValueError, match="negative"):
        edge_weights(g, bad)
    bad[2] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        edge_weights(g, bad)


# ------------------------------------------------------------------ the fit
def test_learned_equal_to_human_is_perfect_and_beats_baselines():
    g = _graph(6, n=50)
    human = np.random.default_rng(6).exponential(size=g.num_edges)
    fit = AttentionFit(n_boot=300, n_perm=99, seed=1).fit(g, human * 3.0, human)
    assert _t(fit, metric="spearman")[0] == pytest.approx(1.0)
    assert _t(fit, metric="js_divergence")[0] == pytest.approx(0.0, abs=1e-12)
    assert _t(fit, metric="in_importance_spearman")[0] == pytest.approx(1.0)
    for base in ("uniform", "popularity", "permuted_human"):
        for m in ("spearman", "in_importance_spearman"):
            assert _t(fit, metric=m)[0] > _t(fit, base, m, "ci_high")[0]
        assert _t(fit, metric="js_divergence")[0] < _t(fit, base, "js_divergence", "ci_low")[0]
    for m in ("spearman", "js_divergence"):
        assert _t(fit, metric=m, col="p_value")[0] == pytest.approx(1 / 100)
    # the per-agent table holds exactly the eligible agents
    deg = np.bincount(g.edge_index[1].numpy(), minlength=g.num_nodes)
    assert np.array_equal(fit.eligible_, deg >= 3)
    learned_rows = fit.per_agent_[fit.per_agent_.model == "learned"]
    assert np.array_equal(learned_rows.agent, np.nonzero(deg >= 3)[0])
    assert np.allclose(learned_rows.spearman, 1.0)


def test_random_attention_is_indistinguishable_from_permutation_null():
    g = _graph(7, n=50)
    rng = np.random.default_rng(7)
    human = rng.exponential(size=g.num_edges)
    pvals = []
    for k in range(40):
        learned = rng.dirichlet(np.ones(g.num_edges)) * 100
        fit = AttentionFit(n_boot=50, n_perm=99, seed=k).fit(g, learned, human)
        pvals.append(_t(fit, metric="spearman", col="p_value")[0])
        if k < 5:
            lo = _t(fit, "permuted_human", "spearman", "ci_low")[0]
            hi = _t(fit, "permuted_human", "spearman", "ci_high")[0]
            assert lo <= _t(fit, metric="spearman")[0] <= hi
            assert abs(_t(fit, "permuted_human", "spearman")[0]) < 0.05
    pvals = np.array(pvals)
    # under the null the p-values are roughly uniform
    assert 0.0 <= np.mean(pvals < 0.1) <= 0.25
    assert 0.35 <= np.mean(pvals) <= 0.65


def test_planted_best_alpha_is_found_with_uncertainty():
    g = _graph(8, n=60)
    rng = np.random.default_rng(8)
    human = rng.exponential(size=g.num_edges)
    noise = {0.0: 1.5, 0.3: 0.2, 0.6: 1.0, 1.0: 2.5}  # alpha 0.3 is constructed closest
    learned = {(a, s): human * np.exp(rng.normal(size=g.num_edges) * sd)
               for a, sd in noise.items() for s in range(3)}
    fit = AttentionFit(n_boot=400, n_perm=20, seed=0).fit(g, learned, human)
    assert fit.best_alpha_ == 0.3
    assert fit.best_alpha_probability_.loc[0.3] > 0.95
    assert fit.best_alpha_probability_.sum() == pytest.approx(1.0)
    assert fit.alphas_not_worse_ == [0.3]
    at = fit.alpha_table_.set_index(["alpha", "metric"])
    assert list(at.index.levels[0]) == [0.0, 0.3, 0.6, 1.0]
    assert (at.n_seeds == 3).all()
    # pooled value = mean over seeds of the per-seed values
    for a in noise:
        per_seed = _t(fit, metric="spearman", alpha=a)
        assert at.loc[(a, "spearman"), "value"] == pytest.approx(per_seed.mean())
        assert at.loc[(a, "spearman"), "ci_low"] <= at.loc[(a, "spearman"), "value"]
    # the JS criterion agrees
    fit_js = AttentionFit(n_boot=200, n_perm=10, criterion="js_divergence").fit(g, learned, human)
    assert fit_js.best_alpha_ == 0.3
    # two equally good alphas: both are "not significantly worse"
    tie = {0.2: human * np.exp(rng.normal(size=g.num_edges) * 0.5),
           0.4: human * np.exp(rng.normal(size=g.num_edges) * 0.5),
           0.9: rng.random(g.num_edges)}
    ft = AttentionFit(n_boot=400, n_perm=10).fit(g, tie, human)
    assert set(ft.alphas_not_worse_) == {0.2, 0.4}


def test_eligibility_rules_and_constant_rows():
    # agent 0 observes 1..4, agent 1 observes 0 and 2 (too few), agent 2 observes 0, 1, 3
    # with constant human weights (not eligible)
    edges = [(1, 0), (2, 0), (3, 0), (4, 0), (0, 1), (2, 1), (0, 2), (1, 2), (3, 2)]
    human = {e: w for e, w in zip(edges, [1, 2, 3, 4, 5, 6, 1, 1, 1])}
    g = Graph.from_edges(5, edges, [human[e] for e in edges])
    fit = AttentionFit(n_boot=20, n_perm=10).fit(g, uniform_attention(g))
    assert fit.eligible_.tolist() == [True, False, False, False, False]
    # a constant learned row counts as correlation 0 (no ranking), not as missing
    assert _t(fit, metric="spearman")[0] == 0.0
    with pytest.raises(ValueError, match="min_neighbours"):
        AttentionFit(min_neighbours=5).fit(g, uniform_attention(g))
    with pytest.raises(ValueError, match="no human weights"):
        AttentionFit().fit(Graph(5, g.edge_index), uniform_attention(g))
    with pytest.raises(ValueError, match="keys must be alpha"):
        AttentionFit().fit(g, {"a": uniform_attention(g)})


def test_zero_learned_row_falls_back_to_uniform_with_warning():
    g = complete_graph(6)
    human = np.random.default_rng(0).random(g.num_edges)
    learned = human.copy()
    learned[g.edge_index[1].numpy() == 2] = 0.0
    with pytest.warns(UserWarning, match="treated as uniform"):
        fit = AttentionFit(n_boot=20, n_perm=10).fit(g, learned, human)
    row = next(iter(fit.learned_.values()))
    np.testing.assert_allclose(row[g.edge_index[1].numpy() == 2], 0.2)


def test_bootstrap_intervals_contain_values_and_are_seeded():
    g = _graph(9, n=50)
    rng = np.random.default_rng(9)
    human = rng.exponential(size=g.num_edges)
    learned = human * np.exp(rng.normal(size=g.num_edges))
    f1 = AttentionFit(n_boot=300, n_perm=50, seed=3).fit(g, learned, human)
    f2 = AttentionFit(n_boot=300, n_perm=50, seed=3).fit(g, learned, human)
    assert f1.table_.equals(f2.table_)
    t = f1.table_[f1.table_.model != "uniform"]
    assert ((t.ci_low <= t.value + 1e-12) & (t.value <= t.ci_high + 1e-12)).all()
    # the bootstrap over agents: the CI of the mean Spearman is about 4 standard errors wide
    rho = f1.per_agent_[f1.per_agent_.model == "learned"].spearman.to_numpy()
    se = rho.std() / np.sqrt(len(rho))
    width = _t(f1, col="ci_high")[0] - _t(f1, col="ci_low")[0]
    assert 2.5 * se < width < 5.5 * se
    assert f1.score() == pytest.approx(rho.mean())


def test_congress_twitter_real_weights():
    path = real_data("congress_twitter") / "congress.edgelist"
    edges, weights = [], []
    for line in path.read_text().splitlines():
        parts = line.split(maxsplit=2)
        if len(parts) < 3:
            continue
        w = parts[2].strip()
        w = ast.literal_eval(w)["weight"] if w.startswith("{") else float(w)
        # i -> j with weight w: "i influences j", read as j's attention to i:
        # j (receiver) attends to i (sender)
        edges.append((int(parts[0]), int(parts[1])))
        weights.append(w)
    g = Graph.from_edges(475, edges, weights, merge="sum", name="congress")
    assert g.num_edges == 13289
    rng = np.random.default_rng(0)
    noisy = g.edge_weight.numpy() * np.exp(rng.normal(size=g.num_edges))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = AttentionFit(n_boot=200, n_perm=50).fit(g, {1.0: noisy, 0.5: g.edge_weight})
    assert fit.best_alpha_ == 0.5
    assert fit.score(alpha=0.5) == pytest.approx(1.0)
    assert 0.2 < fit.score(alpha=1.0) < 0.99
    perm = _t(fit, "permuted_human", "spearman")[0]
    assert abs(perm) < 0.05
    assert fit.eligible_.sum() > 300
