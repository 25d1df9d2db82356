"""Run any rule, given as an instance or a registry name, and score the result like the game.

The simulation loop itself is :meth:`Rule.run <socialmarl.rules.base.Rule.run>`;
:func:`simulate` adds registry names (:data:`~socialmarl.rules.registry.RULES`) on top.
"""

from __future__ import annotations

from typing import Any

import torch

from ..game import measures
from ..networks.graph import Graph
from .base import Rule, RuleContext, to_guess
from .registry import make_rule

__all__ = ["simulate", "score_opinions"]


def simulate(
    rule: Rule | str,
    graph: Graph,
    steps: int,
    replicas: int = 1,
    seed: int | torch.Generator | None = None,
    device: str | torch.device | None = None,
    initial: Any = None,
    *,
    dtype: torch.dtype | None = None,
    engine: str = "auto",
    episode: dict[str, Any] | None = None,
    return_episode: bool = False,
) -> torch.Tensor | tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Simulate ``rule`` on ``graph`` for ``steps`` steps in ``replicas`` independent runs.

    ``simulate(rule, graph, steps, ...)`` is ``rule.run(graph, steps, ...)`` for a rule
    instance; a name is first built with :func:`~socialmarl.rules.make_rule`.

    Parameters
    ----------
    rule : Rule or str
        A rule instance, or a registry name (a key of :data:`~socialmarl.rules.RULES`)
        for its default parameters.
    graph : Graph
        Agent ``i`` listens to its in-neighbours (senders of edges received by ``i``).
    steps : int
        Number of steps ``T`` (an asynchronous step is ``N`` micro-steps).
    replicas : int
        Number of independent runs ``R``, simulated together as a batch.
    seed : int, torch.Generator or None
        Seed of all random numbers (initial opinions, episode, steps). The same int seed
        gives the same trajectories on the same device.
    device : str or torch.device, optional
        Where to compute; defaults to the graph's device.
    initial : array-like (N,) or (R, N), optional
        Initial opinions: 0/1 for binary rules, finite numbers for continuous ones. Default:
        fair coins / uniform on [0, 1) (truth seeking: the guesses its signals favour).
    dtype : torch.dtype, optional
        Opinion dtype; default int64 for binary rules and float32 for continuous ones.
    engine : {"auto", "sequential", "rounds"}
        How asynchronous micro-steps are batched (same result, different speed; see
        :mod:`socialmarl.rules.engines`).
    episode : dict, optional
        Per-run quantities instead of drawing them (truth seeking: ``truth`` (R,) and
        ``signal`` (R, N)).
    return_episode : bool
        Also return the episode dict, which always holds ``initial`` and for truth seeking
        ``truth`` and ``signal``.

    Returns
    -------
    Tensor (R, T + 1, N)
        Opinions after each step; index 0 is the initial state. With ``return_episode``,
        ``(trajectory, episode)``.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.rules import simulate
    >>> from socialmarl.networks.generators import ring_graph
    >>> a = simulate("voter", ring_graph(8), steps=4, replicas=2, seed=3)
    >>> b = simulate("voter", ring_graph(8), steps=4, replicas=2, seed=3)
    >>> a.shape, torch.equal(a, b)
    (torch.Size([2, 5, 8]), True)
    """
    if isinstance(rule, str):
        rule = make_rule(rule)
    if not isinstance(rule, Rule):
        raise TypeError(f"rule must be a Rule or a name in RULES, got {type(rule).__name__}")
    return rule.run(
        graph, steps, replicas, seed, device, initial,
        dtype=dtype, engine=engine, episode=episode, return_episode=return_episode,
    )


def score_opinions(
    opinions: torch.Tensor,
    graph: Graph,
    truth: torch.Tensor | None = None,
    threshold: float = 0.5,
) -> dict[str, torch.Tensor]:
    """Score opinions like the game scores outputs, per replica and step.

    Continuous opinions are first mapped to guesses with :func:`to_guess` (``threshold``).

    Parameters
    ----------
    opinions : Tensor (R, T + 1, N) or (R, N)
        A trajectory from :func:`simulate`, or one state.
    graph : Graph
        The graph the rule ran on (self loops are ignored, as in the game).
    truth : Tensor (R,), optional
        The hidden truth per replica, for ``accuracy``.

    Returns
    -------
    dict of Tensor, shaped like ``opinions`` without the agent axis
        ``agreement`` (share of edges whose two ends state the same guess; NaN without
        edges, as everywhere: :func:`socialmarl.game.measures.agreement`), ``mean`` (share
        of agents guessing 1), ``consensus`` (all agents agree), and ``accuracy`` (share of
        agents whose guess equals ``truth``, :func:`socialmarl.game.measures.accuracy`)
        when ``truth`` is given. Float results are float32, like the game's info.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[0, 1], [1, 2]])
    >>> s = score_opinions(torch.tensor([[1, 1, 0]]), g, truth=torch.tensor([1]))
    >>> s["agreement"].tolist(), s["accuracy"].tolist()
    ([0.5], [0.6666666865348816])
    """
    x = torch.as_tensor(opinions)
    if x.dim() not in (2, 3):
        raise ValueError(f"opinions have shape {tuple(x.shape)}; expected (R, T + 1, N) or (R, N)")
    if x.shape[-1] != graph.num_nodes:
        raise ValueError(
            f"opinions have {x.shape[-1]} agents but the graph has {graph.num_nodes}"
        )
    g = to_guess(x, threshold) if x.is_floating_point() else x.long()
    ctx = RuleContext.from_graph(graph, x.device)
    edge_index = torch.stack([ctx.senders, ctx.receivers])
    out = {
        "agreement": measures.agreement(g, edge_index).float(),
        "mean": g.float().mean(-1),
        "consensus": (g == g[..., :1]).all(-1),
    }
    if truth is not None:
        t = torch.as_tensor(truth, device=x.device).long().reshape(-1)
        if t.numel() != x.shape[0]:
            raise ValueError(f"truth has {t.numel()} values for {x.shape[0]} replicas")
        out["accuracy"] = measures.accuracy(g, t.view(-1, *([1] * (x.dim() - 2)))).float()
    return out
