"""The dynamic two-state Markov interaction process of hunter-gatherer camp networks.

Each undirected potential edge ``{i, j}`` is a continuous-time two-state chain
(interacting / not) with stationary probability ``q_ij`` of interacting and total switching
rate ``r`` (off -> on at rate ``q r``, on -> off at rate ``(1 - q) r``). Observed once per
game step:

* off -> on with probability ``q (1 - e^-r)``;
* on stays on with probability ``q + (1 - q) e^-r``;
* an edge is *active* for a step if it interacted at any time in the interval: always when
  it was on at either end, and for off -> off with probability
  ``1 - e^(-q r) / (1 - q (1 - e^-r))`` (a hidden excursion).

Both directions of a pair share one state. All pairs of all environments advance together
as ``(B, P)`` tensors; a single uniform draw per pair and step decides both the transition
and the hidden excursion.

A camp's process is one value, :class:`CampProcess` (``q`` per directed edge and ``r``
together), passed as ``camp=`` to the game, the trainer and evaluation alike;
:class:`MarkovInteraction` is its batched simulator on one graph and device.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..common.checks import as_float
from .graph import Graph

__all__ = ["CampProcess", "MarkovInteraction", "markov_step_probabilities"]


@dataclass(frozen=True, eq=False)
class CampProcess:
    """The dynamic interaction process of a camp: who interacts with whom, step by step.

    Parameters
    ----------
    q : Tensor, shape (E,)
        Stationary interaction probability of each directed edge of the graph it runs on,
        in [0, 1] (both directions of a pair equal); stored as float64 on the CPU.
    rate : float
        Switching rate ``r`` per game step (> 0).

    Examples
    --------
    >>> import torch, socialmarl as sm
    >>> g = sm.ring_graph(4)
    >>> camp = CampProcess(torch.full((g.num_edges,), 0.3), rate=0.5)
    >>> camp.simulator(g).num_pairs
    4
    >>> CampProcess.from_dict(camp.to_dict()).rate
    0.5
    >>> CampProcess([0.5], rate=0)
    Traceback (most recent call last):
    ...
    ValueError: camp rate=0.0 must be > 0; the switching rate r of the camp process
    """

    q: torch.Tensor
    rate: float

    def __post_init__(self) -> None:
        rate = as_float(self.rate, "camp rate", positive=True,
                        what="the switching rate r of the camp process")
        try:
            q = torch.as_tensor(self.q, dtype=torch.float64).detach().cpu().reshape(-1)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(f"camp q is not a numeric vector ({exc})") from exc
        object.__setattr__(self, "q", q)
        object.__setattr__(self, "rate", rate)

    @classmethod
    def from_graph(cls, graph: Graph, rate: float) -> CampProcess:
        """The process whose ``q`` are ``graph``'s edge weights (as camp loaders give them)."""
        if graph.edge_weight is None:
            raise ValueError(
                f"{graph.name!r} has no edge weights; a camp process needs the interaction "
                "probabilities q as edge weights (camp loaders give them)"
            )
        return cls(graph.edge_weight, rate)

    def simulator(self, graph: Graph) -> MarkovInteraction:
        """The batched :class:`MarkovInteraction` of this process on ``graph``'s device."""
        return MarkovInteraction(graph, self.q.to(graph.device), self.rate)

    def edge_subset(self, keep: torch.Tensor) -> CampProcess:
        """The process on the edges where ``keep`` (E,) is true (e.g. without self loops)."""
        return CampProcess(self.q[torch.as_tensor(keep, dtype=torch.bool).cpu()], self.rate)

    def to_dict(self) -> dict[str, Any]:
        """Plain tensors and numbers (for ``torch.load(..., weights_only=True)``)."""
        return {"q": self.q, "rate": self.rate}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CampProcess:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(d, Mapping) or "q" not in d or "rate" not in d:
            raise ValueError(f"a saved camp process needs 'q' and 'rate', got {d!r:.80}")
        return cls(d["q"], d["rate"])

    def __repr__(self) -> str:
        return f"CampProcess(edges={self.q.numel()}, rate={self.rate:g})"


def markov_step_probabilities(q: torch.Tensor, r: float) -> dict[str, torch.Tensor]:
    """Per-step probabilities of the interaction chain.

    Parameters
    ----------
    q : Tensor
        Stationary probabilities of interacting, in [0, 1].
    r : float
        Switching rate per step, > 0.

    Returns
    -------
    dict
        ``up`` (off -> on), ``stay`` (on -> on) and ``hidden`` (active although off at
        both ends of the step), each shaped like ``q``.

    Examples
    --------
    >>> import torch
    >>> p = markov_step_probabilities(torch.tensor([0.5]), 1.0)
    >>> round(float(p["up"]), 4), round(float(p["stay"]), 4)
    (0.3161, 0.6839)
    """
    q = q.double()
    decay = math.exp(-r)
    up = q * (1.0 - decay)
    stay = q + (1.0 - q) * decay
    off_off = 1.0 - up
    hidden = torch.where(off_off > 0, 1.0 - torch.exp(-q * r) / off_off.clamp_min(1e-300), 0.0)
    return {"up": up, "stay": stay, "hidden": hidden.clamp(0.0, 1.0)}


