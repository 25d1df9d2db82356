"""Measurements of a population's stated opinions, with bootstrap confidence intervals.

All functions take the evaluation arrays in one layout, as NumPy arrays or torch tensors:

* ``outputs`` : int, shape ``(B, T, N)`` -- codes 0, 1 (guesses) and 2 (wait) stated by
  ``N`` agents over ``T`` steps of ``B`` episodes, in the environment's labels;
* ``truth`` : int, shape ``(B,)`` -- the hidden state ``Psi`` of each episode;
* ``beliefs`` : float, shape ``(B, T, N)`` -- the belief head ``P(Psi = 1)``;
* ``flips`` : bool, shape ``(B, N)`` -- the other-play flip bits of each agent;
* ``signals`` : float, shape ``(B, N)`` -- the private signals in the environment's labels
  (0.5 without a signal), and ``sigma`` the game's signal noise standard deviation;
* a :class:`~socialmarl.networks.graph.Graph`, and optionally ``edge_active`` of shape
  ``(B, T, E)`` aligned with ``graph.edge_index`` (edges live at each step; all by default).

Per-step building blocks return NumPy arrays ``(B, T)`` or ``(B,)``; the tidy entry points
:func:`episode_metrics`, :func:`summarise`, :func:`over_steps` and :func:`sweep_table`
return pandas DataFrames.

Every quantity is computed by :mod:`socialmarl.game.measures`, the one definition the game,
the evaluation record and the rules use too; the functions here check and convert the
arrays and return NumPy. The measures' conventions, in short (see that module for all):

* Accuracy counts a wait as wrong. Agreement is the share of active edges whose two ends
  state the same definite guess, disagreement the share whose ends state opposite guesses
  (agreement + disagreement <= 1); self loops are ignored; with no active edge both are NaN.
* Entropy is the binary entropy in bits of the share of 1s among agents that guess, and
  1 bit when nobody guesses.
* Consensus time is the first step ``t`` (0-based) from which on, up to the last step, at
  least ``threshold`` of all ``N`` agents state one and the same guess; NaN when never.
* A stated opinion is 1 for guess 1, 0 for guess 0 and missing for wait; group means,
  group variance (ddof 0, groups weighted equally) and the bimodality coefficient
  ``(skew^2 + 1) / kurtosis`` (population moments) follow. With two groups the coefficient
  is 1 whenever they differ, so it is informative with many groups (communities).
* Lying (the README's "Analysis"): a definite guess ``a`` against the own belief ``b``,
  ``(b - 0.5)(a - 0.5) < 0``, frame-invariant. The lying rate of an episode is its lies /
  definite guesses (NaN with no guess); ever-lied is the share of agents that lie at least
  once in the episode.
* Belief quality, reported beside every lying number (a lie read against an uninformative
  head means little): belief accuracy is the share of agents whose belief leans to the
  truth, ``(b - 0.5)(Psi - 0.5) > 0`` (a belief of exactly 0.5 counts as wrong, as a wait
  does in accuracy); the belief Brier score is the mean over agents of ``(b - Psi)^2``
  (0 perfect, 0.25 a coin flip). Both read the beliefs in the environment's frame (own-frame
  beliefs, ``belief_frame="agent"``, are mapped there with the flips, ``b -> 1 - b``).
  Their baselines are what an agent knows from its own signal alone: signal accuracy (the
  signal on the truth's side of 0.5) and the signal Brier score, that of the posterior
  ``P(Psi = 1 | x) = 1 / (1 + exp(-(2x - 1) / (2 sigma^2)))`` of the game's signal
  ``x = Psi + sigma * eps`` (0.5, no signal, has posterior 0.5; experts are read as
  ordinary signals).

Conventions of the tables here: :func:`summarise` averages per-episode values over the
episodes where they are not NaN (``n`` counts those); ``agreement_mean`` of an episode is
the mean over its steps with an active edge; ``consensus_reached`` is the share of episodes
that reach consensus and ``consensus_time`` the mean over those.

Confidence intervals are percentile bootstraps of the mean over episodes, seeded. Several
seeds (runs) of one population, e.g. the training seeds of one alpha, are pooled by
concatenating their episodes and passing ``runs``, one label per episode
(:func:`concat_runs` builds both from per-seed records). Then:

* seeds weigh equally: the value is the mean over seeds of each seed's mean over its
  episodes, and ``n_seeds`` counts the seeds with a value (``n`` still counts episodes);
* a two-level bootstrap resamples seeds, then episodes within each chosen seed, so an
  interval shows run-to-run variation as well as episode noise. The spread of the seed means
  already holds episode noise; the resampled seed means are shrunk towards the grand mean so
  that their spread is the seed-level variance alone, estimated as the variance of the seed
  means less the mean squared standard error of a seed mean (floored at 0), as in
  Davison & Hinkley (1997, sec. 3.8). The bootstrap variance of the value is then about
  ``(S - 1)/S * var_seed/S + var_episode/(S*n)`` for ``S`` seeds of ``n`` episodes, and
  with no seed-level variance the interval matches the episode-only one. Like any bootstrap
  it is optimistic with very few seeds (the ``(S - 1)/S``, and percentiles of only a few
  distinct seed sets); with one seed it is the episode bootstrap.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..game import measures
from ..game.measures import lies
from ..networks.graph import Graph

__all__ = [
    "accuracy_per_step",
    "edge_opinion_counts",
    "agreement_per_step",
    "disagreement_per_step",
    "entropy_per_step",
    "wait_rate_per_step",
    "consensus_time",
    "group_labels",
    "group_opinions",
    "bimodality_coefficient",
    "polarisation_per_step",
    "opinion_bimodality",
    "lying_mask",
    "lying_rate",
    "ever_lied",
    "belief_accuracy_per_step",
    "belief_brier_per_step",
    "mean_return",
    "signal_accuracy",
    "signal_brier",
    "bootstrap_ci",
    "concat_runs",
    "episode_metrics",
    "summarise",
    "over_steps",
    "sweep_table",
    "SUMMARY_COLUMNS",
    "SWEEP_COLUMNS",
]

SUMMARY_COLUMNS = ["metric", "value", "ci_low", "ci_high", "n", "n_seeds"]
SWEEP_COLUMNS = ["network", "alpha", "metric", "value", "ci_low", "ci_high", "n", "n_seeds"]

# ---------------------------------------------------------------------------- input checks
def _device(x: Any, device: str | torch.device | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return x.device if isinstance(x, torch.Tensor) else torch.device("cpu")


def _tensor(x: Any, name: str, device: torch.device) -> torch.Tensor:
    try:
        t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be an array or tensor, got {type(x).__name__}") from err
    return t.detach().to(device)


def _outputs(outputs: Any, device: torch.device) -> torch.Tensor:
    o = _tensor(outputs, "outputs", device)
    if o.dim() != 3:
        hint = " (for one episode pass outputs[None])" if o.dim() == 2 else ""
        raise ValueError(
            f"outputs has shape {tuple(o.shape)}; it must be (B, T, N) = (episodes, steps, "
            f"agents){hint}"
        )
    if o.is_floating_point():
        if not torch.equal(o, o.round()):
            raise ValueError("outputs holds non-integer values; codes must be 0, 1 or 2 (wait)")
    o = o.long()
    if o.numel() and (int(o.min()) < 0 or int(o.max()) > 2):
        bad = int(o.max()) if int(o.max()) > 2 else int(o.min())
        raise ValueError(
            f"outputs holds code {bad}; stated outputs must be 0, 1 or 2 (wait) -- map "
            "'no edge' (3) or other codes away before measuring"
        )
    return o


def _truth(truth: Any, b: int, device: torch.device) -> torch.Tensor:
    t = _tensor(truth, "truth", device).reshape(-1)
    if t.numel() != b:
        raise ValueError(f"truth has {t.numel()} entries for {b} episodes; give one per episode")
    if not bool(((t == 0) | (t == 1)).all()):
        raise ValueError(f"truth holds {sorted(set(t.tolist()) - {0, 1})}; it must be 0 or 1")
    return t.long()


def _edges(
    graph: Graph, o: torch.Tensor, edge_active: Any | None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The graph's ``edge_index`` on the device of ``o`` and the checked mask (B, T, E)."""
    if not isinstance(graph, Graph):
        raise TypeError(f"graph must be a socialmarl Graph, got {type(graph).__name__}")
    n = o.shape[2]
    if graph.num_nodes != n:
        raise ValueError(
            f"graph has {graph.num_nodes} nodes but outputs has {n} agents (last axis); "
            "pass the graph the episodes were played on"
        )
    act = None
    if edge_active is not None:
        act = _tensor(edge_active, "edge_active", o.device).bool()
        want = (o.shape[0], o.shape[1], graph.num_edges)
        if tuple(act.shape) != want:
            raise ValueError(
                f"edge_active has shape {tuple(act.shape)}; it must be (B, T, E) = {want}, "
                "aligned with graph.edge_index"
            )
    return graph.edge_index.to(o.device), act


