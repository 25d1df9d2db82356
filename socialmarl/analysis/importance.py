"""Fitting a policy's learned attention against human importance data.

Both the learned attention and the human weights are compared row by row: a row is one
*attending* agent ``i`` and holds its weights over its in-neighbours ``j`` (the agents it
observes), so per-edge arrays follow ``graph.edge_index`` (row 1 = the attending agent)
and dense matrices have rows = attending agent. Human data whose natural orientation is
"``i`` influences ``j``" (Congress Twitter) must be transposed first (see the data
README). Self-attention and self loops are left out and each row is renormalised over the
agent's neighbours, because human data carries no self weight.

Statistics (all on the same agents for every model, so models are paired):

* per-agent Spearman rank correlation of the learned row with the human row over the same
  neighbours (average ranks for ties). Only *eligible* agents count: at least
  ``min_neighbours`` (default 3) neighbours, positive human mass and a human row that is
  not constant (a constant human row has no ranking to match). A model row that is
  constant carries no ranking either; its correlation is taken as 0;
* per-agent Jensen-Shannon divergence (bits, in [0, 1]) between the row distributions, on
  the same eligible agents;
* a global in-importance correlation: each agent's attention received (column sums of the
  row-normalised matrix, over every attending agent with positive human mass), learned
  against human, as a Spearman correlation across the attended agents.

Confidence intervals bootstrap the attending agents (and the attended agents for the global
correlation), with the same resamples for every model. With several seeds (training runs)
per alpha, the per-alpha table pools them: the mean over seeds (seeds weigh equally), with
intervals, best alpha and "not significantly worse" from a bootstrap over seeds and agents
(see :class:`AttentionFit`, Notes). Honest baselines are scored the same
way: ``uniform`` over the neighbours, ``popularity`` (attention proportional to the
attended agent's follower count, by default its out-degree in the graph) and
``permuted_human`` (the human weights shuffled within each row; its value is the mean over
permutations and its interval the central quantiles of the permutation distribution). The
``p_value`` of a model is a permutation test: the share of within-row shuffles of *its own*
weights that fit at least as well (with the +1 correction).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.special import rel_entr

from ..networks.graph import Graph

__all__ = [
    "AttentionFit",
    "edge_weights",
    "row_normalise",
    "rowwise_spearman",
    "rowwise_js_divergence",
    "in_importance",
    "uniform_attention",
    "popularity_attention",
    "permute_within_rows",
]

METRICS = ("spearman", "js_divergence", "in_importance_spearman")
_HIGHER_IS_BETTER = {"spearman": True, "js_divergence": False, "in_importance_spearman": True}


# ---------------------------------------------------------------------------- alignment
def _array(x: Any, name: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().double().numpy()
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array or tensor of numbers") from err
    return a


def edge_weights(graph: Graph, x: Any, *, name: str = "attention") -> np.ndarray:
    """Per-edge weights aligned with ``graph.edge_index`` from any accepted form.

    Parameters
    ----------
    graph : Graph
    x : array or Tensor
        Shape ``(E,)`` (aligned with ``graph.edge_index``), ``(N, N)`` with rows = the
        attending agent (entry ``[i, j]`` = attention of ``i`` to ``j``), or a tuple
        ``(edge_weights (E,), self_weights (N,))`` as a policy returns it; self weights (and
        the diagonal of a dense matrix) are dropped.
    name : str
        Used in error messages.

    Returns
    -------
    numpy.ndarray, shape (E,)
        Non-negative finite weights.

    Examples
    --------
    >>> import numpy as np
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(2, [[0], [1]])  # agent 1 observes agent 0
    >>> edge_weights(g, np.array([[0.0, 0.0], [0.7, 0.3]])).tolist()
    [0.7]
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"graph must be a socialmarl Graph, got {type(graph).__name__}")
    if isinstance(x, tuple):
        if len(x) != 2:
            raise ValueError(
                f"{name} is a tuple of {len(x)} items; a tuple must be (edge_weights (E,), "
                "self_weights (N,)) -- pass a single array otherwise"
            )
        self_w = _array(x[1], name)
        if self_w.shape != (graph.num_nodes,):
            raise ValueError(
                f"{name} self weights have shape {self_w.shape}; expected ({graph.num_nodes},)"
            )
        x = x[0]
    a = _array(x, name)
    n, e = graph.num_nodes, graph.num_edges
    if a.ndim == 1:
        if a.shape[0] != e:
            raise ValueError(
                f"{name} has {a.shape[0]} per-edge values but the graph has {e} edges; give "
                "one per edge in graph.edge_index order, or a dense (N, N) matrix"
            )
        w = a
    elif a.ndim == 2 and a.shape == (n, n):
        ei = graph.edge_index.cpu().numpy()
        w = a[ei[1], ei[0]]
        off = a.copy()
        np.fill_diagonal(off, 0.0)
        total = np.abs(off).sum()
        outside = total - np.abs(w[ei[0] != ei[1]]).sum()
        if total > 0 and outside > 1e-6 * total:
            warnings.warn(
                f"{100 * outside / total:.1f}% of the {name} matrix lies outside the graph's "
                "edges and is ignored; check the orientation (rows = attending agent, "
                "[i, j] = attention of i to j) and that the graph is the one it was recorded on",
                stacklevel=2,
            )
    else:
        raise ValueError(
            f"{name} has shape {a.shape}; give (E,) = ({e},) per-edge weights or a dense "
            f"(N, N) = ({n}, {n}) matrix with rows = attending agent"
        )
    if not np.all(np.isfinite(w)):
        k = int(np.nonzero(~np.isfinite(w))[0][0])
        raise ValueError(
            f"{name} is not finite on edge {tuple(graph.edge_index[:, k].tolist())}; "
            "give finite weights"
        )
    if np.any(w < 0):
        k = int(np.nonzero(w < 0)[0][0])
        raise ValueError(
            f"{name} is negative ({w[k]}) on edge {tuple(graph.edge_index[:, k].tolist())}; "
            "weights must be >= 0"
        )
    return w.astype(np.float64)


