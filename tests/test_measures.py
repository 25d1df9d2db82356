"""The measures of socialmarl.game.measures against slow loops, and every number two ways.

Each measure is checked against an obviously correct reference written with plain Python
loops over agents and edges, on random outputs with waits, inactive edges, self loops, an
edgeless graph and steps where nobody guesses. Then the evaluation record's ``summary()``
and ``steps_frame()`` are computed a second way, by :mod:`socialmarl.analysis.metrics`,
and must agree number for number (the issue's two-way test).
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

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


# ------------------------------------------------------------------ random inputs
def random_outputs(seed: int, shape=(4, 5, 7), p_wait: float = 0.3) -> torch.Tensor:
    """Codes 0/1/2 with waits; one step where everybody waits."""
    rng = np.random.default_rng(seed)
    o = rng.integers(0, 2, size=shape)
    o[rng.random(shape) < p_wait] = 2
    o[(0,) * (len(shape) - 1)] = 2  # nobody guesses at the first step of the first episode
    return torch.as_tensor(o)


def random_edges(seed: int, n: int = 7, p: float = 0.35) -> torch.Tensor:
    """A directed edge list with a duplicate edge and self loops (which must be ignored)."""
    rng = np.random.default_rng(seed)
    src, dst = np.nonzero(rng.random((n, n)) < p)
    ei = np.stack([src, dst])
    ei = np.concatenate([ei, [[0, 1], [0, 1]], ei[:, :1]], axis=1)  # self loops, a duplicate
    return torch.as_tensor(ei)


def random_active(seed: int, lead: tuple[int, ...], e: int) -> torch.Tensor:
    rng = np.random.default_rng(seed)
    act = rng.random((*lead, e)) < 0.5
    act[(1,) * len(lead)] = False  # a step with no active edge
    return torch.as_tensor(act)


def rows(x: torch.Tensor) -> np.ndarray:
    """(..., K) -> (M, K) NumPy rows for the loops."""
    return x.reshape(-1, x.shape[-1]).numpy()


# ------------------------------------------------------------------ slow references
def ref_accuracy(o, truth):
    return [sum(int(a == t) for a in row) / len(row) for row, t in zip(o, truth)]


def ref_edge_counts(o, edges, active=None):
    out = {"agree": [], "disagree": [], "active": []}
    for r, row in enumerate(o):
        agree = dis = tot = 0
        for k, (j, i) in enumerate(edges):
            if j == i or (active is not None and not active[r][k]):
                continue
            tot += 1
            if row[j] != 2 and row[i] != 2:
                agree += int(row[j] == row[i])
                dis += int(row[j] != row[i])
        out["agree"].append(agree)
        out["disagree"].append(dis)
        out["active"].append(tot)
    return out


def ref_share(num, den):
    return [a / b if b else math.nan for a, b in zip(num, den)]


def ref_entropy(o):
    out = []
    for row in o:
        g = [int(a) for a in row if a != 2]
        if not g:
            out.append(1.0)
            continue
        p = sum(g) / len(g)
        out.append(0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p)))
    return out


def ref_consensus(ep, thr):
    t, n = len(ep), len(ep[0])
    for s in range(t):
        for g in (0, 1):
            if all(sum(int(ep[u][i] == g) for i in range(n)) >= thr * n for u in range(s, t)):
                return float(s)
    return math.nan


def ref_moments(values):
    x = [v for v in values if not math.isnan(v)]
    if len(x) < 2:
        return math.nan, math.nan
    mu = sum(x) / len(x)
    m2, m3, m4 = (sum((v - mu) ** k for v in x) / len(x) for k in (2, 3, 4))
    if m2 <= 1e-12 * max(1.0, mu * mu):
        return m2, math.nan
    return m2, (m3**2 / m2**3 + 1) / (m4 / m2**2)


def close(got, want, atol=1e-12):
    np.testing.assert_allclose(np.asarray(got, dtype=float).reshape(-1),
                               np.asarray(want, dtype=float).reshape(-1), atol=atol, rtol=0)


# ------------------------------------------------------------------ per-step measures
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_step_measures_match_loops(seed, device):
    o = random_outputs(seed)
    truth = torch.as_tensor(np.random.default_rng(seed).integers(0, 2, size=(4, 1)))
    ei = random_edges(seed)
    edges = ei.T.tolist()
    act = random_active(seed, (4, 5), ei.shape[1])
    od, ed, ad = o.to(device), ei.to(device), act.to(device)
    flat, tflat = rows(o), truth.expand(4, 5).reshape(-1).tolist()
    close(ms.accuracy(od, truth.to(device)).cpu(), ref_accuracy(flat, tflat))
    close(ms.entropy(od).cpu(), ref_entropy(flat))
    close(ms.wait_rate(od).cpu(), [sum(int(a == 2) for a in r) / len(r) for r in flat])
    for active in (None, act):
        ref = ref_edge_counts(flat, edges, None if active is None else rows(active))
        got = ms.edge_counts(od, ed, None if active is None else ad)
        for k in ("agree", "disagree", "active"):
            assert got[k].shape == (4, 5) and got[k].dtype == torch.float64
            close(got[k].cpu(), ref[k])
        close(ms.agreement(od, ed, None if active is None else ad).cpu(),
              ref_share(ref["agree"], ref["active"]))
        close(ms.disagreement(od, ed, None if active is None else ad).cpu(),
              ref_share(ref["disagree"], ref["active"]))
    assert torch.isnan(ms.agreement(od, ed, ad)[1, 1])  # no active edge -> NaN


def test_edgeless_graph_and_self_loops_only_give_nan():
    o = random_outputs(3)
    for ei in (torch.zeros((2, 0), dtype=torch.long), torch.tensor([[0, 3], [0, 3]])):
        c = ms.edge_counts(o, ei)
        assert (c["active"] == 0).all() and (c["agree"] == 0).all()
        assert torch.isnan(ms.agreement(o, ei)).all() and torch.isnan(ms.disagreement(o, ei)).all()


def test_nobody_guessing():
    o = torch.full((2, 3, 4), 2)
    ei = torch.tensor([[0, 1, 2], [1, 2, 3]])
    assert (ms.entropy(o) == 1.0).all() and (ms.accuracy(o, 1) == 0).all()
    assert (ms.wait_rate(o) == 1).all()
    assert (ms.agreement(o, ei) == 0).all() and (ms.disagreement(o, ei) == 0).all()
    assert torch.isnan(ms.lying_rate(torch.zeros(2, 3, 4, dtype=torch.bool), o)).all()
    assert torch.isnan(ms.consensus_time(o)).all()
    assert torch.isnan(ms.group_opinions(o, torch.tensor([0, 0, 1, 1]))).all()
    assert torch.isnan(ms.opinion_bimodality(o)).all()


def test_one_step_and_episodes_agree():
    # the game calls the measures on one step (B, N), analysis on (B, T, N)
    o, ei = random_outputs(4), random_edges(4)
    act = random_active(4, (4, 5), ei.shape[1])
    truth = torch.tensor([0, 1, 1, 0])
    for t in range(5):
        step = o[:, t]
        torch.testing.assert_close(ms.accuracy(step, truth), ms.accuracy(o, truth[:, None])[:, t])
        torch.testing.assert_close(ms.entropy(step), ms.entropy(o)[:, t])
        torch.testing.assert_close(ms.agreement(step, ei, act[:, t]),
                                   ms.agreement(o, ei, act)[:, t], equal_nan=True)
    # one agent vector (N,) gives a scalar; an (E,) mask broadcasts over all leading axes
    assert ms.agreement(o[0, 0], ei).shape == ()
    mask = torch.arange(ei.shape[1]) % 2 == 0
    torch.testing.assert_close(ms.agreement(o, ei, mask),
                               ms.agreement(o, ei, mask.expand(4, 5, -1)), equal_nan=True)


def test_subsets_count_like_masks_and_chunks_do_not_matter(monkeypatch):
    o, ei = random_outputs(5, shape=(6, 4, 7)), random_edges(5)
    act = random_active(5, (6, 4), ei.shape[1])
    subsets = torch.as_tensor(np.random.default_rng(5).random((3, ei.shape[1])) < 0.5)
    whole = ms.edge_counts(o, ei, act, subsets=subsets)
    monkeypatch.setattr(ms, "_CHUNK_ELEMS", 7)  # several row chunks
    for active in (None, act):
        chunked = ms.edge_counts(o, ei, active, subsets=subsets)
        for k in range(3):
            mask = subsets[k] if active is None else active & subsets[k]
            one = ms.edge_counts(o, ei, mask)
            for key in ("agree", "disagree", "active"):
                torch.testing.assert_close(chunked[key][..., k], one[key])
                if active is not None:
                    torch.testing.assert_close(whole[key][..., k], one[key])


# ------------------------------------------------------------------ per-episode measures
@pytest.mark.parametrize("device", DEVICES)
def test_consensus_time_matches_loops(device):
    rng = np.random.default_rng(6)
    o = torch.as_tensor(rng.integers(0, 2, size=(30, 6, 5)))
    o[rng.random(o.shape) < 0.05] = 2
    o[:10, 2:] = 1  # some lasting consensus
    for thr in (0.6, 0.8, 1.0):
        want = [ref_consensus(ep.tolist(), thr) for ep in o]
        close(ms.consensus_time(o.to(device), thr).cpu(), want)
    with pytest.raises(ValueError, match="threshold"):
        ms.consensus_time(o, 0.5)


@pytest.mark.parametrize("seed", [0, 1])
def test_lying_matches_loops(seed):
    rng = np.random.default_rng(seed)
    o = random_outputs(seed)
    belief = torch.as_tensor(rng.random(o.shape))
    belief[0, 2, :3] = 0.5  # undecided beliefs never lie
    lie = ms.lies(o, belief)
    for idx in np.ndindex(*o.shape):
        a, b = int(o[idx]), float(belief[idx])
        assert bool(lie[idx]) == (a != 2 and (b - 0.5) * (a - 0.5) < 0)
    for e in range(o.shape[0]):
        guesses = sum(int(a != 2) for row in o[e].tolist() for a in row)
        n_lies = sum(int(x) for row in lie[e].tolist() for x in row)
        want = n_lies / guesses if guesses else math.nan
        close(ms.lying_rate(lie, o)[e], want)
        liars = [any(lie[e, t, i] for t in range(o.shape[1])) for i in range(o.shape[2])]
        close(ms.ever_lied(lie)[e], sum(liars) / len(liars))
    # per step: pass the step axis as a one-step episode
    per_step = ms.lying_rate(lie[..., None, :], o[..., None, :])
    for e, t in np.ndindex(*o.shape[:2]):
        g = int((o[e, t] != 2).sum())
        close(per_step[e, t], int(lie[e, t].sum()) / g if g else math.nan)


# ------------------------------------------------------------------ polarisation
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("seed", [0, 3])
def test_polarisation_matches_loops(seed, device):
    rng = np.random.default_rng(seed)
    o, ei = random_outputs(seed, shape=(3, 4, 9)), random_edges(seed, n=9)
    groups = torch.as_tensor(rng.integers(0, 3, size=9))
    groups[:3] = torch.tensor([0, 1, 2])  # every group exists
    act = random_active(seed, (3, 4), ei.shape[1])
    p = ms.polarisation(o.to(device), ei.to(device), groups.to(device), act.to(device))
    p = {k: v.cpu() for k, v in p.items()}
    means = ms.group_opinions(o, groups)
    edges = ei.T.tolist()
    cross = [int(groups[j]) != int(groups[i]) for j, i in edges]
    flat, flat_act = rows(o), rows(act)
    for name, keep in (("edge_disagreement", [True] * len(edges)),
                       ("cross_disagreement", cross),
                       ("within_disagreement", [not c for c in cross])):
        sub = [[a and k for a, k in zip(r, keep)] for r in flat_act]
        ref = ref_edge_counts(flat, edges, sub)
        close(p[name], ref_share(ref["disagree"], ref["active"]))
    for r, row in enumerate(flat):
        ref_means = []
        for k in range(3):
            members = [int(row[i]) for i in range(9) if int(groups[i]) == k and row[i] != 2]
            ref_means.append(sum(members) / len(members) if members else math.nan)
        close(means.reshape(-1, 3)[r], ref_means)
        var, bc = ref_moments(ref_means)
        valid = [m for m in ref_means if not math.isnan(m)]
        close(p["group_variance"].reshape(-1)[r], var)
        close(p["group_bimodality"].reshape(-1)[r], bc)
        close(p["group_gap"].reshape(-1)[r], max(valid) - min(valid) if len(valid) > 1
              else math.nan)


def test_bimodality_and_opinion_bimodality_match_loops():
    rng = np.random.default_rng(7)
    x = torch.as_tensor(rng.random((20, 6)))
    x[rng.random(x.shape) < 0.3] = math.nan
    x[0] = 0.25  # zero variance
    close(ms.bimodality_coefficient(x), [ref_moments(r.tolist())[1] for r in x])
    assert ms.bimodality_coefficient(torch.tensor([0.0, 1.0])).item() == pytest.approx(1.0)
    o = random_outputs(7, shape=(5, 8, 12))
    for e in range(5):
        per_agent = []
        for i in range(12):
            g = [int(a) for a in o[e, :, i].tolist() if a != 2]
            per_agent.append(sum(g) / len(g) if g else math.nan)
        close(ms.opinion_bimodality(o)[e], ref_moments(per_agent)[1])


def test_return_and_signal_accuracy_match_loops():
    rng = np.random.default_rng(8)
    r = torch.as_tensor(rng.normal(size=(3, 4, 5)))
    want = [sum(sum(float(r[e, t, i]) for t in range(4)) for i in range(5)) / 5 for e in range(3)]
    close(ms.mean_return(r), want)
    s = torch.tensor([[0.9, 0.5, 0.1], [0.5, 0.6, 0.2]])
    assert ms.signal_accuracy(s, torch.tensor([1, 0])).tolist() == pytest.approx([1 / 3, 2 / 3])


# ------------------------------------------------------------------ belief quality
def test_belief_accuracy_and_brier_match_loops():
    rng = np.random.default_rng(21)
    b_, t_, n_ = 6, 4, 9
    bel = rng.random((b_, t_, n_))
    bel[rng.random(bel.shape) < 0.2] = 0.5  # exactly 0.5: leans nowhere, counts as wrong
    bel[0, 0] = 0.5  # a step where every head is a coin flip
    truth = rng.integers(0, 2, size=b_)
    acc = np.zeros((b_, t_))
    brier = np.zeros((b_, t_))
    for e in range(b_):
        for s in range(t_):
            right = 0
            sq = 0.0
            for i in range(n_):
                x = float(bel[e, s, i])
                right += (x > 0.5) if truth[e] == 1 else (x < 0.5)
                sq += (x - truth[e]) ** 2
            acc[e, s], brier[e, s] = right / n_, sq / n_
    bt, tt = torch.as_tensor(bel).float(), torch.as_tensor(truth)
    got_acc, got_brier = ms.belief_accuracy(bt, tt[:, None]), ms.belief_brier(bt, tt[:, None])
    assert got_acc.dtype == got_brier.dtype == torch.float64
    np.testing.assert_allclose(got_acc.numpy(), acc, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got_brier.numpy(), brier, rtol=0, atol=1e-6)  # float32 input
    assert acc[0, 0] == 0.0 and brier[0, 0] == pytest.approx(0.25)
    # one step (B, N) with truth (B,)
    np.testing.assert_allclose(ms.belief_accuracy(bt[:, -1], tt).numpy(), acc[:, -1], atol=0)
    # closed forms: sure and right 1 / 0, sure and wrong 0 / 1
    sure = torch.tensor([[1.0, 1.0], [0.0, 0.0]])
    assert ms.belief_accuracy(sure, torch.tensor([1, 1])).tolist() == [1.0, 0.0]
    assert ms.belief_brier(sure, torch.tensor([1, 1])).tolist() == [0.0, 1.0]


def bayes_posterior(x: np.ndarray, sigma: float) -> np.ndarray:
    """P(Psi = 1 | x) by the ratio of the two Gaussian densities (uniform prior)."""
    from scipy.stats import norm

    log_ratio = norm.logpdf(x, loc=0.0, scale=sigma) - norm.logpdf(x, loc=1.0, scale=sigma)
    return 1.0 / (1.0 + np.exp(log_ratio))


@pytest.mark.parametrize("sigma", [0.2, 0.5, 1.0, 3.0])
def test_signal_posterior_is_bayes_rule(sigma):
    x = np.concatenate([np.linspace(-2.0, 3.0, 41), [0.5, 0.0, 1.0]])
    got = ms.signal_posterior(torch.as_tensor(x), sigma)
    assert got.dtype == torch.float64 and got.shape == (x.size,)
    np.testing.assert_allclose(got.numpy(), bayes_posterior(x, sigma), rtol=1e-9, atol=1e-12)
    assert ms.signal_posterior(torch.tensor([0.5]), sigma).item() == 0.5  # no signal: exactly
    # symmetry: the posterior of 1 - x is one minus that of x
    np.testing.assert_allclose(ms.signal_posterior(torch.as_tensor(1.0 - x), sigma).numpy(),
                               1.0 - got.numpy(), atol=1e-12)


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, True, "1"])
def test_signal_posterior_refuses_bad_sigma(bad):
    with pytest.raises(ValueError, match=r"sigma=.*GameConfig\.sigma"):
        ms.signal_posterior(torch.tensor([0.5]), bad)
    with pytest.raises(ValueError, match="sigma"):
        ms.signal_brier(torch.tensor([[0.5]]), torch.tensor([1]), bad)


def expected_signal_brier(sigma: float) -> float:
    """E[(P(Psi = 1 | X) - Psi)^2] for X = Psi + sigma * eps, by numerical integration.

    By symmetry (the posterior of 1 - x is 1 - that of x) Psi = 0 and Psi = 1 give the
    same value, so integrate over X ~ N(1, sigma^2) with Psi = 1.
    """
    from scipy.integrate import quad
    from scipy.stats import norm

    def f(x):
        return (bayes_posterior(np.array([x]), sigma)[0] - 1.0) ** 2 * norm.pdf(x, 1.0, sigma)

    val, err = quad(f, 1.0 - 12 * sigma, 1.0 + 12 * sigma, limit=200, points=[0.5])
    assert err < 1e-6  # far below the Monte Carlo error it is compared with
    return val


@pytest.mark.parametrize("sigma,p_signal", [(0.3, 1.0), (1.0, 1.0), (2.0, 1.0), (1.0, 0.6)])
def test_signal_brier_of_game_signals_matches_the_integral(sigma, p_signal):
    """Signals drawn by the game itself: the posterior must fit its noise model."""
    g = sm.ring_graph(40)
    game = sm.ConsensusGame(g, num_envs=5000, seed=3, sigma=sigma, p_signal=p_signal)
    obs = game.reset()
    sb = ms.signal_brier(obs.signal, game.truth, sigma)  # (B,)
    assert sb.shape == (5000,) and sb.dtype == torch.float64
    # agents without a signal (0.5) score 0.25 exactly
    want = p_signal * expected_signal_brier(sigma) + (1 - p_signal) * 0.25
    se = float(((ms.signal_posterior(obs.signal, sigma) - game.truth[:, None].double()) ** 2)
               .std()) / math.sqrt(obs.signal.numel())
    assert float(sb.mean()) == pytest.approx(want, abs=5 * se + 1e-6)
    # and the posterior is calibrated: among signals with posterior near p, Psi = 1 at rate
    # p (the agents of one episode share Psi, so the error is counted in episodes)
    post = ms.signal_posterior(obs.signal, sigma).numpy()
    psi = game.truth[:, None].expand_as(obs.signal).numpy()
    for lo in np.arange(0.0, 1.0, 0.1):
        sel = (post >= lo) & (post < lo + 0.1)
        episodes = int(sel.any(1).sum())
        if episodes > 500 and sel.sum() > 1000:
            p = post[sel].mean()
            tol = 4 * math.sqrt(max(p * (1 - p), 0.01) / episodes)
            assert psi[sel].mean() == pytest.approx(p, abs=tol), lo


def test_signal_brier_closed_forms():
    # no signal anywhere: a coin flip, 0.25; signals far out on the truth's side: ~0
    assert ms.signal_brier(torch.full((3, 4), 0.5), torch.tensor([0, 1, 1]), 1.0).tolist() \
        == [0.25] * 3
    far = torch.tensor([[-50.0, -40.0], [50.0, 60.0]])
    assert ms.signal_brier(far, torch.tensor([0, 1]), 1.0).tolist() == pytest.approx([0, 0])
    assert ms.signal_brier(far, torch.tensor([1, 0]), 1.0).tolist() == pytest.approx([1, 1])
    # against a NumPy recomputation on random signals
    rng = np.random.default_rng(4)
    x, truth = rng.normal(0.5, 1.0, size=(5, 7)), rng.integers(0, 2, size=5)
    p = 1.0 / (1.0 + np.exp(-(2 * x - 1) / (2 * 0.8**2)))
    want = ((p - truth[:, None]) ** 2).mean(1)
    got = ms.signal_brier(torch.as_tensor(x), torch.as_tensor(truth), 0.8)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


# ------------------------------------------------------------------ every number two ways
#: EvalRecord.summary() key -> its metrics.summarise() row
SUMMARY_TO_METRIC = {
    "accuracy": "accuracy_mean",
    "final_accuracy": "accuracy_final",
    "agreement": "agreement_mean",
    "final_agreement": "agreement_final",
    "entropy": "entropy_mean",
    "lying_rate": "lying_rate",
    "ever_lied": "ever_lied",
    "wait_rate": "wait_rate",
    "mean_return": "mean_return",
    "signal_accuracy": "signal_accuracy",
    "belief_accuracy": "belief_accuracy_final",
    "belief_brier": "belief_brier_final",
    "signal_brier": "signal_brier",
}


def summarised(rec: EvalRecord):
    return metrics.summarise(
        rec.outputs, rec.truth, rec.graph, beliefs=rec.beliefs, flips=rec.flips,
        edge_active=rec.edge_active, rewards=rec.rewards, signals=rec.signals,
        sigma=rec.config["game"]["sigma"], n_boot=20,
    ).set_index("metric")


def mismatches(summary: dict[str, float], table) -> dict[str, tuple[float, float]]:
    """The summary numbers that differ from their metrics counterparts."""
    assert set(summary) == {"alpha", "episodes", *SUMMARY_TO_METRIC}, (
        "every summary number needs a metrics.summarise counterpart in SUMMARY_TO_METRIC")
    out = {}
    for key, metric in SUMMARY_TO_METRIC.items():
        a, b = float(summary[key]), float(table.loc[metric, "value"])
        if not (math.isnan(a) and math.isnan(b)) and not math.isclose(a, b, rel_tol=1e-12,
                                                                      abs_tol=1e-12):
            out[key] = (a, b)
    if summary["episodes"] != table.loc["accuracy_mean", "n"]:
        out["episodes"] = (summary["episodes"], table.loc["accuracy_mean", "n"])
    return out


def check_steps_frame(rec: EvalRecord) -> None:
    """steps_frame() against the metrics per-step functions and a NumPy lying rate."""
    f = rec.steps_frame()
    b, t, _ = rec.outputs.shape
    per = {
        "accuracy": metrics.accuracy_per_step(rec.outputs, rec.truth),
        "agreement": metrics.agreement_per_step(rec.outputs, rec.graph,
                                                edge_active=rec.edge_active),
        "entropy": metrics.entropy_per_step(rec.outputs),
        "wait_rate": metrics.wait_rate_per_step(rec.outputs),
    }
    guesses = (rec.outputs != 2).sum(-1)
    with np.errstate(invalid="ignore"):
        per["lying_rate"] = np.where(guesses > 0, rec.lying.sum(-1) / guesses, np.nan)
    for name, want in per.items():
        np.testing.assert_allclose(f[name].to_numpy(), want.reshape(-1), rtol=0, atol=1e-12,
                                   err_msg=name)
    assert len(f) == b * t


def old_summary(rec: EvalRecord) -> dict[str, float]:
    """The summary before the measures were defined once (pooled lying, plain means)."""
    s = rec.summary()
    definite = rec.outputs != 2
    s["lying_rate"] = float(rec.lying.sum() / max(definite.sum(), 1))
    s["ever_lied"] = float(rec.lying.any(axis=(0, 1)).mean())  # was "ever_lie_fraction"
    s["agreement"] = float(np.mean(np.nan_to_num(rec.agreement)))  # no edge counted as 0
    return s


@pytest.fixture(scope="module")
def records():
    torch.manual_seed(0)
    g = sm.ring_graph(6)
    policy = sm.AttentionPolicy(6, hidden=8)
    out = {
        "static": sm.evaluate(policy, g, episodes=12, episode_length=5, seed=1),
        # percolation: each edge survives with probability 0.2, so some episodes keep none
        "percolation": sm.evaluate(policy, g, episodes=40, episode_length=4, seed=2,
                                   p_perc=0.2),
        # a camp process: pairs meet now and then, so single steps have no active edge
        "camp": sm.evaluate(policy, g, episodes=12, episode_length=6, seed=3,
                            camp=sm.CampProcess(torch.full((g.num_edges,), 0.15), rate=0.5)),
    }
    return out


@pytest.mark.parametrize("name", ["static", "percolation", "camp"])
def test_summary_equals_metrics_summarise(records, name):
    rec = records[name]
    if name != "static":
        assert rec.edge_active is not None
        assert np.isnan(rec.agreement).any()  # steps without an active edge exist ...
        assert not np.isnan(rec.agreement).all()
    # ... and the game's per-step info is the measure, NaN included
    np.testing.assert_allclose(
        rec.agreement, metrics.agreement_per_step(rec.outputs, rec.graph,
                                                  edge_active=rec.edge_active), atol=1e-6)
    np.testing.assert_allclose(rec.accuracy,
                               metrics.accuracy_per_step(rec.outputs, rec.truth), atol=1e-6)
    np.testing.assert_allclose(rec.entropy, metrics.entropy_per_step(rec.outputs), atol=1e-6)
    summary = rec.summary()
    assert "ever_lie_fraction" not in summary
    assert not math.isnan(summary["agreement"]) and not math.isnan(summary["final_agreement"])
    assert mismatches(summary, summarised(rec)) == {}
    check_steps_frame(rec)


def synthetic_record(edge_index, n: int = 4) -> EvalRecord:
    """A hand-made record whose episodes differ in how many guesses they hold."""
    rng = np.random.default_rng(11)
    b, t = 5, 3
    outputs = rng.integers(0, 2, size=(b, t, n))
    outputs[1] = 2  # nobody guesses in episode 1: lying rate NaN
    outputs[2, :, 1:] = 2  # one agent guesses in episode 2 ...
    lying = (outputs != 2) & (rng.random((b, t, n)) < 0.2)
    lying[2, :, 0] = True  # ... and lies every time
    lying[3] = False
    beliefs = np.where(outputs == 2, 0.5, np.where(lying, 1 - outputs, outputs) * 0.8 + 0.1)
    graph = sm.Graph(n, torch.as_tensor(edge_index))
    active = rng.random((b, t, graph.num_edges)) < 0.6
    active[0, 1] = False  # a step without an active edge
    zeros = np.zeros((b, t), np.float32)
    return EvalRecord(
        outputs=outputs.astype(np.int8), beliefs=beliefs.astype(np.float32), lying=lying,
        rewards=rng.normal(size=(b, t, n)).astype(np.float32),
        signals=rng.random((b, n)).astype(np.float32), truth=rng.integers(0, 2, size=b),
        flips=np.zeros((b, n), bool), accuracy=zeros, agreement=zeros, entropy=zeros,
        attention=np.zeros(graph.num_edges), self_attention=np.zeros(n), graph=graph,
        alpha=0.5, edge_active=active, config={"game": {"sigma": 0.7}},
    )


def test_two_way_check_catches_the_old_conventions():
    rec = synthetic_record([[0, 1, 2, 3, 0], [1, 2, 3, 0, 2]])
    table = summarised(rec)
    assert mismatches(rec.summary(), table) == {}
    check_steps_frame(rec)
    # the per-episode lying rate is not the pooled one: episode 2 lies at every guess
    rates = metrics.lying_rate(rec.outputs, rec.beliefs)
    assert np.isnan(rates[1]) and rates[2] == 1.0
    assert rec.summary()["lying_rate"] == pytest.approx(np.nanmean(rates))
    old = mismatches(old_summary(rec), table)
    assert {"lying_rate", "ever_lied"} <= set(old), old
    # an edgeless graph: agreement NaN at every step, the same in both
    edgeless = synthetic_record(np.zeros((2, 0), int))
    s = edgeless.summary()
    assert math.isnan(s["agreement"]) and math.isnan(s["final_agreement"])
    assert mismatches(s, summarised(edgeless)) == {}


def test_game_info_uses_the_measures():
    g = sm.Graph(4, [[0, 1], [1, 0]])  # agents 2 and 3 observe nobody
    game = sm.ConsensusGame(g, num_envs=2, seed=0)
    game.reset()
    a = torch.tensor([[1, 1, 0, 2], [2, 0, 2, 2]])
    info = game.step(a).info
    assert info["agreement"].tolist() == [1.0, 0.0]
    assert info["accuracy"].dtype == torch.float32
    out = game.rewards(a, game.truth, torch.zeros(2, 2, dtype=torch.bool))
    assert torch.isnan(out["agreement"]).all()  # no active edge
    torch.testing.assert_close(out["entropy"], ms.entropy(a).float())