def _numpy(x: torch.Tensor) -> np.ndarray:
    return x.detach().cpu().numpy()


# ---------------------------------------------------------------------------- per step
def accuracy_per_step(
    outputs: Any, truth: Any, *, device: str | torch.device | None = None
) -> np.ndarray:
    """Share of agents whose stated output equals the truth, per episode and step.

    A wait counts as wrong (:func:`socialmarl.game.measures.accuracy`).

    Parameters
    ----------
    outputs : array or Tensor of int, shape (B, T, N)
        Codes 0, 1, 2 (wait).
    truth : array or Tensor of int, shape (B,)
    device : str or torch.device, optional
        Where to compute (default: the device of ``outputs``).

    Returns
    -------
    numpy.ndarray of float, shape (B, T)

    Examples
    --------
    >>> accuracy_per_step([[[1, 1, 0, 2]]], [1]).tolist()
    [[0.5]]
    """
    dev = _device(outputs, device)
    o = _outputs(outputs, dev)
    t = _truth(truth, o.shape[0], dev)
    return _numpy(measures.accuracy(o, t[:, None]))


def edge_opinion_counts(
    outputs: Any,
    graph: Graph,
    *,
    edge_active: Any | None = None,
    edge_mask: Any | None = None,
    device: str | torch.device | None = None,
) -> dict[str, np.ndarray]:
    """Counts of edges in agreement and disagreement, per episode and step.

    :func:`socialmarl.game.measures.edge_counts` on checked arrays.

    Parameters
    ----------
    outputs : array or Tensor of int, shape (B, T, N)
    graph : Graph
        Edges ``j -> i`` compare the statements of sender ``j`` and receiver ``i``; self
        loops are ignored.
    edge_active : array or Tensor of bool, shape (B, T, E), optional
        Which edges are live at each step (all of them by default).
    edge_mask : array of bool, shape (E,), optional
        Restrict to a subset of edges (e.g. the edges between two groups).
    device : str or torch.device, optional

    Returns
    -------
    dict of numpy.ndarray, shape (B, T)
        ``agree`` (both ends state the same guess), ``disagree`` (opposite guesses) and
        ``edges`` (edges counted).

    Examples
    --------
    >>> import socialmarl as sm
    >>> c = edge_opinion_counts([[[0, 0, 1]]], sm.complete_graph(3))
    >>> c["agree"].tolist(), c["disagree"].tolist(), c["edges"].tolist()
    ([[2.0]], [[4.0]], [[6.0]])
    """
    dev = _device(outputs, device)
    o = _outputs(outputs, dev)
    ei, act = _edges(graph, o, edge_active)
    if edge_mask is not None:
        mask = _tensor(edge_mask, "edge_mask", dev).bool().reshape(-1)
        if mask.numel() != graph.num_edges:
            raise ValueError(
                f"edge_mask has {mask.numel()} entries for {graph.num_edges} edges; give one "
                "per edge"
            )
        act = mask if act is None else act & mask
    c = measures.edge_counts(o, ei, act)
    return {"agree": _numpy(c["agree"]), "disagree": _numpy(c["disagree"]),
            "edges": _numpy(c["active"])}


