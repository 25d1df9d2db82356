"""Every measure of stated opinions, defined once: torch functions on any device.

The game's per-step info (:meth:`~socialmarl.game.game.ConsensusGame.rewards`), the
evaluation record (:class:`~socialmarl.analysis.evaluation.EvalRecord`), the tidy tables of
:mod:`socialmarl.analysis.metrics`, the classic rules' :func:`~socialmarl.rules.score_opinions`
and the teaching widgets all compute their numbers with these functions, so one name means
one number everywhere.

Shapes: ``outputs`` holds int codes 0, 1 (guesses) and 2 (wait) with the agents on the last
axis, ``(..., N)``: one step of ``B`` environments ``(B, N)``, or episodes ``(B, T, N)``.
A per-step measure reduces the agent axis and returns ``(...)``; an episode measure reduces
the step and agent axes of ``(..., T, N)`` and returns ``(...)``. Edges are given as
``edge_index`` ``(2, E)`` (row 0 sender, row 1 receiver) and ``edge_active`` bool,
broadcastable to ``(..., E)`` (``None``: every edge is active). Results are float64 on the
device of ``outputs``. Inputs are not validated here (the game calls these every step, and a
check would synchronise the device); :mod:`socialmarl.analysis.metrics` checks what users
pass. No measure loops over agents or edges in Python.

Conventions, one per measure (chosen where the design is silent):

* Accuracy: the share of agents whose output equals the truth; a wait counts as wrong.
* Edges: self loops are ignored (never active). An edge *agrees* when its two ends state
  the same definite guess and *disagrees* when they state opposite guesses; an edge with a
  waiting end does neither (so agreement + disagreement <= 1). Agreement and disagreement
  are shares of the *active* edges, and **NaN where no edge is active** (an edgeless graph,
  or a step where percolation and the camp process leave no pair interacting).
* Entropy: the binary entropy in bits of the share of 1s among the agents that guess;
  1 bit when nobody guesses.
* Wait rate: the share of agents that wait.
* Consensus time of an episode: the first step ``t`` (0-based) from which on, up to the last
  step, at least ``threshold`` of all ``N`` agents state one and the same guess (the same
  guess at every step; waits count against consensus); NaN if the episode never reaches
  such a consensus.
* Lying (the README's "Analysis"): an agent lies when it states a definite guess ``a``
  opposite to its own belief ``b = P(Psi = 1)``, ``(b - 0.5)(a - 0.5) < 0``, both in its own
  frame (a flip maps ``b -> 1 - b`` and ``a -> 1 - a``, leaving the product and so the
  answer unchanged). A wait never lies, nor does a belief of exactly 0.5. The lying rate of
  an episode is its lies divided by its definite guesses (NaN with no guess); the ever-lied
  share is the fraction of agents that lie at least once in the episode. Summaries over
  episodes average these per-episode values (NaN episodes left out); they do not pool lies
  over all episodes.
* Polarisation: a stated opinion is 1 for guess 1, 0 for guess 0 and missing for a wait. A
  group's mean opinion averages its guessing members (NaN if none guesses). Group variance
  is the population variance (ddof 0) of the group means that exist, each group weighted
  equally, and group gap their largest minus smallest; both NaN with fewer than two. The
  bimodality coefficient is ``(skew^2 + 1) / kurtosis`` with population moments of the
  values that are not NaN (1 for two point masses, 5/9 for a uniform, 1/3 for a normal);
  NaN with fewer than two values or zero variance (below ``1e-12 * max(1, mean^2)``). The
  per-agent opinion bimodality uses each agent's mean stated opinion over the episode's
  steps (agents that never guess are left out).
* Return: an agent's summed reward over the episode's steps, averaged over agents.
* Signal accuracy: the share of agents whose private signal lies on the truth's side,
  ``(signal > 0.5) == truth`` (a missing signal, 0.5, reads as 0, like following it).
* Belief quality (how far a lying number can be trusted: lying is read against the belief
  head ``b = P(Psi = 1)``). Beliefs are in the environment's frame, like the truth. Belief
  accuracy is the share of agents whose belief leans to the truth,
  ``(b - 0.5)(Psi - 0.5) > 0``; a belief of exactly 0.5 leans nowhere and counts as wrong,
  as a wait does in accuracy (so a head stuck at 0.5 scores 0, not 0.5). The belief Brier
  score is the mean over agents of ``(b - Psi)^2``: 0 for a perfect head, 0.25 for a
  constant coin flip ``b = 0.5``.
* Signal baseline: the signal posterior is ``P(Psi = 1 | x)`` for the game's signal
  ``x = Psi + sigma * eps`` (``eps ~ N(0, 1)``) and a uniform prior,
  ``1 / (1 + exp(-(2x - 1) / (2 sigma^2)))``; an agent without a signal sees 0.5, whose
  posterior is exactly 0.5. The signal Brier score is the mean over agents of
  ``(posterior - Psi)^2``: the Brier score of a head that knows only its own signal, the
  baseline beside the belief Brier score (signal accuracy is the baseline beside belief
  accuracy). Experts, who see ``Psi`` exactly, are read as ordinary signals ``x = Psi``,
  so the baseline underrates them slightly; ``sigma`` must be > 0.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import torch

from ..common.checks import as_float
from .observation import GUESS_0, GUESS_1, WAIT

__all__ = [
    "accuracy",
    "edge_counts",
    "agreement",
    "agreement_from_counts",
    "disagreement",
    "entropy",
    "wait_rate",
    "consensus_time",
    "lies",
    "lying_rate",
    "ever_lied",
    "group_opinions",
    "group_variance",
    "group_gap",
    "bimodality_coefficient",
    "opinion_bimodality",
    "polarisation",
    "mean_return",
    "signal_accuracy",
    "belief_accuracy",
    "belief_brier",
    "signal_posterior",
    "signal_brier",
]

#: :func:`edge_counts` gathers the two ends of every edge for at most this many
#: (row, edge) pairs at a time, which bounds its memory on large graphs and long records.
_CHUNK_ELEMS = 1 << 24


def _share(num: torch.Tensor, den: torch.Tensor) -> torch.Tensor:
    """``num / den`` in float64, NaN where ``den`` is 0."""
    num, den = num.double(), den.double()
    return torch.where(den > 0, num / torch.where(den > 0, den, 1.0), math.nan)


# ---------------------------------------------------------------------------- per step
def accuracy(outputs: torch.Tensor, truth: Any) -> torch.Tensor:
    """Share of agents whose output equals the truth (a wait counts as wrong), ``(...)``.

    Parameters
    ----------
    outputs : Tensor of int, shape (..., N)
        Codes 0, 1, 2 (wait).
    truth : Tensor or int
        The hidden truth, broadcastable to ``outputs.shape[:-1]`` (for ``(B, T, N)``
        episodes pass ``truth[:, None]``).

    Returns
    -------
    Tensor of float64, shape (...)

    Examples
    --------
    >>> import torch
    >>> accuracy(torch.tensor([[1, 1, 0, 2], [0, 0, 0, 0]]), torch.tensor([1, 0])).tolist()
    [0.5, 1.0]
    """
    t = torch.as_tensor(truth, device=outputs.device)
    return (outputs == t.unsqueeze(-1)).double().mean(-1)


def edge_counts(
    outputs: torch.Tensor,
    edge_index: torch.Tensor,
    edge_active: torch.Tensor | None = None,
    *,
    subsets: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Numbers of active edges, and of those in agreement and in disagreement, ``(...)``.

    Without ``edge_active`` the counts come from one sparse product by the adjacency (fast
    for the game's static graphs); with it the two ends of every edge are gathered, in
    chunks of rows that bound the memory.

    Parameters
    ----------
    outputs : Tensor of int, shape (..., N)
    edge_index : Tensor of int, shape (2, E)
        Row 0 sender, row 1 receiver; self loops are ignored.
    edge_active : Tensor of bool, broadcastable to (..., E), optional
        Which edges are live (all of them by default).
    subsets : Tensor of bool, shape (K, E), optional
        Count within each of ``K`` edge subsets at once (e.g. cross-group and within-group
        edges); the results then have shape ``(..., K)``.

    Returns
    -------
    dict of Tensor of float64, shape (...) or (..., K)
        ``agree`` (both ends state the same guess), ``disagree`` (opposite guesses) and
        ``active`` (active edges, self loops excluded).

    Examples
    --------
    >>> import torch
    >>> ei = torch.tensor([[0, 1, 2, 0], [1, 2, 0, 0]])  # a 3-cycle and a self loop
    >>> c = edge_counts(torch.tensor([[0, 0, 1], [0, 2, 0]]), ei)
    >>> c["agree"].tolist(), c["disagree"].tolist(), c["active"].tolist()
    ([1.0, 1.0], [2.0, 0.0], [3.0, 3.0])
    """
    dev = outputs.device
    lead, n = outputs.shape[:-1], outputs.shape[-1]
    ei = edge_index.to(dev)
    snd, rcv = ei[0], ei[1]
    e = snd.numel()
    o = outputs.reshape(-1, n)
    m = o.shape[0]
    # (K, E) weights: which edges each count covers; self loops never count
    w = (snd != rcv).unsqueeze(0)
    if subsets is not None:
        w = subsets.to(dev).bool() & w
    if edge_active is None:
        agree, dis = _static_counts(o, snd, rcv, w)
        active = w.sum(-1).double().expand(m, -1)
    else:
        act = torch.as_tensor(edge_active, device=dev).bool().broadcast_to((*lead, e))
        agree, dis, active = _masked_counts(o, snd, rcv, act.reshape(m, e), w)
    k = () if subsets is None else (w.shape[0],)
    return {
        "agree": agree.reshape((*lead, *k)),
        "disagree": dis.reshape((*lead, *k)),
        "active": active.reshape((*lead, *k)),
    }