def _segment_sum(x: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """Sums of ``x`` (P, E) over segments ``seg`` (E,) -> (P, n)."""
    p = x.shape[0]
    idx = (seg[None, :] + n * np.arange(p)[:, None]).ravel()
    return np.bincount(idx, weights=x.ravel(), minlength=p * n).reshape(p, n)


def _segment_ranks(x: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """1-based average ranks of ``x`` (P, E) within each segment (ties share their mean)."""
    p, e = x.shape
    grp = (seg[None, :] + n * np.arange(p)[:, None]).ravel()
    v = x.ravel()
    order = np.lexsort((v, grp))
    gs, vs = grp[order], v[order]
    idx = np.arange(v.size)
    new_seg = np.r_[True, gs[1:] != gs[:-1]]
    start = np.maximum.accumulate(np.where(new_seg, idx, 0))
    pos = (idx - start + 1).astype(np.float64)
    tie = np.cumsum(new_seg | np.r_[True, vs[1:] != vs[:-1]]) - 1
    avg = np.bincount(tie, weights=pos) / np.bincount(tie)
    ranks = np.empty(v.size)
    ranks[order] = avg[tie]
    return ranks.reshape(p, e)


def _segment_pearson(x: np.ndarray, y: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """Pearson correlation within segments of (P, E) arrays -> (P, n); NaN if degenerate."""
    cnt = np.bincount(seg, minlength=n).astype(np.float64)
    safe = np.maximum(cnt, 1.0)
    dx = x - (_segment_sum(x, seg, n) / safe)[:, seg]
    dy = y - (_segment_sum(y, seg, n) / safe)[:, seg]
    sxy = _segment_sum(dx * dy, seg, n)
    sxx = _segment_sum(dx * dx, seg, n)
    syy = _segment_sum(dy * dy, seg, n)
    tol = 1e-12 * np.maximum(cnt, 1.0) ** 3
    ok = (cnt[None, :] >= 2) & (sxx > tol) & (syy > tol)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(ok, sxy / np.sqrt(np.where(ok, sxx * syy, 1.0)), np.nan)
    return np.clip(r, -1.0, 1.0)


def _segment_js(p: np.ndarray, q: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    m = 0.5 * (p + q)
    t = 0.5 * (rel_entr(p, m) + rel_entr(q, m)) / math.log(2.0)
    return np.clip(_segment_sum(t, seg, n), 0.0, 1.0)


class _Rows:
    """The graph's edges without self loops, as contiguous rows per attending agent."""

    def __init__(self, graph: Graph) -> None:
        ei = graph.edge_index.cpu().numpy()
        self.keep = ei[0] != ei[1]
        self.snd = ei[0, self.keep]
        self.rcv = ei[1, self.keep]
        self.n = graph.num_nodes
        self.deg = np.bincount(self.rcv, minlength=self.n)

    def take(self, w: np.ndarray) -> np.ndarray:
        return w[..., self.keep]

    def put(self, w: np.ndarray) -> np.ndarray:
        out = np.zeros(w.shape[:-1] + (self.keep.size,))
        out[..., self.keep] = w
        return out

    def normalise(self, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row-normalised (P, E') weights and the (P, N) row masses."""
        w2 = np.atleast_2d(w)
        mass = _segment_sum(w2, self.rcv, self.n)
        m = mass[:, self.rcv]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(m > 0, w2 / np.where(m > 0, m, 1.0), 0.0)
        return out, mass


def row_normalise(graph: Graph, w: Any) -> np.ndarray:
    """Normalise weights to sum to 1 over each attending agent's neighbours.

    Self loops get weight 0; rows with no mass stay 0.

    Parameters
    ----------
    graph : Graph
    w : array or Tensor
        Any form accepted by :func:`edge_weights`.

    Returns
    -------
    numpy.ndarray, shape (E,)

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[1, 2], [0, 0]])  # agent 0 observes 1 and 2
    >>> row_normalise(g, [1.0, 3.0]).tolist()
    [0.25, 0.75]
    """
    rows = _Rows(graph)
    x, _ = rows.normalise(rows.take(edge_weights(graph, w, name="weights")))
    return rows.put(x)[0]


def rowwise_spearman(graph: Graph, a: Any, b: Any) -> np.ndarray:
    """Spearman correlation of ``a`` and ``b`` over each agent's neighbours, shape (N,).

    Average ranks for ties; NaN for agents with fewer than two neighbours or a constant
    row. Self loops are left out.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(4, [[1, 2, 3], [0, 0, 0]])
    >>> rowwise_spearman(g, [0.2, 0.3, 0.5], [1.0, 2.0, 9.0])[0]
    np.float64(1.0)
    """
    rows = _Rows(graph)
    x = rows.take(edge_weights(graph, a, name="a"))[None]
    y = rows.take(edge_weights(graph, b, name="b"))[None]
    rx, ry = _segment_ranks(x, rows.rcv, rows.n), _segment_ranks(y, rows.rcv, rows.n)
    return _segment_pearson(rx, ry, rows.rcv, rows.n)[0]


def rowwise_js_divergence(graph: Graph, p: Any, q: Any) -> np.ndarray:
    """Jensen-Shannon divergence in bits between row-normalised ``p`` and ``q``, shape (N,).

    Agents without neighbours or with an empty row in either get NaN.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[1, 2], [0, 0]])
    >>> float(rowwise_js_divergence(g, [1.0, 0.0], [0.0, 1.0])[0])
    1.0
    """
    rows = _Rows(graph)
    pn, pm = rows.normalise(rows.take(edge_weights(graph, p, name="p")))
    qn, qm = rows.normalise(rows.take(edge_weights(graph, q, name="q")))
    js = _segment_js(pn, qn, rows.rcv, rows.n)[0]
    return np.where((pm[0] > 0) & (qm[0] > 0), js, np.nan)


def in_importance(graph: Graph, w: Any, rows: Any | None = None) -> np.ndarray:
    """Attention each agent receives: column sums of the row-normalised matrix, shape (N,).

    Parameters
    ----------
    graph : Graph
    w : array or Tensor
        Any form accepted by :func:`edge_weights`.
    rows : array of bool, shape (N,), optional
        Attending agents to include (all by default).

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[1, 2, 1], [0, 0, 2]])  # 0 observes 1 and 2; 2 observes 1
    >>> in_importance(g, [1.0, 1.0, 5.0]).tolist()
    [0.0, 1.5, 0.5]
    """
    r = _Rows(graph)
    x, _ = r.normalise(r.take(edge_weights(graph, w, name="weights")))
    if rows is not None:
        sel = np.asarray(rows, dtype=bool).reshape(-1)
        if sel.size != r.n:
            raise ValueError(f"rows has {sel.size} entries; give one bool per agent ({r.n})")
        x = x * sel[r.rcv]
    return _segment_sum(x, r.snd, r.n)[0]


# ---------------------------------------------------------------------------- baselines
def uniform_attention(graph: Graph) -> np.ndarray:
    """Uniform attention over each agent's neighbours (self loops 0), shape (E,).

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> uniform_attention(Graph(3, [[1, 2], [0, 0]])).tolist()
    [0.5, 0.5]
    """
    rows = _Rows(graph)
    return rows.put(1.0 / rows.deg[rows.rcv][None])[0]


def popularity_attention(graph: Graph, popularity: Any | None = None) -> np.ndarray:
    """Attention proportional to the attended agent's popularity, shape (E,).

    Parameters
    ----------
    graph : Graph
    popularity : array, shape (N,), optional
        Follower counts (or any non-negative popularity). Defaults to each agent's
        out-degree in the graph (how many agents observe it). Rows whose neighbours all have
        popularity 0 fall back to uniform.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[1, 2, 1], [0, 0, 2]])  # agent 1 has two followers, agent 2 one
    >>> popularity_attention(g).round(3).tolist()
    [0.667, 0.333, 1.0]
    """
    rows = _Rows(graph)
    if popularity is None:
        pop = np.bincount(rows.snd, minlength=rows.n).astype(np.float64)
    else:
        pop = _array(popularity, "popularity").reshape(-1)
        if pop.size != rows.n or not np.all(np.isfinite(pop)) or np.any(pop < 0):
            raise ValueError(
                f"popularity must hold {rows.n} finite non-negative values (one per agent); "
                f"got shape {pop.shape}"
            )
    x, mass = rows.normalise(pop[rows.snd][None])
    x = np.where(mass[:, rows.rcv] > 0, x, 1.0 / np.maximum(rows.deg[rows.rcv], 1))
    return rows.put(x)[0]


def _within_row_perms(rows: _Rows, n_perm: int, seed: int | None) -> np.ndarray:
    rng = np.random.default_rng(seed)
    u = rng.random((int(n_perm), rows.rcv.size))
    # edges are sorted by receiver, so sorting receiver + U(0, 1) shuffles within each row
    return np.argsort(rows.rcv[None, :] + u, axis=1, kind="stable")


def permute_within_rows(
    graph: Graph, w: Any, n_perm: int = 100, *, seed: int | None = 0
) -> np.ndarray:
    """``n_perm`` copies of ``w`` with the weights shuffled within each agent's row.

    Returns
    -------
    numpy.ndarray, shape (n_perm, E)
        Self-loop edges keep weight 0.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(4, [[1, 2, 3], [0, 0, 2]])
    >>> p = permute_within_rows(g, [1.0, 2.0, 7.0], 5, seed=1)
    >>> sorted(p[0, :2].tolist()), p[:, 2].tolist()
    ([1.0, 2.0], [7.0, 7.0, 7.0, 7.0, 7.0])
    """
    rows = _Rows(graph)
    x = rows.take(edge_weights(graph, w, name="weights"))
    return rows.put(x[_within_row_perms(rows, n_perm, seed)])


# ---------------------------------------------------------------------------- the fit
def _is_seed_list(v: Any) -> bool:
    """A list of attentions (one per seed): a ``list`` of arrays, tensors or pairs."""
    return (isinstance(v, list) and len(v) > 0
            and all(isinstance(x, (np.ndarray, torch.Tensor, tuple)) for x in v))


def _parse_keys(learned: Any) -> list[tuple[float, float, Any]]:
    if not isinstance(learned, Mapping):
        return [(math.nan, math.nan, learned)]
    out = []
    for k, v in learned.items():
        if isinstance(k, tuple) and len(k) == 2:
            a, s = k
            items = [(s, v)]
        elif _is_seed_list(v):
            a, items = k, list(enumerate(v))
        else:
            a, items = k, [(0, v)]
        for s, att in items:
            try:
                key = (float(a), float(s))
            except (TypeError, ValueError) as err:
                raise ValueError(
                    f"learned has key {k!r}; keys must be alpha (a number) or (alpha, seed) "
                    "pairs"
                ) from err
            if any(key == (x, y) for x, y, _ in out):
                raise ValueError(
                    f"learned names alpha={key[0]}, seed={key[1]} twice (a plain alpha key is "
                    "seed 0, a list holds seeds 0, 1, ...); give each (alpha, seed) once"
                )
            out.append((*key, att))
    if not out:
        raise ValueError("learned is an empty mapping; give at least one attention matrix")
    return out


def _pool_seeds(
    values: np.ndarray, reps: np.ndarray, draw: np.ndarray
) -> tuple[float, np.ndarray, int]:
    """Mean over seeds and its bootstrap over seeds and agents.

    ``values`` (S,) are the seeds' statistics, ``reps`` (S, B) their agent-bootstrap
    replicates (replicate ``b`` resamples the same agents in every seed) and ``draw``
    (B, S) the seeds drawn in each replicate. Replicate ``b`` is the value, plus the mean
    over all seeds of each seed's agent fluctuation ``reps[s, b] - values[s]``, plus the
    mean over the drawn seeds of their shrunk deviations ``c * (values[s] - value)``, where
    ``c**2`` = (variance of the seed values less their seed-specific agent-sampling variance,
    floored at 0) / (variance of the seed values): the spread of the seed values already
    holds agent noise, counted once through the agents. Seeds with a NaN value are left out.
    Returns the value, the (B,) replicates and the number of seeds with a value.
    """
    good = ~np.isnan(values)
    s = int(good.sum())
    nb = reps.shape[1]
    if s == 0:
        return math.nan, np.full(nb, np.nan), 0
    if s == 1:  # one seed: its own agent bootstrap, unchanged
        return float(values[good][0]), reps[good][0], 1
    v, r = values[good], reps[good]
    value = float(v.mean())
    fluct = r - v[:, None]  # (s, B)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a replicate NaN in every seed
        agent = np.nanmean(fluct, 0)
        own = np.nanvar(fluct, 0, ddof=1)  # seed-specific part of the agent noise
        own = float(np.nanmean(own)) if np.any(~np.isnan(own)) else 0.0
    spread = float(v.var(ddof=1))
    c = math.sqrt(max(spread - own, 0.0) / spread) if spread > 0 else 0.0
    picks = np.stack([(draw == j).sum(1) for j in np.nonzero(good)[0]], 1).astype(float)
    tot = picks.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        seed_dev = np.where(tot > 0, picks @ (v - value) / np.where(tot > 0, tot, 1.0), np.nan)
    return value, value + agent + c * seed_dev, s


class AttentionFit:
    """Fit learned attention rows against human importance weights (scikit-learn style).

    Parameters
    ----------
    min_neighbours : int
        Agents with fewer neighbours are not scored per agent (default 3: a rank
        correlation over two items is only ever +-1).
    n_boot : int
        Bootstrap replicates over agents for the confidence intervals.
    n_perm : int
        Within-row permutations for the ``permuted_human`` baseline and the p-values.
    ci : float
        Confidence level; also the level of the "not significantly worse" alpha set.
    popularity : array, shape (N,), optional
        Follower counts for the popularity baseline (default: out-degree in the graph).
    criterion : {"spearman", "js_divergence"}
        Per-agent statistic that picks the best alpha.
    seed : int, optional
        Seed of all resampling.

    Attributes
    ----------
    eligible_ : numpy.ndarray of bool, shape (N,)
        Agents scored per agent.
    human_ : numpy.ndarray, shape (E,)
        Row-normalised human weights (self loops 0).
    learned_ : dict
        ``(alpha, seed) -> (E,)`` row-normalised learned weights (``(nan, nan)`` for one
        unkeyed matrix).
    per_agent_ : pandas.DataFrame
        ``model, alpha, seed, agent, n_neighbours, spearman, js_divergence`` for the eligible
        agents, for every learned matrix and the uniform and popularity baselines.
    table_ : pandas.DataFrame
        ``model, alpha, seed, metric, value, ci_low, ci_high, n, p_value``; models
        ``learned``, ``uniform``, ``popularity``, ``permuted_human``.
    null_ : pandas.DataFrame
        The permutation distributions behind the p-values: ``alpha, seed, perm`` and one
        column per metric.
    alpha_table_ : pandas.DataFrame or None
        Per alpha, seeds pooled: ``alpha, metric, value, ci_low, ci_high, n, n_seeds``.
        ``value`` is the mean over seeds of the per-seed values (seeds weigh equally),
        ``n`` the agents per seed, ``n_seeds`` the seeds with a value. The interval
        resamples seeds and agents (see Notes); with one seed it is that seed's interval.
    best_alpha_ : float or None
        Alpha with the best mean ``criterion`` (mean over its seeds).
    best_alpha_probability_ : pandas.Series or None
        Share of bootstrap replicates (over seeds and agents) in which each alpha is best.
    alphas_not_worse_ : list of float or None
        Alphas whose paired bootstrap difference to the best is not significantly positive
        (one-sided, level ``1 - ci``; over seeds and agents); always holds ``best_alpha_``.

    Notes
    -----
    Several seeds (training runs) per alpha are passed as ``(alpha, seed)`` keys or as a
    list of attentions per alpha (seeds ``0, 1, ...``). The agents are the same in every
    seed and alpha, so each bootstrap replicate resamples the agents once for all of them
    (paired comparisons), and resamples the seeds of each alpha independently. The spread
    of the per-seed values already holds agent noise; the resampled seed deviations are
    shrunk so that only the seed-level part of that spread enters, the agent noise entering
    once, through the agents (the idea of Davison & Hinkley 1997, sec. 3.8). For a per-agent
    mean the bootstrap variance is then about ``(S - 1)/S * var_seed/S + var_agent/N +
    var_interaction/(S*N)`` for ``S`` seeds and ``N`` agents, and with no seed-level
    variance the interval matches an agent-only bootstrap of the seed-averaged agents.
    With few seeds (3-5) the interval is somewhat optimistic.

    Examples
    --------
    >>> import numpy as np
    >>> from socialmarl.networks.generators import complete_graph
    >>> g = complete_graph(6)
    >>> human = np.random.default_rng(0).random(g.num_edges)
    >>> fit = AttentionFit(n_boot=200, n_perm=50).fit(g, human, human)
    >>> t = fit.table_.set_index(["model", "metric"]).value
    >>> float(t["learned", "spearman"]), float(t["learned", "js_divergence"])
    (1.0, 0.0)

    Two seeds per alpha, as a list per alpha:

    >>> seeds = [human, human + 0.1 * np.random.default_rng(1).random(g.num_edges)]
    >>> fit = AttentionFit(n_boot=200, n_perm=20).fit(g, {0.5: seeds}, human)
    >>> fit.alpha_table_.set_index("metric").loc["spearman", ["n", "n_seeds"]].tolist()
    [6, 2]
    """

    def __init__(
        self,
        min_neighbours: int = 3,
        n_boot: int = 1000,
        n_perm: int = 200,
        ci: float = 0.95,
        popularity: Any | None = None,
        criterion: str = "spearman",
        seed: int | None = 0,
    ) -> None:
        self.min_neighbours = min_neighbours
        self.n_boot = n_boot
        self.n_perm = n_perm
        self.ci = ci
        self.popularity = popularity
        self.criterion = criterion
        self.seed = seed

    # ------------------------------------------------------------------ scoring
    def _check_params(self) -> None:
        if int(self.min_neighbours) < 2:
            raise ValueError(
                f"min_neighbours={self.min_neighbours!r}; a rank correlation needs at least 2"
            )
        if int(self.n_boot) < 1 or int(self.n_perm) < 1:
            raise ValueError(f"n_boot={self.n_boot!r}, n_perm={self.n_perm!r}; both must be >= 1")
        if not (0.0 < float(self.ci) < 1.0):
            raise ValueError(f"ci={self.ci!r}; the confidence level must lie in (0, 1)")
        if self.criterion not in ("spearman", "js_divergence"):
            raise ValueError(f"criterion={self.criterion!r}; use 'spearman' or 'js_divergence'")

    def _per_agent(self, a: np.ndarray, ra: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """Per-agent Spearman and JS on eligible agents and in-importance (P, K) of rows a."""
        r = self._rows
        if ra is None:
            ra = _segment_ranks(a, r.rcv, r.n)
        rho = _segment_pearson(ra, self._hr[None, :], r.rcv, r.n)[:, self.eligible_]
        rho = np.where(np.isnan(rho), 0.0, rho)  # a constant model row ranks nothing
        js = _segment_js(a, self._h[None, :], r.rcv, r.n)[:, self.eligible_]
        inimp = _segment_sum(a * self._used[r.rcv], r.snd, r.n)[:, self._attended]
        return rho, js, inimp

    def _in_corr(self, inimp: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Spearman across attended agents of in-importance (P, K) vs human, (P,)."""
        h = self._hin
        if idx is not None:  # bootstrap: one model (1, K), replicates of attended agents
            x, h = inimp[0][idx], h[idx]
        else:
            x, h = inimp, np.broadcast_to(h, inimp.shape)
        p, k = x.shape
        if k < 3:
            return np.full(p, np.nan)
        seg = np.zeros(k, dtype=np.int64)
        rx = _segment_ranks(np.ascontiguousarray(x), seg, 1)
        rh = _segment_ranks(np.ascontiguousarray(h), seg, 1)
        return _segment_pearson(rx, rh, seg, 1)[:, 0]

    def _model(self, w: np.ndarray, permute: bool = True) -> dict[str, Any]:
        """Point values, bootstrap replicates and permutation null of one weight vector."""
        r = self._rows
        a = w[None, :]
        ra = _segment_ranks(a, r.rcv, r.n)
        rho, js, inimp = self._per_agent(a, ra)
        out: dict[str, Any] = {"rho": rho[0], "js": js[0]}
        out["value"] = {
            "spearman": float(rho.mean()),
            "js_divergence": float(js.mean()),
            "in_importance_spearman": float(self._in_corr(inimp)[0]),
        }
        out["reps"] = {
            "spearman": rho[0][self._boot].mean(1),
            "js_divergence": js[0][self._boot].mean(1),
            "in_importance_spearman": self._in_corr(inimp, self._boot_in),
        }
        if permute:
            pa, pra = a[0][self._perms], ra[0][self._perms]
            nrho, njs, ninimp = self._per_agent(pa, pra)
            out["null"] = {
                "spearman": nrho.mean(1),
                "js_divergence": njs.mean(1),
                "in_importance_spearman": self._in_corr(ninimp),
            }
        return out

    def _rows_for(self, model: str, alpha: float, seed: float, res: dict[str, Any]) -> list[dict]:
        lo_q, hi_q = (1 - self.ci) / 2, 1 - (1 - self.ci) / 2
        out = []
        for m in METRICS:
            reps = res["reps"][m]
            good = reps[~np.isnan(reps)]
            lo, hi = (np.quantile(good, [lo_q, hi_q]) if good.size else (np.nan, np.nan))
            pv = np.nan
            if "null" in res and not np.isnan(res["value"][m]):
                null = res["null"][m]
                null = null[~np.isnan(null)]
                v = res["value"][m]
                better = null >= v - 1e-12 if _HIGHER_IS_BETTER[m] else null <= v + 1e-12
                pv = (1.0 + better.sum()) / (1.0 + null.size)
            n = int(self.eligible_.sum()) if m != "in_importance_spearman" else self._k
            out.append(dict(model=model, alpha=alpha, seed=seed, metric=m,
                            value=res["value"][m], ci_low=float(lo), ci_high=float(hi),
                            n=n, p_value=pv))
        return out

    # ------------------------------------------------------------------ fit
    def fit(self, graph: Graph, learned: Any, human: Any | None = None) -> AttentionFit:
        """Score learned attention against human weights and the baselines.

        Parameters
        ----------
        graph : Graph
            The network both attention and human weights live on.
        learned : array, Tensor, pair, or mapping
            One attention in any form accepted by :func:`edge_weights`, or a mapping from
            ``alpha`` or ``(alpha, seed)`` to such attention. Several seeds of one alpha:
            ``(alpha, seed)`` keys, or ``alpha`` to a ``list`` of attentions (arrays,
            tensors or pairs; seeds ``0, 1, ...``). A plain ``alpha`` key is seed 0.
        human : array or Tensor, optional
            Human importance, rows = attending agent (defaults to ``graph.edge_weight``).

        Returns
        -------
        AttentionFit
            ``self``, with the fitted attributes set.
        """
        self._check_params()
        if not isinstance(graph, Graph):
            raise TypeError(f"graph must be a socialmarl Graph, got {type(graph).__name__}")
        if human is None:
            if graph.edge_weight is None:
                raise ValueError(
                    "no human weights: pass human=... or a graph with edge_weight holding the "
                    "human importance (rows = attending agent)"
                )
            human = graph.edge_weight
        rows = self._rows = _Rows(graph)
        h_raw = rows.take(edge_weights(graph, human, name="human"))
        h, hmass = rows.normalise(h_raw)
        self._h = h[0]
        self._hr = _segment_ranks(h, rows.rcv, rows.n)[0]
        hmass = hmass[0]
        const = np.isnan(_segment_pearson(self._hr[None], self._hr[None], rows.rcv, rows.n)[0])
        self.n_neighbours_ = rows.deg
        self.eligible_ = (rows.deg >= int(self.min_neighbours)) & (hmass > 0) & ~const
        if not self.eligible_.any():
            raise ValueError(
                f"no agent has >= {self.min_neighbours} neighbours with positive, non-constant "
                "human weights; lower min_neighbours or check the human weights' orientation"
            )
        self._used = (hmass > 0).astype(np.float64)
        self._attended = np.bincount(rows.snd[self._used[rows.rcv] > 0], minlength=rows.n) > 0
        self._k = int(self._attended.sum())
        self._hin = _segment_sum(self._h[None] * self._used[rows.rcv], rows.snd, rows.n)[0][
            self._attended
        ]
        self.human_ = rows.put(self._h[None])[0]

        rng = np.random.default_rng(self.seed)
        m = int(self.eligible_.sum())
        self._boot = rng.integers(0, m, size=(int(self.n_boot), m))
        self._boot_in = rng.integers(0, max(self._k, 1), size=(int(self.n_boot), self._k))
        self._perms = _within_row_perms(rows, int(self.n_perm), None if self.seed is None
                                        else int(rng.integers(2**63 - 1)))

        self.learned_ = {}
        results: dict[tuple[float, float], dict[str, Any]] = {}
        for alpha, seed, att in _parse_keys(learned):
            w = rows.take(edge_weights(graph, att, name="learned attention"))
            x, mass = rows.normalise(w)
            empty = (mass[0] <= 0) & (rows.deg > 0)
            if empty.any():
                warnings.warn(
                    f"learned attention (alpha={alpha}, seed={seed}) puts no weight on any "
                    f"neighbour of {int(empty.sum())} agent(s) (e.g. agent "
                    f"{int(np.nonzero(empty)[0][0])}); those rows are treated as uniform",
                    stacklevel=2,
                )
                x = np.where(empty[rows.rcv], 1.0 / np.maximum(rows.deg[rows.rcv], 1), x)
            self.learned_[(alpha, seed)] = rows.put(x)[0]
            results[(alpha, seed)] = self._model(x[0])

        uni = rows.take(uniform_attention(graph)[None])[0]
        pop = rows.take(popularity_attention(graph, self.popularity)[None])[0]
        base = {"uniform": self._model(uni), "popularity": self._model(pop)}
        # permuted human weights: the distribution over permutations is the baseline
        ph = self._h[self._perms]
        prho, pjs, pin = self._per_agent(ph, self._hr[self._perms])
        base_perm = {"spearman": prho.mean(1), "js_divergence": pjs.mean(1),
                     "in_importance_spearman": self._in_corr(pin)}

        table = []
        for (alpha, seed), res in results.items():
            table += self._rows_for("learned", alpha, seed, res)
        for name, res in base.items():
            table += self._rows_for(name, math.nan, math.nan, res)
        lo_q, hi_q = (1 - self.ci) / 2, 1 - (1 - self.ci) / 2
        for mname in METRICS:
            d = base_perm[mname][~np.isnan(base_perm[mname])]
            table.append(dict(
                model="permuted_human", alpha=math.nan, seed=math.nan, metric=mname,
                value=float(d.mean()) if d.size else math.nan,
                ci_low=float(np.quantile(d, lo_q)) if d.size else math.nan,
                ci_high=float(np.quantile(d, hi_q)) if d.size else math.nan,
                n=m if mname != "in_importance_spearman" else self._k, p_value=math.nan,
            ))
        self.table_ = pd.DataFrame(table)

        agents = np.nonzero(self.eligible_)[0]
        per = []
        for (alpha, seed), res in list(results.items()) + [
            ((math.nan, math.nan), base["uniform"]), ((math.nan, math.nan), base["popularity"])
        ]:
            per.append(pd.DataFrame({"alpha": alpha, "seed": seed, "agent": agents,
                                     "n_neighbours": rows.deg[agents],
                                     "spearman": res["rho"], "js_divergence": res["js"]}))
        models = ["learned"] * len(results) + ["uniform", "popularity"]
        for df, name in zip(per, models):
            df.insert(0, "model", name)
        self.per_agent_ = pd.concat(per, ignore_index=True)
        self.null_ = pd.concat(
            [pd.DataFrame({"alpha": a, "seed": s, "perm": np.arange(int(self.n_perm)),
                           **{mn: r["null"][mn] for mn in METRICS}})
             for (a, s), r in results.items()],
            ignore_index=True,
        )
        self._fit_alpha(results, rng)
        return self

    def _fit_alpha(self, results: dict[tuple[float, float], dict[str, Any]],
                   rng: np.random.Generator) -> None:
        self.alpha_table_ = None
        self.best_alpha_ = None
        self.best_alpha_probability_ = None
        self.alphas_not_worse_ = None
        alphas = sorted({a for a, _ in results if not math.isnan(a)})
        if not alphas:
            return
        lo_q, hi_q = (1 - self.ci) / 2, 1 - (1 - self.ci) / 2
        nb = int(self.n_boot)
        pooled: dict[str, dict[float, tuple[float, np.ndarray, int]]] = {m: {} for m in METRICS}
        for a in alphas:
            keys = sorted(k for k in results if k[0] == a)
            k = len(keys)
            draw = rng.integers(0, k, size=(nb, k))  # resample seeds within each replicate
            for mname in METRICS:
                vals = np.array([results[key]["value"][mname] for key in keys])
                reps = np.stack([results[key]["reps"][mname] for key in keys])  # (k, nb)
                pooled[mname][a] = _pool_seeds(vals, reps, draw)
        rows = []
        for a in alphas:
            for mname in METRICS:
                v, boot, nseed = pooled[mname][a]
                good = boot[~np.isnan(boot)]
                lo, hi = np.quantile(good, [lo_q, hi_q]) if good.size else (np.nan, np.nan)
                n = int(self.eligible_.sum()) if mname != "in_importance_spearman" else self._k
                rows.append(dict(alpha=a, metric=mname, value=v, ci_low=float(lo),
                                 ci_high=float(hi), n=n, n_seeds=nseed))
        self.alpha_table_ = pd.DataFrame(rows)
        crit = self.criterion
        sign = 1.0 if _HIGHER_IS_BETTER[crit] else -1.0
        point = np.array([sign * pooled[crit][a][0] for a in alphas])
        reps = np.stack([sign * pooled[crit][a][1] for a in alphas], 1)  # (nb, A)
        best = int(np.argmax(point))
        self.best_alpha_ = alphas[best]
        wins = np.bincount(np.argmax(reps, 1), minlength=len(alphas)) / nb
        self.best_alpha_probability_ = pd.Series(wins, index=pd.Index(alphas, name="alpha"),
                                                 name="probability_best")
        diff = reps[:, [best]] - reps  # > 0 where the best beats alpha a in a replicate
        lower = np.quantile(diff, 1.0 - float(self.ci), axis=0)
        self.alphas_not_worse_ = [a for a, lo in zip(alphas, lower) if lo <= 0.0]

    # ------------------------------------------------------------------ conveniences
    def score(self, metric: str = "spearman", alpha: float | None = None,
              seed: float | None = None) -> float:
        """The learned model's value of ``metric`` (for one ``alpha``/``seed`` if several).

        Examples
        --------
        >>> import numpy as np
        >>> from socialmarl.networks.generators import complete_graph
        >>> g = complete_graph(5)
        >>> h = np.arange(1.0, g.num_edges + 1)
        >>> AttentionFit(n_boot=50, n_perm=20).fit(g, {0.5: h}, h).score(alpha=0.5)
        1.0
        """
        if not hasattr(self, "table_"):
            raise RuntimeError("call fit(graph, learned, human) before score()")
        if metric not in METRICS:
            raise ValueError(f"metric={metric!r}; choose one of {list(METRICS)}")
        t = self.table_[(self.table_.model == "learned") & (self.table_.metric == metric)]
        if alpha is not None:
            t = t[np.isclose(t.alpha, alpha)]
        if seed is not None:
            t = t[np.isclose(t.seed, seed)]
        if len(t) != 1:
            raise ValueError(
                f"{len(t)} learned matrices match alpha={alpha}, seed={seed}; name one "
                f"(fitted keys: {sorted(self.learned_)})"
            )
        return float(t.value.iloc[0])
