"""Run any rule on a Graph for many replicas at once, and score the result like the game."""

from __future__ import annotations

from typing import Any

import torch

from ..networks.graph import Graph
from .base import Rule, RuleContext, check_opinions, to_guess
from .continuous import Deffuant, DeGroot, FriedkinJohnsen, HegselmannKrause
from .discrete import MajorityRule, QVoter, Sznajd, Voter
from .engines import ENGINES
from .truth import TruthSeeking

__all__ = ["RULES", "make_rule", "simulate", "score_opinions"]

#: Every rule class by its registry name.
RULES: dict[str, type[Rule]] = {
    cls.name: cls
    for cls in (
        Voter,
        QVoter,
        MajorityRule,
        Sznajd,
        DeGroot,
        FriedkinJohnsen,
        Deffuant,
        HegselmannKrause,
        TruthSeeking,
    )
}


def make_rule(name: str, **params: Any) -> Rule:
    """Build a rule from its registry name and parameters.

    Examples
    --------
    >>> make_rule("deffuant", epsilon=0.3)
    Deffuant(epsilon=0.3, mu=0.5, symmetric=True, selection='edge')
    >>> make_rule("bogus")
    Traceback (most recent call last):
    ...
    ValueError: unknown rule 'bogus'; choose one of ['deffuant', 'degroot', \
'friedkin_johnsen', 'hk', 'majority', 'qvoter', 'sznajd', 'truth_seeking', 'voter']
    """
    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}; choose one of {sorted(RULES)}")
    return RULES[name](**params)


def _generator(seed: int | torch.Generator | None, device: torch.device) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        if seed.device.type != device.type:
            raise ValueError(
                f"the generator is on {seed.device} but the simulation runs on {device}; "
                "pass an int seed or a generator on the same device"
            )
        return seed
    gen = torch.Generator(device=device)
    if seed is None:
        gen.seed()
    elif isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed={seed!r}: give an int, a torch.Generator or None")
    else:
        gen.manual_seed(seed)
    return gen


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

    Parameters
    ----------
    rule : Rule or str
        A rule instance, or a registry name (:data:`RULES`) for its default parameters.
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
    for name, v in (("steps", steps), ("replicas", replicas)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{name}={v!r} must be an int")
    if steps < 0:
        raise ValueError(f"steps={steps}: need an integer >= 0")
    if replicas < 1:
        raise ValueError(f"replicas={replicas}: need an integer >= 1")
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}; choose one of {list(ENGINES)}")
    ctx: RuleContext = rule.prepare(graph, device)
    dev, n = ctx.device, ctx.num_nodes
    dtype = dtype or rule.default_dtype()
    if rule.binary and dtype.is_floating_point:
        raise ValueError(f"{rule.name} opinions are 0/1 guesses; use an integer dtype, not {dtype}")
    if not rule.binary and not dtype.is_floating_point:
        raise ValueError(f"{rule.name} opinions are continuous; use a floating dtype, not {dtype}")
    gen = _generator(seed, dev)
    if episode is None:
        ep = rule.episode(ctx, replicas, gen)
    else:
        ep = {k: torch.as_tensor(v).to(dev) for k, v in episode.items()}
        for k, v in ep.items():
            if v.is_floating_point() and not bool(torch.isfinite(v).all()):
                raise ValueError(f"episode[{k!r}] holds NaN or infinite values")
    if initial is None:
        x = rule.initial(ctx, replicas, gen, dtype, ep)
    else:
        x = check_opinions(initial, replicas, n, binary=rule.binary, dtype=dtype, device=dev)
    ep["initial"] = x.clone()
    traj = torch.empty(replicas, steps + 1, n, dtype=dtype, device=dev)
    traj[:, 0] = x
    for t in range(steps):
        draws = rule.draw(ctx, replicas, gen)
        x = rule.step(x, ctx, draws, ep, engine)
        traj[:, t + 1] = x
    return (traj, ep) if return_episode else traj


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
        ``agreement`` (share of edges whose two ends state the same guess; 0 without
        edges), ``mean`` (share of agents guessing 1), ``consensus`` (all agents agree), and
        ``accuracy`` (share of agents whose guess equals ``truth``) when ``truth`` is given.

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
    same = (g[..., ctx.senders] == g[..., ctx.receivers]).float()
    agreement = same.mean(-1) if ctx.num_edges else torch.zeros(g.shape[:-1], device=x.device)
    out = {
        "agreement": agreement,
        "mean": g.float().mean(-1),
        "consensus": (g == g[..., :1]).all(-1),
    }
    if truth is not None:
        t = torch.as_tensor(truth, device=x.device).long().reshape(-1)
        if t.numel() != x.shape[0]:
            raise ValueError(f"truth has {t.numel()} values for {x.shape[0]} replicas")
        t = t.view(-1, *([1] * (x.dim() - 1)))
        out["accuracy"] = (g == t).float().mean(-1)
    return out