def agreement_per_step(
    outputs: Any,
    graph: Graph,
    *,
    edge_active: Any | None = None,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Share of (active) edges whose two ends state the same definite guess, shape (B, T).

    NaN at a step with no active edge (:func:`socialmarl.game.measures.agreement`).

    Examples
    --------
    >>> import socialmarl as sm
    >>> agreement_per_step([[[1, 1, 1], [1, 1, 2]]], sm.complete_graph(3)).tolist()
    [[1.0, 0.3333333333333333]]
    """
    dev = _device(outputs, device)
    o = _outputs(outputs, dev)
    ei, act = _edges(graph, o, edge_active)
    return _numpy(measures.agreement(o, ei, act))


def disagreement_per_step(
    outputs: Any,
    graph: Graph,
    *,
    edge_active: Any | None = None,
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Share of (active) edges whose ends state opposite guesses, shape (B, T).

    NaN at a step with no active edge (:func:`socialmarl.game.measures.disagreement`).

    Examples
    --------
    >>> import socialmarl as sm
    >>> disagreement_per_step([[[0, 1]]], sm.complete_graph(2)).tolist()
    [[1.0]]
    """
    dev = _device(outputs, device)
    o = _outputs(outputs, dev)
    ei, act = _edges(graph, o, edge_active)
    return _numpy(measures.disagreement(o, ei, act))


def entropy_per_step(outputs: Any, *, device: str | torch.device | None = None) -> np.ndarray:
    """Binary entropy (bits) of the share of 1s among guessing agents, shape (B, T).

    1 bit when nobody guesses, as in the game's per-step info
    (:func:`socialmarl.game.measures.entropy`).

    Examples
    --------
    >>> entropy_per_step([[[0, 1, 2], [1, 1, 2], [2, 2, 2]]]).tolist()
    [[1.0, 0.0, 1.0]]
    """
    return _numpy(measures.entropy(_outputs(outputs, _device(outputs, device))))


def wait_rate_per_step(outputs: Any, *, device: str | torch.device | None = None) -> np.ndarray:
    """Share of agents that wait, shape (B, T) (:func:`socialmarl.game.measures.wait_rate`).

    Examples
    --------
    >>> wait_rate_per_step([[[0, 2], [2, 2]]]).tolist()
    [[0.5, 1.0]]
    """
    return _numpy(measures.wait_rate(_outputs(outputs, _device(outputs, device))))


def consensus_time(
    outputs: Any, *, threshold: float = 0.9, device: str | torch.device | None = None
) -> np.ndarray:
    """First step from which a ``threshold`` share of agents holds one guess to the end.

    :func:`socialmarl.game.measures.consensus_time` on checked arrays.

    Parameters
    ----------
    outputs : array or Tensor of int, shape (B, T, N)
    threshold : float in (0.5, 1]
        Share of all ``N`` agents (waits count against it) that must state the same guess.
    device : str or torch.device, optional

    Returns
    -------
    numpy.ndarray of float, shape (B,)
        The 0-based step, or NaN for an episode that never reaches a lasting consensus.

    Examples
    --------
    >>> consensus_time([[[0, 1], [1, 1], [1, 1]], [[0, 1], [1, 1], [0, 1]]], threshold=1.0)
    array([ 1., nan])
    """
    o = _outputs(outputs, _device(outputs, device))
    return _numpy(measures.consensus_time(o, threshold))


# ---------------------------------------------------------------------------- polarisation
def group_labels(graph: Graph | None, groups: Any, num_nodes: int | None = None) -> np.ndarray:
    """Integer group codes ``0..G-1`` (shape (N,)) from labels or a node attribute name.

    Parameters
    ----------
    graph : Graph or None
        Needed when ``groups`` names a node attribute (e.g. ``"party"``, ``"block"``).
    groups : str or sequence
        A node attribute name, or one label per agent (any hashable values).
    num_nodes : int, optional
        Expected number of agents (defaults to ``graph.num_nodes``).

    Examples
    --------
    >>> group_labels(None, ["R", "D", "R"]).tolist()
    [1, 0, 1]
    """
    if isinstance(groups, str):
        if graph is None:
            raise ValueError(f"groups={groups!r} names a node attribute; pass the graph too")
        if groups not in graph.node_attrs:
            raise ValueError(
                f"the graph has no node attribute {groups!r}; available: "
                f"{sorted(graph.node_attrs)} (or pass one label per agent)"
            )
        groups = graph.node_attrs[groups]
    if isinstance(groups, torch.Tensor):
        groups = groups.detach().cpu().numpy()
    labels = np.asarray(list(groups) if not isinstance(groups, np.ndarray) else groups)
    n = num_nodes if num_nodes is not None else (graph.num_nodes if graph is not None else None)
    if labels.ndim != 1 or (n is not None and labels.shape[0] != n):
        raise ValueError(
            f"groups has shape {labels.shape}; give one label per agent ({n} agents)"
        )
    _, codes = np.unique(labels, return_inverse=True)
    return codes.reshape(-1).astype(np.int64)


def _group_codes(graph: Graph | None, groups: Any, o: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(group_labels(graph, groups, o.shape[2]), device=o.device)


def group_opinions(
    outputs: Any, groups: Any, *, device: str | torch.device | None = None
) -> np.ndarray:
    """Mean stated opinion (share of guess 1 among guessing members) per group, (B, T, G).

    NaN where no member of a group guesses. ``groups`` is one label per agent
    (:func:`socialmarl.game.measures.group_opinions`).

    Examples
    --------
    >>> group_opinions([[[1, 1, 0, 2]]], [0, 0, 1, 1]).tolist()
    [[[1.0, 0.0]]]
    """
    o = _outputs(outputs, _device(outputs, device))
    return _numpy(measures.group_opinions(o, _group_codes(None, groups, o)))


def bimodality_coefficient(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Bimodality coefficient ``(skew^2 + 1) / kurtosis`` with population moments.

    NaN values are ignored; the result is NaN with fewer than two values or zero variance
    (:func:`socialmarl.game.measures.bimodality_coefficient` along ``axis``).

    Examples
    --------
    >>> float(bimodality_coefficient(np.array([0.0, 0.0, 1.0, 1.0])))
    1.0
    """
    x = np.ascontiguousarray(np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1))
    return _numpy(measures.bimodality_coefficient(torch.from_numpy(x)))


def polarisation_per_step(
    outputs: Any,
    graph: Graph | None = None,
    *,
    groups: Any | None = None,
    edge_active: Any | None = None,
    device: str | torch.device | None = None,
) -> dict[str, np.ndarray]:
    """Polarisation of the stated opinions per episode and step, each of shape (B, T).

    :func:`socialmarl.game.measures.polarisation` on checked arrays.

    Parameters
    ----------
    outputs : array or Tensor of int, shape (B, T, N)
    graph : Graph, optional
        Needed for the edge measures and when ``groups`` names a node attribute.
    groups : str or sequence, optional
        Node attribute name (``"party"``, ``"block"``, ``"club"``) or one label per agent.
    edge_active : array of bool, shape (B, T, E), optional
    device : str or torch.device, optional

    Returns
    -------
    dict of numpy.ndarray
        With a graph: ``edge_disagreement``. With groups: ``group_variance`` (variance of
        the group means across groups), ``group_bimodality``, ``group_gap`` (largest minus
        smallest group mean; ``|m_1 - m_0|`` for two groups). With both:
        ``cross_disagreement`` and ``within_disagreement`` (share of cross-group and
        within-group edges in disagreement).

    Examples
    --------
    >>> import socialmarl as sm
    >>> p = polarisation_per_step([[[0, 0, 1, 1]]], sm.complete_graph(4), groups=[0, 0, 1, 1])
    >>> p["group_gap"].tolist(), p["cross_disagreement"].tolist()
    ([[1.0]], [[1.0]])
    """
    o = _outputs(outputs, _device(outputs, device))
    return _polarisation(o, graph, groups, edge_active)


def _polarisation(
    o: torch.Tensor, graph: Graph | None, groups: Any | None, edge_active: Any | None
) -> dict[str, np.ndarray]:
    codes = None if groups is None else _group_codes(graph, groups, o)
    ei, act = (None, None) if graph is None else _edges(graph, o, edge_active)
    return {k: _numpy(v) for k, v in measures.polarisation(o, ei, codes, act).items()}


def opinion_bimodality(outputs: Any, *, device: str | torch.device | None = None) -> np.ndarray:
    """Bimodality coefficient across agents of each agent's mean stated opinion, shape (B,).

    An agent's mean opinion is its share of guess 1 among its definite guesses over the
    episode's steps; agents that never guess are left out
    (:func:`socialmarl.game.measures.opinion_bimodality`).

    Examples
    --------
    >>> opinion_bimodality([[[0, 1], [0, 1]], [[0, 1], [1, 0]]]).tolist()
    [1.0, nan]
    """
    return _numpy(measures.opinion_bimodality(_outputs(outputs, _device(outputs, device))))


# ---------------------------------------------------------------------------- lying
def _beliefs(
    beliefs: Any, flips: Any | None, belief_frame: str, shape: tuple[int, ...],
    dev: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Checked beliefs (float64, as given) and flips (bool, (B, N)).

    ``shape`` is the outputs' ``(B, T, N)`` the beliefs must match, or ``()`` for any
    ``(B, T, N)``.
    """
    b = _tensor(beliefs, "beliefs", dev).double()
    if b.dim() != 3 or (shape and tuple(b.shape) != tuple(shape)):
        want = f"match outputs {tuple(shape)}" if shape else "be (B, T, N)"
        raise ValueError(f"beliefs has shape {tuple(b.shape)}; it must {want}")
    if torch.isnan(b).any() or (b < 0).any() or (b > 1).any():
        raise ValueError("beliefs must be probabilities P(Psi = 1) in [0, 1] without NaN")
    if belief_frame not in ("env", "agent"):
        raise ValueError(f"belief_frame={belief_frame!r}; use 'env' or 'agent'")
    if flips is None:
        if belief_frame == "agent":
            raise ValueError("belief_frame='agent' needs the flips (B, N) to map beliefs")
        f = torch.zeros(b.shape[0], b.shape[2], dtype=torch.bool, device=dev)
    else:
        f = _tensor(flips, "flips", dev).bool()
        if tuple(f.shape) != (b.shape[0], b.shape[2]):
            raise ValueError(
                f"flips has shape {tuple(f.shape)}; it must be (B, N) = "
                f"{(b.shape[0], b.shape[2])}"
            )
    return b, f


def _lying(
    o: torch.Tensor, beliefs: Any, flips: Any | None, belief_frame: str
) -> torch.Tensor:
    """Checked inputs into the agents' own frames, then :func:`measures.lies` (B, T, N)."""
    b, f = _beliefs(beliefs, flips, belief_frame, tuple(o.shape), o.device)
    fb = f[:, None, :]
    b_own = torch.where(fb, 1.0 - b, b) if belief_frame == "env" else b
    a_own = torch.where(fb & (o != 2), 1 - o, o)
    return lies(a_own, b_own)


def _env_beliefs(
    beliefs: Any, flips: Any | None, belief_frame: str, shape: tuple[int, ...],
    dev: torch.device,
) -> torch.Tensor:
    """Checked beliefs in the environment's frame (B, T, N), as the truth is.

    The inverse of :func:`_lying`'s map: a flipped agent's own-frame belief ``b`` is
    ``1 - b`` in the environment's labels.
    """
    b, f = _beliefs(beliefs, flips, belief_frame, shape, dev)
    return torch.where(f[:, None, :], 1.0 - b, b) if belief_frame == "agent" else b


def lying_mask(
    outputs: Any,
    beliefs: Any,
    flips: Any | None = None,
    *,
    belief_frame: str = "env",
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Where an agent states a definite guess opposite to its own belief, (B, T, N) bool.

    Both the guess and the belief are taken into the agent's own frame (swapped where its
    flip bit is set) and the agent lies when ``(b - 0.5)(a - 0.5) < 0``
    (:func:`socialmarl.game.measures.lies`). Because a flip maps ``b -> 1 - b`` and
    ``a -> 1 - a`` the product, hence the answer, is the same in the environment's frame.

    Parameters
    ----------
    outputs : array or Tensor of int, shape (B, T, N)
        Stated codes in the environment's labels.
    beliefs : array or Tensor of float, shape (B, T, N)
        ``P(Psi = 1)``, in the environment's labels (``belief_frame="env"``) or in each
        agent's own frame (``belief_frame="agent"``, which needs ``flips``).
    flips : array or Tensor of bool, shape (B, N), optional
        Other-play flip bits (no flips by default).
    belief_frame : {"env", "agent"}
    device : str or torch.device, optional

    Examples
    --------
    >>> lying_mask([[[1, 0, 2]]], [[[0.2, 0.2, 0.9]]]).tolist()
    [[[True, False, False]]]
    """
    o = _outputs(outputs, _device(outputs, device))
    return _numpy(_lying(o, beliefs, flips, belief_frame))


def lying_rate(
    outputs: Any,
    beliefs: Any,
    flips: Any | None = None,
    *,
    belief_frame: str = "env",
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Per episode: lies divided by definite guesses (NaN with no guess), shape (B,).

    :func:`socialmarl.game.measures.lying_rate`; see :func:`lying_mask` for the arguments.

    Examples
    --------
    >>> lying_rate([[[1, 0, 2]]], [[[0.2, 0.2, 0.9]]]).tolist()
    [0.5]
    """
    o = _outputs(outputs, _device(outputs, device))
    return _numpy(measures.lying_rate(_lying(o, beliefs, flips, belief_frame), o))


def ever_lied(
    outputs: Any,
    beliefs: Any,
    flips: Any | None = None,
    *,
    belief_frame: str = "env",
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Per episode: the share of agents that lie at least once, shape (B,).

    :func:`socialmarl.game.measures.ever_lied`; see :func:`lying_mask` for the arguments.

    Examples
    --------
    >>> ever_lied([[[1, 0], [0, 0]]], [[[0.2, 0.2], [0.2, 0.2]]]).tolist()
    [0.5]
    """
    o = _outputs(outputs, _device(outputs, device))
    return _numpy(measures.ever_lied(_lying(o, beliefs, flips, belief_frame)))


# ---------------------------------------------------------------------------- belief quality
def belief_accuracy_per_step(
    beliefs: Any,
    truth: Any,
    flips: Any | None = None,
    *,
    belief_frame: str = "env",
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Share of agents whose belief leans to the truth, per episode and step, (B, T).

    ``(b - 0.5)(Psi - 0.5) > 0`` with ``b`` in the environment's frame; a belief of exactly
    0.5 counts as wrong (:func:`socialmarl.game.measures.belief_accuracy`).

    Parameters
    ----------
    beliefs : array or Tensor of float, shape (B, T, N)
        ``P(Psi = 1)``, in the environment's labels (``belief_frame="env"``) or in each
        agent's own frame (``belief_frame="agent"``, which needs ``flips``).
    truth : array or Tensor of int, shape (B,)
    flips : array or Tensor of bool, shape (B, N), optional
        Other-play flip bits; used only with ``belief_frame="agent"``.
    belief_frame : {"env", "agent"}
    device : str or torch.device, optional

    Examples
    --------
    >>> belief_accuracy_per_step([[[0.9, 0.2], [0.5, 0.7]]], [1]).tolist()
    [[0.5, 0.5]]
    >>> belief_accuracy_per_step([[[0.9, 0.2]]], [1], [[False, True]],
    ...                          belief_frame="agent").tolist()
    [[1.0]]
    """
    dev = _device(beliefs, device)
    b = _env_beliefs(beliefs, flips, belief_frame, (), dev)
    return _numpy(measures.belief_accuracy(b, _truth(truth, b.shape[0], dev)[:, None]))


def belief_brier_per_step(
    beliefs: Any,
    truth: Any,
    flips: Any | None = None,
    *,
    belief_frame: str = "env",
    device: str | torch.device | None = None,
) -> np.ndarray:
    """Brier score of the belief head, mean over agents of ``(b - Psi)^2``, (B, T).

    0 perfect, 0.25 a constant coin flip ``b = 0.5``
    (:func:`socialmarl.game.measures.belief_brier`); arguments as
    :func:`belief_accuracy_per_step`.

    Examples
    --------
    >>> belief_brier_per_step([[[1.0, 0.5], [0.0, 0.5]]], [1]).tolist()
    [[0.125, 0.625]]
    """
    dev = _device(beliefs, device)
    b = _env_beliefs(beliefs, flips, belief_frame, (), dev)
    return _numpy(measures.belief_brier(b, _truth(truth, b.shape[0], dev)[:, None]))


# ---------------------------------------------------------------------------- rewards, signals
def mean_return(rewards: Any, *, device: str | torch.device | None = None) -> np.ndarray:
    """Per episode: each agent's summed reward, averaged over agents, shape (B,).

    ``rewards`` is (B, T, N) (:func:`socialmarl.game.measures.mean_return`).

    Examples
    --------
    >>> mean_return([[[0.5, -0.25], [0.5, 0.25]]]).tolist()
    [0.5]
    """
    r = _tensor(rewards, "rewards", _device(rewards, device))
    if r.dim() != 3:
        raise ValueError(f"rewards has shape {tuple(r.shape)}; it must be (B, T, N)")
    return _numpy(measures.mean_return(r))


def signal_accuracy(
    signals: Any, truth: Any, *, device: str | torch.device | None = None
) -> np.ndarray:
    """Per episode: the share of agents whose signal lies on the truth's side, shape (B,).

    ``signals`` is (B, N) (:func:`socialmarl.game.measures.signal_accuracy`: a missing
    signal, 0.5, reads as 0).

    Examples
    --------
    >>> signal_accuracy([[0.9, 0.2, 0.7, 0.6]], [1]).tolist()
    [0.75]
    """
    dev = _device(signals, device)
    s = _tensor(signals, "signals", dev)
    if s.dim() != 2:
        raise ValueError(f"signals has shape {tuple(s.shape)}; it must be (B, N)")
    return _numpy(measures.signal_accuracy(s, _truth(truth, s.shape[0], dev)))


def signal_brier(
    signals: Any, truth: Any, sigma: float, *, device: str | torch.device | None = None
) -> np.ndarray:
    """Per episode: the Brier score of a head that knows only its own signal, shape (B,).

    The mean over agents of ``(P(Psi = 1 | x) - Psi)^2`` for the game's Gaussian signal
    ``x = Psi + sigma * eps`` (:func:`socialmarl.game.measures.signal_brier`; a missing
    signal, 0.5, has posterior 0.5 and scores 0.25): the baseline beside the belief Brier
    score. ``signals`` is (B, N); ``sigma`` the game's ``GameConfig.sigma`` (> 0).

    Examples
    --------
    >>> signal_brier([[0.5, 0.5]], [1], 1.0).tolist()
    [0.25]
    """
    dev = _device(signals, device)
    s = _tensor(signals, "signals", dev)
    if s.dim() != 2:
        raise ValueError(f"signals has shape {tuple(s.shape)}; it must be (B, N)")
    return _numpy(measures.signal_brier(s, _truth(truth, s.shape[0], dev), sigma))


# ---------------------------------------------------------------------------- bootstrap
def _boot_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """(n_boot, n) resampling counts of ``n`` episodes."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_boot).astype(np.float64)


def _run_codes(runs: Any, b: int) -> np.ndarray:
    """Integer codes ``0..S-1`` (shape (b,)) of one run label per episode."""
    cl = np.asarray(runs.detach().cpu() if isinstance(runs, torch.Tensor) else runs)
    if cl.shape != (b,):
        raise ValueError(f"runs has shape {cl.shape}; give one run label per episode ({b})")
    try:
        _, inv = np.unique(cl, return_inverse=True)
    except TypeError as err:
        raise ValueError("runs holds labels that cannot be compared; use numbers or strings") \
            from err
    return inv.reshape(-1)


def _seeds_bootstrap(
    v: np.ndarray, inv: np.ndarray, n_boot: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Equal-weight mean over seeds and its two-level bootstrap replicates.

    ``v`` is (B, K) with NaN for missing values, ``inv`` (B,) the seed codes 0..S-1.
    Returns the value (K,), the replicates (n_boot, K) and the number of seeds with a value
    (K,). See the module docstring for the shrinkage of the seed means.
    """
    b, k = v.shape
    s_all = int(inv.max()) + 1
    ok = ~np.isnan(v)
    x = np.where(ok, v, 0.0)
    onehot = np.zeros((s_all, b))
    onehot[inv, np.arange(b)] = 1.0
    cnt = onehot @ ok.astype(np.float64)  # (S, K) values per seed
    has = cnt > 0
    means = np.where(has, (onehot @ x) / np.maximum(cnt, 1.0), 0.0)
    n_seeds = has.sum(0)
    est = np.where(n_seeds > 0, means.sum(0) / np.maximum(n_seeds, 1), np.nan)
    resid = np.where(ok, v - means[inv], 0.0)  # episodes about their seed's mean
    # squared standard error of each seed mean (ddof 1 within the seed), averaged over seeds
    se2 = (onehot @ resid**2) / np.maximum(cnt - 1.0, 1.0) / np.maximum(cnt, 1.0)
    with_se = cnt >= 2
    se2_mean = np.where(with_se.any(0), (se2 * with_se).sum(0) / np.maximum(with_se.sum(0), 1),
                        0.0)
    dev = np.where(has, means - np.where(np.isnan(est), 0.0, est), 0.0)
    spread = (dev**2).sum(0) / np.maximum(n_seeds - 1, 1)  # variance of the seed means
    with np.errstate(invalid="ignore", divide="ignore"):
        shrink = np.where((n_seeds >= 2) & (spread > 0),
                          np.sqrt(np.maximum(spread - se2_mean, 0.0) / spread), 0.0)
    centre = np.where(np.isnan(est), 0.0, est) + shrink * dev  # (S, K) shrunk seed means
    picks = rng.multinomial(s_all, np.full(s_all, 1.0 / s_all), size=n_boot)  # (n_boot, S)
    num = np.zeros((n_boot, k))
    den = np.zeros((n_boot, k))
    for c in range(s_all):
        idx = np.nonzero(inv == c)[0]
        # a seed chosen m times contributes m * size draws from its episodes, weight m
        w = rng.multinomial(picks[:, c] * len(idx), np.full(len(idx), 1.0 / len(idx)))
        w = w.astype(np.float64)
        wn, wd = w @ resid[idx], w @ ok[idx].astype(np.float64)
        good = (wd > 0) & has[c]
        inside = np.where(good, wn / np.where(wd > 0, wd, 1.0), 0.0)
        m = picks[:, [c]].astype(np.float64)
        num += np.where(good, m * (centre[c] + inside), 0.0)
        den += np.where(good, m, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        reps = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    return est, reps, n_seeds


def bootstrap_ci(
    values: Any,
    *,
    runs: Any | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int | None = 0,
) -> pd.DataFrame:
    """Mean over episodes (or over seeds) with a percentile bootstrap confidence interval.

    Parameters
    ----------
    values : array, shape (B,) or (B, K)
        One value per episode (and per column); NaN entries are left out.
    runs : array, shape (B,), optional
        A run label per episode (e.g. the training seed). With several runs the value is the
        mean over runs of each run's mean (runs weigh equally) and the bootstrap resamples
        runs, then episodes within each chosen run (see the module docstring). With one run
        this is the plain episode bootstrap.
    n_boot : int
        Bootstrap replicates.
    ci : float
        Confidence level in (0, 1).
    seed : int, optional
        Seed of the resampling.

    Returns
    -------
    pandas.DataFrame
        One row per column of ``values``: ``value``, ``ci_low``, ``ci_high``, ``n`` (the
        number of non-NaN episodes) and, when ``runs`` is given, ``n_seeds`` (the number of
        runs with a non-NaN episode).

    Examples
    --------
    >>> r = bootstrap_ci(np.array([1.0, 1.0, 1.0]))
    >>> r[["value", "ci_low", "ci_high", "n"]].values.tolist()
    [[1.0, 1.0, 1.0, 3.0]]

    Two seeds weigh equally whatever their numbers of episodes:

    >>> r = bootstrap_ci(np.array([0.0, 0.0, 0.0, 1.0]), runs=[7, 7, 7, 8], n_boot=200)
    >>> r[["value", "n", "n_seeds"]].values.tolist()
    [[0.5, 4.0, 2.0]]
    """
    v = np.asarray(values.detach().cpu() if isinstance(values, torch.Tensor) else values,
                   dtype=np.float64)
    squeeze = v.ndim == 1
    v = v[:, None] if squeeze else v
    if v.ndim != 2 or v.shape[0] == 0:
        raise ValueError(f"values has shape {v.shape}; give (B,) or (B, K) with B >= 1 episodes")
    if not (0.0 < ci < 1.0):
        raise ValueError(f"ci={ci!r}; the confidence level must lie in (0, 1)")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot={n_boot!r}; use at least 1 replicate (1000 is typical)")
    inv = None if runs is None else _run_codes(runs, v.shape[0])
    ok = ~np.isnan(v)
    cnt = ok.sum(0)
    rng = np.random.default_rng(seed)
    if inv is not None and inv.max() > 0:
        est, reps, n_seeds = _seeds_bootstrap(v, inv, int(n_boot), rng)
    else:
        x = np.where(ok, v, 0.0)
        n_seeds = (cnt > 0).astype(np.int64)
        with np.errstate(invalid="ignore", divide="ignore"):
            est = np.where(cnt > 0, x.sum(0) / np.maximum(cnt, 1), np.nan)
            w = _boot_weights(v.shape[0], int(n_boot), rng)
            num, den = w @ x, w @ ok.astype(np.float64)
            reps = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    lo_q, hi_q = (1 - ci) / 2, 1 - (1 - ci) / 2
    lo = np.full(v.shape[1], np.nan)
    hi = np.full(v.shape[1], np.nan)
    have = np.any(~np.isnan(reps), axis=0)
    if have.any():
        lo[have] = np.nanquantile(reps[:, have], lo_q, axis=0)
        hi[have] = np.nanquantile(reps[:, have], hi_q, axis=0)
    out = pd.DataFrame({"value": est, "ci_low": lo, "ci_high": hi, "n": cnt.astype(float)})
    if runs is not None:
        out["n_seeds"] = n_seeds.astype(float)
    return out


_RUN_FIELDS = ("outputs", "truth", "beliefs", "flips", "edge_active", "rewards", "signals")


def _field(run: Any, name: str) -> Any:
    if isinstance(run, Mapping):
        return run.get(name)
    return getattr(run, name, None)


def _as_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def concat_runs(
    runs: Mapping[Any, Any] | Sequence[Any], fields: Sequence[str] | None = None
) -> dict[str, Any]:
    """Concatenate the episodes of several runs (seeds) and label each with its run.

    The result feeds :func:`summarise`, :func:`over_steps`, :func:`episode_metrics` or
    :func:`bootstrap_ci` (``runs``), whose intervals then resample runs, then episodes.

    Parameters
    ----------
    runs : mapping of label to record, or sequence of records
        One evaluation per run of the same population, e.g. ``{seed: EvalRecord}``; a record
        is anything with the arrays as attributes (an
        :class:`~socialmarl.analysis.evaluation.EvalRecord`) or a mapping of them. A sequence
        labels its runs ``0, 1, ...``; labels that are not numbers or strings (tuples) are
        replaced by positions too.
    fields : sequence of str, optional
        Arrays to take, among ``outputs, truth, beliefs, flips, edge_active, rewards,
        signals`` (default: those the first run has; ``outputs`` and ``truth`` always). Take
        only ``("outputs", "truth", "edge_active")`` for :func:`over_steps`.

    Returns
    -------
    dict
        The concatenated NumPy arrays (episodes first) under their names, and ``runs``: one
        label per episode. A missing ``edge_active`` (all edges live) is filled with True
        when another run has one.

    Examples
    --------
    >>> import socialmarl as sm
    >>> a = {"outputs": np.ones((2, 1, 2), int), "truth": [1, 1]}
    >>> b = {"outputs": np.zeros((3, 1, 2), int), "truth": [1, 1, 1]}
    >>> pooled = concat_runs({0: a, 1: b})
    >>> pooled["runs"].tolist()
    [0, 0, 1, 1, 1]
    >>> s = summarise(graph=sm.complete_graph(2), n_boot=50, **pooled).set_index("metric")
    >>> s.loc["accuracy_final", ["value", "n", "n_seeds"]].tolist()
    [0.5, 5.0, 2.0]
    """
    if isinstance(runs, Mapping):
        labels, recs = list(runs.keys()), list(runs.values())
    elif isinstance(runs, Sequence) and not isinstance(runs, str):
        labels, recs = list(range(len(runs))), list(runs)
    else:
        raise TypeError(f"runs must be a mapping or sequence of records, got {type(runs).__name__}")
    if not recs:
        raise ValueError("runs is empty; give at least one run's evaluation")
    if not all(isinstance(k, (int, float, str, np.integer, np.floating)) for k in labels):
        labels = list(range(len(recs)))
    if fields is None:
        fields = [f for f in _RUN_FIELDS if _field(recs[0], f) is not None
                  or (f == "edge_active" and any(_field(r, f) is not None for r in recs))]
    fields = list(dict.fromkeys(["outputs", "truth", *fields]))
    bad = [f for f in fields if f not in _RUN_FIELDS]
    if bad:
        raise ValueError(f"fields {bad} are not evaluation arrays; choose from {list(_RUN_FIELDS)}")
    sizes = []
    for lab, r in zip(labels, recs):
        o = _field(r, "outputs")
        if o is None:
            raise ValueError(f"run {lab!r} has no outputs")
        sizes.append(int(np.shape(o)[0]))
    out: dict[str, Any] = {}
    for f in fields:
        parts = [_field(r, f) for r in recs]
        if f == "edge_active" and any(p is not None for p in parts):
            e = next(np.shape(p)[-1] for p in parts if p is not None)
            parts = [np.ones(np.shape(_field(r, "outputs"))[:2] + (e,), bool) if p is None
                     else p for p, r in zip(parts, recs)]
        missing = [lab for lab, p in zip(labels, parts) if p is None]
        if missing:
            if f == "edge_active":
                continue
            raise ValueError(f"runs {missing} have no {f}; every run needs it, or leave it out "
                             "of fields")
        arrs = [_as_numpy(p) for p in parts]
        arrs = [a.reshape(-1) if f == "truth" else a for a in arrs]
        shapes = {a.shape[1:] for a in arrs}
        if len(shapes) > 1:
            raise ValueError(f"the runs' {f} differ in shape beyond the episode axis: "
                             f"{sorted(shapes)}; pool runs of one game (same steps and agents)")
        for lab, a, n in zip(labels, arrs, sizes):
            if a.shape[0] != n:
                raise ValueError(f"run {lab!r} has {n} episodes of outputs but {a.shape[0]} of "
                                 f"{f}")
        out[f] = np.concatenate(arrs, axis=0)
    out["runs"] = np.repeat(np.asarray(labels), sizes)
    return out


# ---------------------------------------------------------------------------- tidy tables
def episode_metrics(
    outputs: Any,
    truth: Any,
    graph: Graph | None = None,
    *,
    beliefs: Any | None = None,
    flips: Any | None = None,
    groups: Any | None = None,
    runs: Any | None = None,
    edge_active: Any | None = None,
    rewards: Any | None = None,
    signals: Any | None = None,
    sigma: float | None = None,
    belief_frame: str = "env",
    threshold: float = 0.9,
    device: str | torch.device | None = None,
) -> pd.DataFrame:
    """One row per episode, one column per metric (see :func:`summarise` for the list).

    A ``*_mean`` column is the mean over the episode's steps (``agreement_mean`` leaves out
    the steps without an active edge, where agreement is NaN), a ``*_final`` column the
    value at the last step. With ``runs`` (one run label per episode, e.g. the training
    seed; see :func:`concat_runs`) a ``run`` column follows ``episode``. The belief columns
    read the beliefs in the environment's frame (taken there from ``belief_frame="agent"``
    with the flips), as the truth is.

    Examples
    --------
    >>> import socialmarl as sm
    >>> df = episode_metrics([[[1, 1], [1, 1]]], [1], sm.complete_graph(2))
    >>> df[["accuracy_mean", "agreement_final", "consensus_time"]].values.tolist()
    [[1.0, 1.0, 0.0]]
    >>> df = episode_metrics([[[1, 1]], [[0, 0]]], [1, 1], runs=[3, 4])
    >>> df[["run", "accuracy_final"]].values.tolist()
    [[3.0, 1.0], [4.0, 0.0]]

    The belief head's quality beside the lying it reads, and the own-signal baseline:

    >>> df = episode_metrics([[[1, 0]]], [1], beliefs=[[[0.9, 0.5]]], signals=[[1.2, 0.5]],
    ...                      sigma=1.0)
    >>> df[["lying_rate", "belief_accuracy_final", "belief_brier_final"]].values.tolist()
    [[0.0, 0.5, 0.13]]
    >>> df[["signal_accuracy", "signal_brier"]].round(3).values.tolist()
    [[0.5, 0.18]]
    """
    dev = _device(outputs, device)
    o = _outputs(outputs, dev)
    if o.shape[1] == 0:
        raise ValueError("outputs has no steps (T = 0); nothing to measure")
    if runs is not None:
        _run_codes(runs, o.shape[0])
    cols: dict[str, np.ndarray] = {}
    acc = accuracy_per_step(o, truth)
    cols["accuracy_mean"] = acc.mean(1)
    cols["accuracy_final"] = acc[:, -1]
    ent = entropy_per_step(o)
    cols["entropy_mean"] = ent.mean(1)
    cols["entropy_final"] = ent[:, -1]
    cols["wait_rate"] = wait_rate_per_step(o).mean(1)
    ct = consensus_time(o, threshold=threshold)
    cols["consensus_reached"] = (~np.isnan(ct)).astype(float)
    cols["consensus_time"] = ct
    if graph is not None:
        agree = agreement_per_step(o, graph, edge_active=edge_active)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # an episode with no active edge
            cols["agreement_mean"] = np.nanmean(agree, 1)
        cols["agreement_final"] = agree[:, -1]
    for k, v in _polarisation(o, graph, groups, edge_active).items():
        cols[f"{k}_final"] = v[:, -1]
    cols["opinion_bimodality"] = opinion_bimodality(o)
    if beliefs is not None:
        lie = _lying(o, beliefs, flips, belief_frame)
        cols["lying_rate"] = _numpy(measures.lying_rate(lie, o))
        cols["ever_lied"] = _numpy(measures.ever_lied(lie))
        b_env = _env_beliefs(beliefs, flips, belief_frame, tuple(o.shape), dev)
        t = _truth(truth, o.shape[0], dev)[:, None]
        b_acc = measures.belief_accuracy(b_env, t)
        cols["belief_accuracy_mean"] = _numpy(b_acc.mean(1))
        cols["belief_accuracy_final"] = _numpy(b_acc[:, -1])
        cols["belief_brier_final"] = _numpy(measures.belief_brier(b_env[:, -1], t[:, 0]))
    if rewards is not None:
        if tuple(np.shape(rewards)) != tuple(o.shape):
            raise ValueError(
                f"rewards has shape {np.shape(rewards)}; it must match outputs {tuple(o.shape)}"
            )
        cols["mean_return"] = mean_return(rewards, device=dev)
    if signals is not None:
        if tuple(np.shape(signals)) != (o.shape[0], o.shape[2]):
            raise ValueError(
                f"signals has shape {np.shape(signals)}; it must be (B, N) = "
                f"{(o.shape[0], o.shape[2])}"
            )
        cols["signal_accuracy"] = signal_accuracy(signals, truth, device=dev)
        if sigma is not None:
            cols["signal_brier"] = signal_brier(signals, truth, sigma, device=dev)
    df = pd.DataFrame(cols)
    df.insert(0, "episode", np.arange(o.shape[0]))
    if runs is not None:
        df.insert(1, "run", _as_numpy(runs))
    return df


def _with_seeds(res: pd.DataFrame) -> pd.DataFrame:
    """A :func:`bootstrap_ci` table with ``n_seeds`` (1 where there is a value, for one run)."""
    if "n_seeds" not in res.columns:
        res["n_seeds"] = (res["n"] > 0).astype(float)
    return res


def summarise(
    outputs: Any,
    truth: Any,
    graph: Graph | None = None,
    *,
    beliefs: Any | None = None,
    flips: Any | None = None,
    groups: Any | None = None,
    runs: Any | None = None,
    edge_active: Any | None = None,
    rewards: Any | None = None,
    signals: Any | None = None,
    sigma: float | None = None,
    belief_frame: str = "env",
    threshold: float = 0.9,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int | None = 0,
    device: str | torch.device | None = None,
) -> pd.DataFrame:
    """All metrics as one tidy table with bootstrap confidence intervals over episodes.

    Parameters
    ----------
    outputs, truth, graph, beliefs, flips, edge_active, belief_frame
        See the module docstring; ``graph`` enables the edge metrics, ``beliefs`` lying and
        the belief head's quality.
    groups : str or sequence, optional
        Node attribute name or one label per agent, enabling the group polarisation metrics.
    runs : sequence, optional
        One run label (e.g. training seed) per episode, for several seeds of one population:
        seeds weigh equally in the value and the bootstrap resamples seeds, then episodes
        within a seed (module docstring). Concatenate the episodes of the runs along the
        first axis (:func:`concat_runs` does it from per-seed records).
    rewards : array, shape (B, T, N), optional
        Rewards of every agent at every step, enabling ``mean_return``.
    signals : array, shape (B, N), optional
        The private signals, enabling ``signal_accuracy``.
    sigma : float, optional
        The game's signal noise standard deviation (``GameConfig.sigma``, > 0); with
        ``signals`` it enables ``signal_brier`` (ignored without signals).
    threshold : float
        Consensus share for ``consensus_time``.
    n_boot, ci, seed
        Bootstrap replicates, confidence level and seed.
    device : str or torch.device, optional

    Returns
    -------
    pandas.DataFrame
        Columns ``metric, value, ci_low, ci_high, n, n_seeds`` (``SUMMARY_COLUMNS``);
        ``value`` is the mean over the episodes where the metric is not NaN, ``n`` their
        number; with several seeds the mean over seeds of each seed's such mean, and
        ``n_seeds`` the number of seeds with a value (1 or 0 without ``runs``). Metrics:
        ``accuracy_mean``, ``accuracy_final``, ``entropy_mean``, ``entropy_final``,
        ``wait_rate``, ``consensus_reached``, ``consensus_time`` (over episodes that reach
        consensus), ``opinion_bimodality``; with a graph ``agreement_mean``,
        ``agreement_final``, ``edge_disagreement_final``; with groups
        ``group_variance_final``, ``group_bimodality_final``, ``group_gap_final`` and with
        both ``cross_disagreement_final``, ``within_disagreement_final``; with beliefs
        ``lying_rate`` and ``ever_lied`` (per-episode values, averaged over episodes), then
        the belief head's quality that lying is read against: ``belief_accuracy_mean``,
        ``belief_accuracy_final`` (share of agents whose belief leans to the truth,
        ``(b - 0.5)(Psi - 0.5) > 0``, a belief of 0.5 counting as wrong) and
        ``belief_brier_final`` (mean over agents of ``(b - Psi)^2`` at the last step; 0.25
        for a coin flip); with rewards ``mean_return``; with signals ``signal_accuracy``
        (the baseline of belief accuracy) and, with ``sigma`` too, ``signal_brier`` (the
        Brier score of the posterior ``P(Psi = 1 | own signal)``, the baseline of
        ``belief_brier_final``). These are the numbers of
        :meth:`EvalRecord.summary() <socialmarl.analysis.evaluation.EvalRecord.summary>`
        under other names (``accuracy`` is ``accuracy_mean``, ``final_accuracy`` is
        ``accuracy_final``, ``belief_accuracy`` is ``belief_accuracy_final``,
        ``belief_brier`` is ``belief_brier_final`` and so on).

    Examples
    --------
    >>> import socialmarl as sm
    >>> s = summarise([[[1, 1]], [[0, 0]]], [1, 1], sm.complete_graph(2), n_boot=200)
    >>> s.set_index("metric").loc["accuracy_final", ["value", "n", "n_seeds"]].tolist()
    [0.5, 2.0, 1.0]

    Three seeds of one population, two episodes each (seeds weigh equally):

    >>> o = [[[1, 1]], [[1, 1]], [[1, 1]], [[0, 0]], [[0, 0]], [[0, 0]]]
    >>> s = summarise(o, [1] * 6, runs=[0, 0, 1, 1, 2, 2], n_boot=200).set_index("metric")
    >>> s.loc["accuracy_final", ["value", "n", "n_seeds"]].round(3).tolist()
    [0.5, 6.0, 3.0]
    """
    ep = episode_metrics(
        outputs, truth, graph, beliefs=beliefs, flips=flips, groups=groups,
        edge_active=edge_active, rewards=rewards, signals=signals, sigma=sigma,
        belief_frame=belief_frame, threshold=threshold, device=device,
    )
    names = [c for c in ep.columns if c != "episode"]
    res = _with_seeds(bootstrap_ci(ep[names].to_numpy(), runs=runs, n_boot=n_boot, ci=ci,
                                   seed=seed))
    res.insert(0, "metric", names)
    return res[SUMMARY_COLUMNS]


def over_steps(
    outputs: Any,
    truth: Any,
    graph: Graph | None = None,
    *,
    groups: Any | None = None,
    runs: Any | None = None,
    edge_active: Any | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int | None = 0,
    device: str | torch.device | None = None,
) -> pd.DataFrame:
    """Per-step metrics, mean over episodes with bootstrap CIs, as a tidy table.

    ``runs`` (one label per episode) pools several seeds as in :func:`summarise`: per step,
    the mean over seeds of each seed's mean, with a bootstrap over seeds, then episodes (the
    same resamples at every step).

    Returns
    -------
    pandas.DataFrame
        Columns ``step, metric, value, ci_low, ci_high, n, n_seeds``; metrics ``accuracy``,
        ``entropy`` and, with a graph, ``agreement`` and ``edge_disagreement``; with groups
        the group polarisation metrics of :func:`polarisation_per_step`.

    Examples
    --------
    >>> import socialmarl as sm
    >>> d = over_steps([[[2, 2], [1, 1]]], [1], sm.complete_graph(2), n_boot=50)
    >>> d[d.metric == "agreement"].value.tolist()
    [0.0, 1.0]
    """
    o = _outputs(outputs, _device(outputs, device))
    per: dict[str, np.ndarray] = {
        "accuracy": accuracy_per_step(o, truth),
        "entropy": entropy_per_step(o),
    }
    if graph is not None:
        per["agreement"] = agreement_per_step(o, graph, edge_active=edge_active)
    per.update(_polarisation(o, graph, groups, edge_active))
    frames = []
    for name, arr in per.items():
        r = _with_seeds(bootstrap_ci(arr, runs=runs, n_boot=n_boot, ci=ci, seed=seed))
        r.insert(0, "metric", name)
        r.insert(0, "step", np.arange(arr.shape[1]))
        frames.append(r)
    return pd.concat(frames, ignore_index=True)


def sweep_table(summaries: Mapping[tuple[str, float], pd.DataFrame]) -> pd.DataFrame:
    """Stack :func:`summarise` tables of a sweep into the tidy table the sweep plot reads.

    Parameters
    ----------
    summaries : mapping of (network, alpha) to DataFrame
        One :func:`summarise` result per network and truth weight ``alpha``; with several
        seeds per alpha, the one summary of their pooled episodes (``runs``). A table
        without ``n_seeds`` is taken as one seed.

    Returns
    -------
    pandas.DataFrame
        Columns ``network, alpha, metric, value, ci_low, ci_high, n, n_seeds``
        (``SWEEP_COLUMNS``), sorted by network, metric and alpha. Conformity is
        ``1 - alpha``.

    Examples
    --------
    >>> s = pd.DataFrame({"metric": ["accuracy_final"], "value": [0.9], "ci_low": [0.8],
    ...                   "ci_high": [1.0], "n": [10]})
    >>> t = sweep_table({("ring", 0.5): s, ("ring", 1.0): s})
    >>> t.alpha.tolist(), t.n_seeds.tolist()
    ([0.5, 1.0], [1.0, 1.0])
    """
    frames = []
    for key, df in summaries.items():
        if not (isinstance(key, Sequence) and not isinstance(key, str) and len(key) == 2):
            raise ValueError(
                f"sweep key {key!r}; keys must be (network, alpha) pairs like ('ring', 0.5)"
            )
        missing = set(SUMMARY_COLUMNS) - set(df.columns) - {"n_seeds"}
        if missing:
            raise ValueError(
                f"summary for {key!r} lacks columns {sorted(missing)}; pass summarise() output"
            )
        d = _with_seeds(df[[c for c in SUMMARY_COLUMNS if c in df.columns]].copy())
        d = d[SUMMARY_COLUMNS]
        d.insert(0, "alpha", float(key[1]))
        d.insert(0, "network", str(key[0]))
        frames.append(d)
    if not frames:
        return pd.DataFrame(columns=SWEEP_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["network", "metric", "alpha"], kind="stable").reset_index(drop=True)
