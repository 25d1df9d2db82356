"""Binary opinion rules: voter, q-voter, majority rule and Sznajd, on any directed Graph.

Opinions are guesses in {0, 1} (int64, the game's codes), shaped ``(R, N)`` for ``R``
replicas. "Neighbours" of agent ``i`` are its in-neighbours, the agents it observes (the
senders of edges whose receiver is ``i``); self loops are ignored. An agent without
in-neighbours hears nobody and never changes its opinion.

Asynchronous rules define one *step* as ``N`` micro-steps per replica (so each agent is
picked once per step on average, the usual Monte-Carlo sweep); see
:mod:`socialmarl.rules.engines` for how they are batched exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .base import Rule, RuleContext, _check_choice, _check_prob, pick_in_neighbour
from .engines import AUTO_COPY_MAX_REPLICAS, run_copy_steps, run_micro_steps

__all__ = ["Voter", "QVoter", "MajorityRule", "Sznajd"]


def _uniform(shape: tuple[int, ...], ctx: RuleContext, gen: torch.Generator) -> torch.Tensor:
    return torch.rand(shape, generator=gen, device=ctx.device, dtype=torch.float64)


def _agents(replicas: int, ctx: RuleContext, gen: torch.Generator) -> torch.Tensor:
    n = ctx.num_nodes
    return torch.randint(0, n, (replicas, n), generator=gen, device=ctx.device)


def _copy(values: torch.Tensor, aux: dict[str, torch.Tensor]) -> tuple[torch.Tensor, None]:
    return values, None


@dataclass(eq=False)
class Voter(Rule):
    """Voter model: a random agent copies the opinion of a random in-neighbour.

    Parameters
    ----------
    asynchronous : bool
        True (the classic model, Clifford & Sudbury 1973; Holley & Liggett 1975): a step is
        ``N`` micro-steps, each picking a uniformly random agent that copies a uniformly
        random in-neighbour. False: every agent copies a random in-neighbour at once.

    Notes
    -----
    Random numbers of one step (:meth:`draw`): asynchronous, ``agent`` (R, N) int64 uniform
    on ``0..N-1`` and ``u`` (R, N) float64 uniform on [0, 1); micro-step ``k`` picks agent
    ``agent[:, k]`` and its in-neighbour slot ``min(floor(u * deg), deg - 1)`` (in-neighbours
    in increasing id order). Synchronous: ``u`` (R, N), one per agent.

    With ``engine="auto"`` an asynchronous step is resolved by pointer jumping
    (:func:`~socialmarl.rules.engines.run_copy_steps`) for up to 32 replicas or on CUDA, and
    by the sequential engine otherwise; all engines give the same result.

    Examples
    --------
    >>> from socialmarl.rules import Voter, simulate
    >>> from socialmarl.networks.generators import complete_graph
    >>> traj = simulate(Voter(), complete_graph(10), steps=50, replicas=3, seed=0)
    >>> traj.shape, traj.dtype
    (torch.Size([3, 51, 10]), torch.int64)
    >>> bool(((traj == 0) | (traj == 1)).all())
    True
    """

    asynchronous: bool = True
    name: ClassVar[str] = "voter"
    binary: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if not isinstance(self.asynchronous, bool):
            raise TypeError(f"asynchronous={self.asynchronous!r} must be True or False")

    def draw(
        self, ctx: RuleContext, replicas: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        if self.asynchronous:
            agent = _agents(replicas, ctx, generator)
            return {"agent": agent, "u": _uniform((replicas, ctx.num_nodes), ctx, generator)}
        return {"u": _uniform((replicas, ctx.num_nodes), ctx, generator)}

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        n = ctx.num_nodes
        if not self.asynchronous:
            agents = torch.arange(n, device=ctx.device).expand_as(draws["u"])
            nb = pick_in_neighbour(ctx, agents, draws["u"])
            xp = torch.cat([x, x[:, :1]], 1)  # column N is never chosen where it matters
            return torch.where(nb < n, xp.gather(1, nb), x)
        agent = draws["agent"]
        nb = pick_in_neighbour(ctx, agent, draws["u"])
        writes = torch.where(nb < n, agent, torch.full_like(agent, n))
        if engine == "auto" and (
            x.device.type == "cuda" or x.shape[0] <= AUTO_COPY_MAX_REPLICAS
        ):
            return run_copy_steps(x, nb, writes)  # the same result, with fewer operations
        return run_micro_steps(x, nb.unsqueeze(-1), writes.unsqueeze(-1), _copy, None, engine)


@dataclass(eq=False)
class QVoter(Rule):
    """Nonlinear q-voter model (Castellano, Munoz & Pastor-Satorras 2009), asynchronous.

    In each micro-step a uniformly random agent draws a panel of ``q`` in-neighbours
    *with repetition* (as in Castellano et al.; a neighbour can be drawn twice). If the
    panel is unanimous the agent adopts its opinion. The noise term is either

    * ``"nonconformity"`` (Castellano et al.): if the panel is not unanimous, the agent
      flips its opinion with probability ``epsilon``;
    * ``"independence"`` (Nyczka, Sznajd-Weron & Cislo 2012): with probability ``epsilon``
      the agent acts independently and takes opinion 0 or 1 with probability 1/2 each
      (whatever the panel says); otherwise it conforms to a unanimous panel.

    ``q = 1`` with ``epsilon = 0`` is the voter model. An agent without in-neighbours never
    changes (it has no panel), under either noise.

    Parameters
    ----------
    q : int
        Panel size, at least 1.
    epsilon : float
        Noise probability in [0, 1].
    noise : {"nonconformity", "independence"}

    Notes
    -----
    Random numbers of one step: ``agent`` (R, N) int64; ``u`` (R, N, q) float64 (the panel,
    each entry mapped to an in-neighbour as in :class:`Voter`); ``noise`` (R, N) and
    ``coin`` (R, N) float64. The noise event is ``noise < epsilon``; an independent agent
    takes opinion 1 when ``coin < 0.5``.

    Examples
    --------
    >>> from socialmarl.rules import QVoter
    >>> from socialmarl.networks.generators import ring_graph
    >>> QVoter(q=2, epsilon=0.1).run(ring_graph(12), steps=5, seed=1).shape
    torch.Size([1, 6, 12])
    >>> QVoter(q=0)
    Traceback (most recent call last):
    ...
    ValueError: q=0: the panel size must be an integer >= 1
    """

    q: int = 2
    epsilon: float = 0.0
    noise: str = "nonconformity"
    name: ClassVar[str] = "qvoter"
    binary: ClassVar[bool] = True
    asynchronous: ClassVar[bool] = True

    def __post_init__(self) -> None:
        if isinstance(self.q, bool) or not isinstance(self.q, int) or self.q < 1:
            raise ValueError(f"q={self.q!r}: the panel size must be an integer >= 1")
        self.epsilon = _check_prob("epsilon", self.epsilon)
        _check_choice("noise", self.noise, ("nonconformity", "independence"))

    def draw(
        self, ctx: RuleContext, replicas: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        n = ctx.num_nodes
        return {
            "agent": _agents(replicas, ctx, generator),
            "u": _uniform((replicas, n, self.q), ctx, generator),
            "noise": _uniform((replicas, n), ctx, generator),
            "coin": _uniform((replicas, n), ctx, generator),
        }

    def _micro(self, vals: torch.Tensor, aux: dict[str, torch.Tensor]):
        own, panel = vals[:, 0], vals[:, 1:]
        unanimous = (panel == panel[:, :1]).all(1)
        event = aux["noise"] < self.epsilon
        if self.noise == "nonconformity":
            new = torch.where(unanimous, panel[:, 0], torch.where(event, 1 - own, own))
        else:
            coin = (aux["coin"] < 0.5).to(vals.dtype)
            new = torch.where(event, coin, torch.where(unanimous, panel[:, 0], own))
        return new.unsqueeze(1), None

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        n = ctx.num_nodes
        agent = draws["agent"]
        panel = pick_in_neighbour(ctx, agent.unsqueeze(-1).expand_as(draws["u"]), draws["u"])
        has = ctx.in_degree[agent] > 0
        reads = torch.cat([agent.unsqueeze(-1), panel], -1)
        writes = torch.where(has, agent, torch.full_like(agent, n)).unsqueeze(-1)
        aux = {"noise": draws["noise"], "coin": draws["coin"]}
        return run_micro_steps(x, reads, writes, self._micro, aux, engine)


@dataclass(eq=False)
class MajorityRule(Rule):
    """Synchronous local majority: every agent adopts the majority opinion it observes.

    All agents update at once from the previous opinions. Agent ``i`` counts the opinions
    of its in-neighbours (and its own as one more vote when ``include_self``); it takes 1
    if ones are a strict majority, 0 if zeros are, and on a tie it keeps its opinion
    (``tie="keep"``) or takes 0 or 1 with probability 1/2 (``tie="random"``). Agents
    without in-neighbours keep their opinion.

    (NDlib's "majority rule" is Galam's model of random groups; this is the network
    majority rule, also known as the majority-vote or zero-temperature Glauber dynamics.)

    Parameters
    ----------
    tie : {"keep", "random"}
    include_self : bool

    Notes
    -----
    Random numbers of one step: ``{"coin": (R, N) float64}`` when ``tie="random"`` (a tied
    agent takes 1 where ``coin < 0.5``), none otherwise.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.rules import MajorityRule, simulate
    >>> from socialmarl.networks.generators import complete_graph
    >>> x0 = torch.tensor([1, 1, 0, 0])  # each agent sees the others' majority, not its own
    >>> simulate(MajorityRule(), complete_graph(4), steps=1, initial=x0)[0, 1].tolist()
    [0, 0, 1, 1]
    """

    tie: str = "keep"
    include_self: bool = False
    name: ClassVar[str] = "majority"
    binary: ClassVar[bool] = True

    def __post_init__(self) -> None:
        _check_choice("tie", self.tie, ("keep", "random"))
        if not isinstance(self.include_self, bool):
            raise TypeError(f"include_self={self.include_self!r} must be True or False")

    def draw(
        self, ctx: RuleContext, replicas: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        if self.tie == "random":
            return {"coin": _uniform((replicas, ctx.num_nodes), ctx, generator)}
        return {}

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        r, n = x.shape
        ones = torch.zeros(r, n, dtype=torch.long, device=x.device)
        ones.index_add_(1, ctx.receivers, x[:, ctx.senders].long())
        total = ctx.in_degree.expand(r, n)
        if self.include_self:
            ones = ones + x.long()
            total = total + 1
        balance = 2 * ones - total  # > 0: majority of ones
        tie_value = x if self.tie == "keep" else (draws["coin"] < 0.5).to(x.dtype)
        new = torch.where(balance > 0, 1, torch.where(balance < 0, 0, tie_value)).to(x.dtype)
        return torch.where(ctx.in_degree > 0, new, x)


@dataclass(eq=False)
class Sznajd(Rule):
    """Sznajd model on a graph ("united we stand, divided we fall"), asynchronous.

    Graph generalisation (as Bernardes, Stauffer & Kertesz 2002 on scale-free networks): a
    micro-step picks a uniformly random directed edge ``j -> i``; if ``i`` and ``j`` hold the
    same opinion, the pair convinces its audience: every agent that observes ``i`` or ``j``
    (the receivers of their out-edges) adopts that opinion. A disagreeing pair changes
    nobody (the "convincing" variant; the original 1-D rule's antiferromagnetic part is
    left out, as in most network studies).

    Notes
    -----
    Random numbers of one step: ``edge`` (R, N) int64 uniform on ``0..E-1`` (an index into
    ``graph.edge_index`` without self loops). A graph without edges never changes.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.rules import Sznajd, simulate
    >>> from socialmarl.networks.generators import complete_graph
    >>> traj = simulate(Sznajd(), complete_graph(6), 3, seed=0,
    ...                 initial=torch.tensor([1, 1, 1, 1, 1, 0]))
    >>> traj[0, -1].tolist()
    [1, 1, 1, 1, 1, 1]
    """

    name: ClassVar[str] = "sznajd"
    binary: ClassVar[bool] = True
    asynchronous: ClassVar[bool] = True

    def draw(
        self, ctx: RuleContext, replicas: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        e = max(ctx.num_edges, 1)
        edge = torch.randint(0, e, (replicas, ctx.num_nodes), generator=generator,
                             device=ctx.device)
        return {"edge": edge}

    @staticmethod
    def _convince(width: int):
        def micro(vals: torch.Tensor, aux: dict[str, torch.Tensor]):
            agree = (vals[:, 0] == vals[:, 1]).unsqueeze(1).expand(-1, width)
            return vals[:, :1].expand(-1, width).contiguous(), agree

        return micro

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        if ctx.num_edges == 0:
            return x.clone()
        edge = draws["edge"]
        i, j = ctx.receivers[edge], ctx.senders[edge]
        table = ctx.out_table()
        writes = torch.cat([table[i], table[j]], -1)
        reads = torch.stack([i, j], -1)
        micro = self._convince(writes.shape[-1])
        return run_micro_steps(x, reads, writes, micro, None, engine)