class MarkovInteraction:
    """Batched Markov interaction process over the undirected pairs of a graph.

    Parameters
    ----------
    graph : Graph
        The potential edges (both directions of a pair map to one chain).
    q : Tensor, shape (E,)
        Stationary interaction probability per directed edge, in [0, 1]; the two
        directions of a pair must agree.
    r : float
        Switching rate per step (> 0). Large ``r`` makes steps independent draws with
        probability ``q``; small ``r`` makes interactions persist.

    Examples
    --------
    >>> import torch, socialmarl as sm
    >>> g = sm.ring_graph(4)
    >>> proc = MarkovInteraction(g, torch.full((g.num_edges,), 0.3), r=0.5)
    >>> proc.num_pairs
    4
    >>> gen = torch.Generator().manual_seed(0)
    >>> state = proc.initial_state(8, gen)
    >>> state, active = proc.step(state, gen)
    >>> proc.edge_mask(active).shape
    torch.Size([8, 8])
    """

    def __init__(self, graph: Graph, q: torch.Tensor, r: float) -> None:
        if r is None:
            raise ValueError("q was given without r; pass the switching rate r (> 0) too")
        r = float(r)
        if not math.isfinite(r) or r <= 0:
            raise ValueError(f"r={r!r}: the switching rate must be finite and > 0")
        q = torch.as_tensor(q, dtype=torch.float64, device=graph.device).reshape(-1)
        if q.numel() != graph.num_edges:
            raise ValueError(
                f"q has {q.numel()} entries but the graph has {graph.num_edges} edges; "
                "give one q per edge of graph.edge_index"
            )
        if torch.isnan(q).any():
            k = int(torch.nonzero(torch.isnan(q))[0])
            raise ValueError(f"q is NaN on edge {tuple(graph.edge_index[:, k].tolist())}")
        if ((q < 0) | (q > 1)).any():
            k = int(torch.nonzero((q < 0) | (q > 1))[0])
            raise ValueError(
                f"q={float(q[k])} on edge {tuple(graph.edge_index[:, k].tolist())} is not a "
                "probability; q must lie in [0, 1]"
            )
        n = graph.num_nodes
        lo = torch.minimum(graph.senders, graph.receivers)
        hi = torch.maximum(graph.senders, graph.receivers)
        pair_key, edge_pair = torch.unique(lo * n + hi, return_inverse=True)
        num_pairs = int(pair_key.numel())
        q_pair = torch.zeros(num_pairs, dtype=torch.float64, device=graph.device)
        q_pair.scatter_(0, edge_pair, q)
        mismatch = (q - q_pair[edge_pair]).abs() > 1e-9
        if mismatch.any():
            k = int(torch.nonzero(mismatch)[0])
            raise ValueError(
                f"q differs between the two directions of edge "
                f"{tuple(graph.edge_index[:, k].tolist())}; an interaction is mutual, so give "
                "both directions the same q"
            )
        self.r = r
        self.q_pair = q_pair
        self.edge_pair = edge_pair
        self.num_pairs = num_pairs
        probs = markov_step_probabilities(q_pair, r)
        self._up = probs["up"].float()
        self._stay = probs["stay"].float()
        self._hidden = probs["hidden"].float()
        self._q = q_pair.float()

    def to(self, device: str | torch.device) -> MarkovInteraction:
        """Move the process's tensors to ``device`` (in place); returns self."""
        for name in ("q_pair", "edge_pair", "_up", "_stay", "_hidden", "_q"):
            setattr(self, name, getattr(self, name).to(device))
        return self

    def initial_state(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """Draw ``(B, P)`` initial states from the stationary distribution."""
        u = torch.rand(batch, self.num_pairs, generator=generator, device=self._q.device)
        return u < self._q

    def step(
        self, state: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance one step; returns ``(new_state, active)``, both ``(B, P)`` bool."""
        u = torch.rand(state.shape, generator=generator, device=state.device)
        up = self._up
        new = torch.where(state, u < self._stay, u < up)
        # For off -> off, (u - up) / (1 - up) is uniform: reuse it for the hidden excursion.
        hidden = (~state) & (~new) & (u - up < self._hidden * (1.0 - up))
        active = state | new | hidden
        return new, active

    def edge_mask(self, pair_values: torch.Tensor) -> torch.Tensor:
        """Expand a ``(B, P)`` per-pair tensor to ``(B, E)`` over the directed edges."""
        return pair_values[:, self.edge_pair]