def _signs(o: torch.Tensor) -> torch.Tensor:
    """``(M, N, 2)`` float32: ``s`` (+1 guess 1, -1 guess 0, 0 wait) and ``u = s^2``."""
    s = torch.where(o == WAIT, 0.0, torch.where(o == GUESS_1, 1.0, -1.0))
    return torch.stack([s, s * s], -1)


def _static_counts(
    o: torch.Tensor, snd: torch.Tensor, rcv: torch.Tensor, w: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Agree and disagree counts ``(M, K)`` over the (fixed) edges weighted by ``w`` (K, E).

    With ``s`` and ``u`` of :func:`_signs`, an edge ``j -> i`` adds ``s_j s_i`` (+1 agree,
    -1 disagree, 0 with a wait) and ``u_j u_i`` (1 when both guess), so
    ``agree = (sum u_j u_i + sum s_j s_i) / 2`` and ``disagree`` the difference. The sums
    over edges are ``x_i (A x)_i`` with one sparse product by the adjacency ``A`` (no
    gather of both ends per row); float32 counts are exact below 2**24 edges.
    """
    dev = o.device
    m, n = o.shape
    k, e = w.shape
    rows = (torch.arange(k, device=dev)[:, None] * n + rcv[None, :]).reshape(-1)
    order = torch.argsort(rows, stable=True)
    crow = torch.searchsorted(rows[order], torch.arange(k * n + 1, device=dev))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
        adj = torch.sparse_csr_tensor(crow, snd.repeat(k)[order], w.reshape(-1)[order].float(),
                                      (k * n, n), device=dev)
    agree = torch.zeros(m, k, dtype=torch.float64, device=dev)
    dis = torch.zeros_like(agree)
    step = max(1, _CHUNK_ELEMS // max(1, 2 * k * n))
    for s in range(0, m, step):
        x = _signs(o[s : s + step])  # (C, N, 2)
        c = x.shape[0]
        nb = (adj @ x.permute(1, 0, 2).reshape(n, 2 * c)).reshape(k, n, c, 2)
        sums = torch.einsum("kicz,ciz->ckz", nb, x).double()  # (C, K, 2): s-sum, u-sum
        agree[s : s + step] = (sums[..., 1] + sums[..., 0]) / 2
        dis[s : s + step] = (sums[..., 1] - sums[..., 0]) / 2
    return agree, dis


def _masked_counts(
    o: torch.Tensor, snd: torch.Tensor, rcv: torch.Tensor, act: torch.Tensor, w: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Agree, disagree and active counts ``(M, K)`` with a live-edge mask ``act`` (M, E).

    Gathers the signs of both ends of every edge (their product is +1 for agreement, -1 for
    disagreement, 0 with a wait), in chunks of rows bounded by ``_CHUNK_ELEMS``.
    """
    m, e = act.shape
    k = w.shape[0]
    wt = w.T.float()  # (E, K); float32 counts are exact below 2**24 edges
    sign = _signs(o)[..., 0].to(torch.int8)
    out = torch.zeros(3, m, k, dtype=torch.float64, device=o.device)
    step = max(1, _CHUNK_ELEMS // max(1, e))
    for s in range(0, m, step):
        sc = sign[s : s + step]
        live = act[s : s + step] & w[0] if k == 1 else act[s : s + step]
        prod = sc.index_select(1, snd) * sc.index_select(1, rcv) * live
        for j, x in enumerate((prod > 0, prod < 0, live)):
            out[j, s : s + step] = x.sum(-1, keepdim=True) if k == 1 else x.float() @ wt
    return out[0], out[1], out[2]


def agreement(
    outputs: torch.Tensor, edge_index: torch.Tensor, edge_active: torch.Tensor | None = None
) -> torch.Tensor:
    """Share of active edges whose two ends state the same guess; NaN with none active.

    Parameters
    ----------
    outputs : Tensor of int, shape (..., N)
    edge_index : Tensor of int, shape (2, E)
    edge_active : Tensor of bool, broadcastable to (..., E), optional

    Returns
    -------
    Tensor of float64, shape (...)

    Examples
    --------
    >>> import torch
    >>> ei = torch.tensor([[0, 1], [1, 0]])
    >>> agreement(torch.tensor([[1, 1], [1, 2]]), ei).tolist()
    [1.0, 0.0]
    >>> agreement(torch.tensor([[1, 1]]), ei, torch.tensor([[False, False]])).tolist()
    [nan]
    """
    c = edge_counts(outputs, edge_index, edge_active)
    return agreement_from_counts(c["agree"], c["active"])


def agreement_from_counts(agree: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    """Agreement from edge counts: ``agree / active``, NaN where no edge is active.

    The convention of :func:`agreement` for callers that count the edges themselves (the
    game counts them per receiver while scoring conformity, so it gets them for free).

    Examples
    --------
    >>> import torch
    >>> agreement_from_counts(torch.tensor([3.0, 0.0]), torch.tensor([4.0, 0.0])).tolist()
    [0.75, nan]
    """
    return _share(agree, active)


def disagreement(
    outputs: torch.Tensor, edge_index: torch.Tensor, edge_active: torch.Tensor | None = None
) -> torch.Tensor:
    """Share of active edges whose ends state opposite guesses; NaN with none active.

    Examples
    --------
    >>> import torch
    >>> disagreement(torch.tensor([[0, 1, 2]]), torch.tensor([[0, 1], [1, 2]])).tolist()
    [0.5]
    """
    c = edge_counts(outputs, edge_index, edge_active)
    return _share(c["disagree"], c["active"])


def _plog2p(p: torch.Tensor) -> torch.Tensor:
    return torch.where(p > 0, p * torch.log2(p), torch.zeros_like(p))


def entropy(outputs: torch.Tensor) -> torch.Tensor:
    """Binary entropy (bits) of the share of 1s among guessing agents; 1 if nobody guesses.

    Examples
    --------
    >>> import torch
    >>> entropy(torch.tensor([[0, 1, 2], [1, 1, 2], [2, 2, 2]])).tolist()
    [1.0, 0.0, 1.0]
    """
    n_guess = (outputs != WAIT).sum(-1)
    p = torch.where(n_guess > 0, _share((outputs == GUESS_1).sum(-1), n_guess), 0.5)
    return 0.0 - (_plog2p(p) + _plog2p(1.0 - p))  # 0.0 - x: no negative zero


def wait_rate(outputs: torch.Tensor) -> torch.Tensor:
    """Share of agents that wait, ``(...)``.

    Examples
    --------
    >>> import torch
    >>> wait_rate(torch.tensor([[0, 2, 2, 1]])).tolist()
    [0.5]
    """
    return (outputs == WAIT).double().mean(-1)


# ---------------------------------------------------------------------------- per episode
def consensus_time(outputs: torch.Tensor, threshold: float = 1.0) -> torch.Tensor:
    """First step from which a ``threshold`` share of agents holds one guess to the end.

    Parameters
    ----------
    outputs : Tensor of int, shape (..., T, N)
    threshold : float in (0.5, 1]
        Share of all ``N`` agents (waits count against it) that must state the same guess.

    Returns
    -------
    Tensor of float64, shape (...)
        The 0-based step, or NaN for an episode that never reaches a lasting consensus.

    Examples
    --------
    >>> import torch
    >>> o = torch.tensor([[[0, 1], [1, 1], [1, 1]], [[0, 1], [1, 1], [0, 1]]])
    >>> consensus_time(o).tolist()
    [1.0, nan]
    """
    if not (0.5 < float(threshold) <= 1.0):
        raise ValueError(
            f"threshold={threshold!r}; it must lie in (0.5, 1] so that at most one guess "
            "can hold it"
        )
    t, n = outputs.shape[-2], outputs.shape[-1]
    if t == 0:
        return torch.full(outputs.shape[:-2], math.nan, dtype=torch.float64,
                          device=outputs.device)
    held = torch.stack([(outputs == GUESS_0).sum(-1), (outputs == GUESS_1).sum(-1)], -1)
    ok = (held.double() >= float(threshold) * n - 1e-9).long()  # (..., T, 2)
    to_end = ok.flip(-2).cummin(-2).values.flip(-2).bool()  # held from t to the last step
    steps = torch.arange(t, dtype=torch.float64, device=outputs.device).unsqueeze(-1)
    first = torch.where(to_end, steps, math.inf).amin(-2).amin(-1)
    return torch.where(torch.isinf(first), math.nan, first)


def lies(actions: torch.Tensor, belief: torch.Tensor) -> torch.Tensor:
    """Where a definite guess contradicts the belief, both in the agent's own frame (bool).

    Examples
    --------
    >>> import torch
    >>> lies(torch.tensor([1, 0, 2, 1]), torch.tensor([0.2, 0.2, 0.9, 0.5])).tolist()
    [True, False, False, False]
    """
    return (actions != WAIT) & ((belief - 0.5) * (actions.to(belief.dtype) - 0.5) < 0)


def lying_rate(lying: torch.Tensor, outputs: torch.Tensor) -> torch.Tensor:
    """Lies over definite guesses, pooled over the last two axes (steps, agents), ``(...)``.

    NaN with no definite guess. For a per-step rate pass ``lying[..., None, :]`` and
    ``outputs[..., None, :]``.

    Parameters
    ----------
    lying : Tensor of bool, shape (..., T, N)
        From :func:`lies`.
    outputs : Tensor of int, shape (..., T, N)

    Examples
    --------
    >>> import torch
    >>> lying_rate(torch.tensor([[[True, False, False]]]), torch.tensor([[[1, 0, 2]]])).tolist()
    [0.5]
    """
    return _share(lying.sum((-2, -1)), (outputs != WAIT).sum((-2, -1)))


def ever_lied(lying: torch.Tensor) -> torch.Tensor:
    """Share of agents that lie at least once over the steps, ``(...)`` from ``(..., T, N)``.

    Examples
    --------
    >>> import torch
    >>> ever_lied(torch.tensor([[[True, False], [False, False]]])).tolist()
    [0.5]
    """
    return lying.any(-2).double().mean(-1)


# ---------------------------------------------------------------------------- polarisation
def group_opinions(
    outputs: torch.Tensor, groups: torch.Tensor, num_groups: int | None = None
) -> torch.Tensor:
    """Mean stated opinion of each group (share of 1s among guessing members), ``(..., G)``.

    NaN where no member of a group guesses.

    Parameters
    ----------
    outputs : Tensor of int, shape (..., N)
    groups : Tensor of int, shape (N,)
        Group code ``0 .. G-1`` of every agent.
    num_groups : int, optional
        ``G`` (default: the largest code plus one).

    Examples
    --------
    >>> import torch
    >>> group_opinions(torch.tensor([[1, 1, 0, 2]]), torch.tensor([0, 0, 1, 1])).tolist()
    [[1.0, 0.0]]
    """
    codes = torch.as_tensor(groups, device=outputs.device).long()
    g = num_groups if num_groups is not None else (int(codes.max()) + 1 if codes.numel() else 0)
    onehot = torch.nn.functional.one_hot(codes, g).double()  # (N, G)
    return _share((outputs == GUESS_1).double() @ onehot, (outputs != WAIT).double() @ onehot)


def _moments(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Count, mean and centred values of the non-NaN entries along the last axis."""
    ok = ~torch.isnan(x)
    cnt = ok.sum(-1, keepdim=True).double()
    mu = torch.where(ok, x, 0.0).sum(-1, keepdim=True) / cnt
    d = torch.where(ok, x - mu, 0.0)
    return cnt, mu, d


def group_variance(means: torch.Tensor) -> torch.Tensor:
    """Population variance of the group means that exist (``(..., G) -> (...)``).

    NaN with fewer than two.

    Examples
    --------
    >>> import torch
    >>> group_variance(torch.tensor([[0.0, 1.0, float("nan")], [0.5, float("nan"), 0]])).tolist()
    [0.25, 0.0625]
    """
    cnt, _, d = _moments(means.double())
    var = (d**2).sum(-1, keepdim=True) / cnt
    return torch.where(cnt >= 2, var, math.nan).squeeze(-1)


def group_gap(means: torch.Tensor) -> torch.Tensor:
    """Largest minus smallest group mean (``(..., G) -> (...)``); NaN with fewer than two.

    Examples
    --------
    >>> import torch
    >>> group_gap(torch.tensor([[0.2, 0.9, float("nan")], [0.5, float("nan"), float("nan")]]))
    tensor([0.7000,    nan], dtype=torch.float64)
    """
    m = means.double()
    ok = ~torch.isnan(m)
    gap = torch.where(ok, m, -math.inf).amax(-1) - torch.where(ok, m, math.inf).amin(-1)
    return torch.where(ok.sum(-1) >= 2, gap, math.nan)


def bimodality_coefficient(x: torch.Tensor) -> torch.Tensor:
    """``(skew^2 + 1) / kurtosis`` with population moments along the last axis, ``(...)``.

    NaN entries are ignored; NaN with fewer than two values or zero variance.

    Examples
    --------
    >>> import torch
    >>> bimodality_coefficient(torch.tensor([[0.0, 0.0, 1.0, 1.0], [0.3, 0.3, 0.3, 0.3]]))
    tensor([1., nan], dtype=torch.float64)
    """
    cnt, mu, d = _moments(x.double())
    m2, m3, m4 = ((d**k).sum(-1, keepdim=True) / cnt for k in (2, 3, 4))
    ok = (cnt >= 2) & (m2 > 1e-12 * torch.clamp(mu**2, min=1.0))
    m2s = torch.where(ok, m2, 1.0)
    bc = (m3**2 / m2s**3 + 1.0) / (m4 / m2s**2)
    return torch.where(ok, bc, math.nan).squeeze(-1)


def opinion_bimodality(outputs: torch.Tensor) -> torch.Tensor:
    """Bimodality coefficient across agents of each agent's mean stated opinion over steps.

    ``(..., T, N) -> (...)``; agents that never guess are left out.

    Examples
    --------
    >>> import torch
    >>> opinion_bimodality(torch.tensor([[[0, 1], [0, 1]], [[0, 1], [1, 0]]])).tolist()
    [1.0, nan]
    """
    per_agent = _share((outputs == GUESS_1).sum(-2), (outputs != WAIT).sum(-2))
    return bimodality_coefficient(per_agent)


def polarisation(
    outputs: torch.Tensor,
    edge_index: torch.Tensor | None = None,
    groups: torch.Tensor | None = None,
    edge_active: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """Polarisation of the stated opinions, each measure of shape ``(...)``.

    Parameters
    ----------
    outputs : Tensor of int, shape (..., N)
    edge_index : Tensor of int, shape (2, E), optional
        Enables the edge measures.
    groups : Tensor of int, shape (N,), optional
        Group code ``0 .. G-1`` per agent; enables the group measures.
    edge_active : Tensor of bool, broadcastable to (..., E), optional

    Returns
    -------
    dict of Tensor of float64
        With edges: ``edge_disagreement`` (:func:`disagreement`). With groups:
        ``group_variance``, ``group_bimodality`` (of the group means) and ``group_gap``.
        With both: ``cross_disagreement`` and ``within_disagreement`` (the disagreement of
        the cross-group and of the within-group edges).

    Examples
    --------
    >>> import torch
    >>> ei = torch.tensor([[0, 1, 2, 3, 0, 2], [1, 0, 3, 2, 2, 0]])
    >>> p = polarisation(torch.tensor([[0, 0, 1, 1]]), ei, torch.tensor([0, 0, 1, 1]))
    >>> [p[k].tolist() for k in ("group_gap", "cross_disagreement", "within_disagreement")]
    [[1.0], [1.0], [0.0]]
    """
    out: dict[str, torch.Tensor] = {}
    codes = None if groups is None else torch.as_tensor(groups, device=outputs.device).long()
    cross = None
    if edge_index is not None:
        ei = edge_index.to(outputs.device)
        subsets = None
        if codes is not None:
            cross = codes[ei[0]] != codes[ei[1]]
            subsets = torch.stack([torch.ones_like(cross), cross, ~cross])
        c = edge_counts(outputs, ei, edge_active, subsets=subsets)
        dis = _share(c["disagree"], c["active"])
        out["edge_disagreement"] = dis if subsets is None else dis[..., 0]
    if codes is not None:
        m = group_opinions(outputs, codes)
        out["group_variance"] = group_variance(m)
        out["group_bimodality"] = bimodality_coefficient(m)
        out["group_gap"] = group_gap(m)
        if cross is not None:
            out["cross_disagreement"] = dis[..., 1]
            out["within_disagreement"] = dis[..., 2]
    return out


# ---------------------------------------------------------------------------- rewards, signals
def mean_return(rewards: torch.Tensor) -> torch.Tensor:
    """Each agent's reward summed over the steps, averaged over agents: ``(..., T, N) -> (...)``.

    Examples
    --------
    >>> import torch
    >>> mean_return(torch.tensor([[[0.5, -0.25], [0.5, 0.25]]])).tolist()
    [0.5]
    """
    return rewards.double().sum(-2).mean(-1)


def signal_accuracy(signals: torch.Tensor, truth: Any) -> torch.Tensor:
    """Share of agents whose signal lies on the truth's side of 0.5, ``(..., N) -> (...)``.

    A missing signal (0.5) reads as 0, as when an agent follows its signal.

    Examples
    --------
    >>> import torch
    >>> s = torch.tensor([[0.9, 0.2, 0.5], [0.4, 0.5, 0.6]])
    >>> signal_accuracy(s, torch.tensor([1, 0])).tolist()
    [0.3333333333333333, 0.6666666666666666]
    """
    return accuracy((signals > 0.5).long(), truth)


# ---------------------------------------------------------------------------- belief quality
def belief_accuracy(belief: torch.Tensor, truth: Any) -> torch.Tensor:
    """Share of agents whose belief leans to the truth, ``(..., N) -> (...)``.

    An agent is right when ``(b - 0.5)(Psi - 0.5) > 0``; a belief of exactly 0.5 leans
    nowhere and counts as wrong (as a wait does in :func:`accuracy`).

    Parameters
    ----------
    belief : Tensor of float, shape (..., N)
        The belief head ``P(Psi = 1)`` in the environment's frame.
    truth : Tensor or int
        The hidden truth 0 or 1, broadcastable to ``belief.shape[:-1]`` (for ``(B, T, N)``
        episodes pass ``truth[:, None]``, as for :func:`accuracy`).

    Returns
    -------
    Tensor of float64, shape (...)

    Examples
    --------
    >>> import torch
    >>> b = torch.tensor([[0.9, 0.6, 0.5, 0.2], [0.1, 0.4, 0.5, 0.5]])
    >>> belief_accuracy(b, torch.tensor([1, 0])).tolist()
    [0.5, 0.5]
    """
    b = belief.double()
    t = torch.as_tensor(truth, device=b.device).double().unsqueeze(-1)
    return ((b - 0.5) * (t - 0.5) > 0).double().mean(-1)


def belief_brier(belief: torch.Tensor, truth: Any) -> torch.Tensor:
    """Brier score of the belief head, the mean over agents of ``(b - Psi)^2``, ``(...)``.

    0 for a head that is sure and right, 0.25 for a constant coin flip ``b = 0.5``, 1 for
    one that is sure and wrong.

    Parameters
    ----------
    belief : Tensor of float, shape (..., N)
        The belief head ``P(Psi = 1)`` in the environment's frame.
    truth : Tensor or int
        The hidden truth 0 or 1, broadcastable to ``belief.shape[:-1]`` (for ``(B, T, N)``
        episodes pass ``truth[:, None]``).

    Returns
    -------
    Tensor of float64, shape (...)

    Examples
    --------
    >>> import torch
    >>> b = torch.tensor([[1.0, 0.5], [0.0, 0.5]])
    >>> belief_brier(b, torch.tensor([1, 1])).tolist()
    [0.125, 0.625]
    """
    b = belief.double()
    t = torch.as_tensor(truth, device=b.device).double().unsqueeze(-1)
    return ((b - t) ** 2).mean(-1)


def _check_sigma(sigma: Any) -> float:
    """``sigma`` as a float > 0, or a ``ValueError`` naming the field and the fix."""
    return as_float(
        sigma, "sigma", positive=True,
        what="pass the signal noise standard deviation of the game that drew the signals "
             "(GameConfig.sigma, a finite number > 0); with sigma = 0 the signals are exact "
             "and signal_accuracy is the baseline",
    )


def signal_posterior(signals: torch.Tensor, sigma: float) -> torch.Tensor:
    """``P(Psi = 1 | x)`` of each signal under the game's noise model, same shape.

    For ``x = Psi + sigma * eps`` with ``eps ~ N(0, 1)`` and a uniform prior on ``Psi``,
    Bayes' rule gives ``1 / (1 + exp(-(2x - 1) / (2 sigma^2)))``. The game gives an agent
    without a signal the value 0.5, whose posterior is exactly 0.5 (it learns nothing).
    Experts see ``Psi`` exactly and are read here as ordinary signals ``x = Psi``.

    Parameters
    ----------
    signals : Tensor of float, any shape
        Private signals in the environment's frame.
    sigma : float
        The signal noise standard deviation (``GameConfig.sigma``), finite and > 0.

    Returns
    -------
    Tensor of float64, the shape of ``signals``

    Examples
    --------
    >>> import torch
    >>> signal_posterior(torch.tensor([0.5, 1.0, 0.0]), 0.5).tolist()
    [0.5, 0.8807970779778823, 0.11920292202211755]
    >>> signal_posterior(torch.tensor([0.5]), 0.0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: sigma=0.0 must be > 0; pass the signal noise standard deviation ...
    """
    s = _check_sigma(sigma)
    x = signals.double()
    return torch.sigmoid((2.0 * x - 1.0) / (2.0 * s * s))


def signal_brier(signals: torch.Tensor, truth: Any, sigma: float) -> torch.Tensor:
    """Brier score of a head that knows only its own signal, ``(..., N) -> (...)``.

    The mean over agents of ``(signal_posterior(x) - Psi)^2`` (:func:`signal_posterior`):
    the baseline beside :func:`belief_brier` (an agent without a signal scores 0.25).

    Parameters
    ----------
    signals : Tensor of float, shape (..., N)
        Private signals in the environment's frame (0.5 without a signal).
    truth : Tensor or int
        The hidden truth 0 or 1, broadcastable to ``signals.shape[:-1]``.
    sigma : float
        The signal noise standard deviation (``GameConfig.sigma``), finite and > 0.

    Returns
    -------
    Tensor of float64, shape (...)

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.5, 0.5], [1.0, 0.5]])  # 0.5: no signal
    >>> signal_brier(x, torch.tensor([1, 1]), 0.5).round(decimals=4).tolist()
    [0.25, 0.1321]
    """
    p = signal_posterior(signals, sigma)
    t = torch.as_tensor(truth, device=p.device).double().unsqueeze(-1)
    return ((p - t) ** 2).mean(-1)
