"""Continuous opinion rules: DeGroot, Friedkin-Johnsen, Deffuant and Hegselmann-Krause.

Opinions are real numbers (float32 unless another dtype is asked for), usually in [0, 1];
:func:`~socialmarl.rules.base.to_guess` turns them into the game's guesses. As for the
binary rules, agent ``i`` listens to its in-neighbours (senders of edges received by ``i``)
and self loops are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from ..networks.graph import Graph
from .base import Rule, RuleContext, _check_choice, _check_nonneg, _check_prob, pick_in_neighbour
from .engines import AUTO_LEVELS_MAX_REPLICAS, run_micro_steps

__all__ = ["DeGroot", "FriedkinJohnsen", "Deffuant", "HegselmannKrause", "influence_weights"]


def influence_weights(
    ctx: RuleContext,
    *,
    weighted: bool = True,
    self_weight: float | None = None,
    dtype: torch.dtype = torch.float64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Row-stochastic influence weights ``W`` of a graph, as (self (N,), edges (E,)).

    ``W[i, j]`` is the weight agent ``i`` puts on in-neighbour ``j`` (per edge, aligned with
    the context's edges) and ``W[i, i]`` its self weight; every row sums to 1.

    * Raw edge weights are the graph's ``edge_weight`` when ``weighted`` and present, else 1.
    * ``self_weight=None``: the agent counts itself as one more in-neighbour, with raw
      weight 1 on an unweighted graph and the mean of its raw in-edge weights on a weighted
      one; rows are then normalised.
    * ``self_weight=a`` in [0, 1]: ``W[i, i] = a`` and the in-neighbours share ``1 - a`` in
      proportion to their raw weights.
    * An agent with no in-neighbours (or zero total in-weight) keeps its opinion:
      ``W[i, i] = 1``.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> ctx = RuleContext.from_graph(Graph(2, [[1], [0]]))
    >>> s, e = influence_weights(ctx)
    >>> s.tolist(), e.tolist()
    ([0.5, 1.0], [0.5])
    >>> s, e = influence_weights(ctx, self_weight=0.2)
    >>> s.tolist(), e.tolist()
    ([0.2, 1.0], [0.8])
    """
    n, dev = ctx.num_nodes, ctx.device
    w = ctx.graph.edge_weight
    raw = (
        w.to(device=dev, dtype=torch.float64)
        if weighted and w is not None
        else torch.ones(ctx.num_edges, dtype=torch.float64, device=dev)
    )
    total = torch.zeros(n, dtype=torch.float64, device=dev).index_add_(0, ctx.receivers, raw)
    alone = total <= 0
    if self_weight is None:
        if weighted and w is not None:
            own = torch.where(alone, 1.0, total / ctx.in_degree_f.clamp_min(1.0))
        else:
            own = torch.ones(n, dtype=torch.float64, device=dev)
        denom = total + own
        self_w = own / denom
        edge_w = raw / denom[ctx.receivers]
    else:
        a = _check_prob("self_weight", self_weight)
        self_w = torch.where(alone, 1.0, torch.full((n,), a, dtype=torch.float64, device=dev))
        edge_w = (1.0 - a) * raw / total.clamp_min(1e-300)[ctx.receivers]
        edge_w = torch.where(alone[ctx.receivers], 0.0, edge_w)
    return self_w.to(dtype), edge_w.to(dtype)


def _weights(
    ctx: RuleContext, weighted: bool, self_weight: float | None, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Self weights (N,) and the sparse off-diagonal part of ``W`` (None without edges)."""

    def build():
        s, e = influence_weights(ctx, weighted=weighted, self_weight=self_weight, dtype=dtype)
        return s, (ctx.csr(e, dtype) if ctx.num_edges else None)

    return ctx.cached(("influence", weighted, self_weight, dtype), build)


def _mix(x: torch.Tensor, self_w: torch.Tensor, off: torch.Tensor | None) -> torch.Tensor:
    """``W x`` per replica: self weights times ``x`` plus the weighted in-neighbour sum."""
    out = x * self_w
    if off is not None:
        out = out + (off @ x.T).T
    return out.contiguous()


@dataclass(eq=False)
class DeGroot(Rule):
    """DeGroot averaging (DeGroot 1974): ``x(t+1) = W x(t)``, all agents at once.

    ``W`` is row-stochastic, built by :func:`influence_weights` from the graph's edge
    weights (or uniform weights) with the self-weight rule described there. On a strongly
    connected graph with a positive self weight (aperiodic) opinions converge to the
    consensus ``pi @ x(0)``, with ``pi`` the left Perron eigenvector of ``W``
    (``pi W = pi``, ``sum(pi) = 1``).

    Parameters
    ----------
    weighted : bool
        Use ``graph.edge_weight`` where the graph has weights.
    self_weight : float in [0, 1] or None
        See :func:`influence_weights`; None counts the agent as one more neighbour.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.rules import DeGroot, simulate
    >>> from socialmarl.networks.generators import complete_graph
    >>> x0 = torch.tensor([0.0, 0.0, 1.0, 1.0])
    >>> simulate(DeGroot(), complete_graph(4), 1, initial=x0, dtype=torch.float64)[0, 1]
    tensor([0.5000, 0.5000, 0.5000, 0.5000], dtype=torch.float64)
    """

    weighted: bool = True
    self_weight: float | None = None
    name: ClassVar[str] = "degroot"

    def __post_init__(self) -> None:
        if self.self_weight is not None:
            self.self_weight = _check_prob("self_weight", self.self_weight)

    def weight_matrix(self, graph: Graph) -> torch.Tensor:
        """The dense ``(N, N)`` float64 matrix ``W`` (rows: listening agent); small N only."""
        ctx = RuleContext.from_graph(graph)
        s, e = influence_weights(ctx, weighted=self.weighted, self_weight=self.self_weight)
        w = torch.diag(s)
        w[ctx.receivers, ctx.senders] = e
        return w

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        s, m = _weights(ctx, self.weighted, self.self_weight, x.dtype)
        return _mix(x, s, m)


def _stubbornness_tensor(value: Any, n: int, dev: torch.device) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=torch.float64, device=dev)
    if t.dim() == 0:
        t = t.expand(n)
    if t.shape != (n,):
        raise ValueError(
            f"stubbornness has {t.numel()} values for a graph of {n} agents; give one number "
            "or one per agent"
        )
    return t


@dataclass(eq=False)
class FriedkinJohnsen(Rule):
    """Friedkin-Johnsen opinions anchored to prejudices (Friedkin & Johnsen 1990).

    ``x(t+1) = S x(0) + (I - S) W x(t)``, all agents at once, with ``S = diag(s)`` the
    stubbornness (``1 - s`` is the susceptibility to influence), ``x(0)`` the initial
    opinions (the prejudices) and ``W`` the row-stochastic matrix of
    :func:`influence_weights`. When ``(I - S) W`` has spectral radius below 1 (for instance
    every agent is stubborn, or reaches a stubborn agent) opinions converge to
    ``x* = (I - (I - S) W)^{-1} S x(0)`` (see :meth:`equilibrium`); ``s = 0`` is DeGroot.

    Parameters
    ----------
    stubbornness : float or sequence of float in [0, 1]
        One value for all agents or one per agent (give this or ``susceptibility``).
    susceptibility : float or sequence of float in [0, 1], optional
        ``1 - stubbornness``; if given, ``stubbornness`` must be left at its default.
    weighted, self_weight
        As for :class:`DeGroot`.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.rules import FriedkinJohnsen
    >>> from socialmarl.networks.generators import complete_graph
    >>> fj = FriedkinJohnsen(stubbornness=0.5)
    >>> x0 = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> traj = fj.run(complete_graph(2), 60, initial=x0, dtype=torch.float64)
    >>> traj[0, -1].tolist(), fj.equilibrium(complete_graph(2), x0).tolist()
    ([0.25, 0.75], [0.25, 0.75])
    """

    stubbornness: float | Sequence[float] = 0.5
    susceptibility: float | Sequence[float] | None = None
    weighted: bool = True
    self_weight: float | None = None
    name: ClassVar[str] = "friedkin_johnsen"

    def __post_init__(self) -> None:
        if self.susceptibility is not None:
            if not (isinstance(self.stubbornness, (int, float)) and self.stubbornness == 0.5):
                raise ValueError("give stubbornness or susceptibility, not both")
            sus = np.asarray(self.susceptibility, dtype=np.float64)
            self._check_values("susceptibility", sus)
            self.susceptibility = None
            stub = 1.0 - sus
            self.stubbornness = float(stub) if stub.ndim == 0 else tuple(stub.tolist())
        arr = np.asarray(self.stubbornness, dtype=np.float64)
        self._check_values("stubbornness", arr)
        self.stubbornness = float(arr) if arr.ndim == 0 else tuple(arr.tolist())
        if self.self_weight is not None:
            self.self_weight = _check_prob("self_weight", self.self_weight)

    @staticmethod
    def _check_values(name: str, arr: np.ndarray) -> None:
        if arr.ndim > 1:
            raise ValueError(f"{name} must be one number or one per agent, got shape {arr.shape}")
        bad = ~np.isfinite(arr) | (arr < 0) | (arr > 1)
        if bad.any():
            k = int(np.flatnonzero(np.atleast_1d(bad))[0])
            v = float(np.atleast_1d(arr)[k])
            where = f" (agent {k})" if arr.ndim else ""
            raise ValueError(f"{name}={v!r}{where} is outside [0, 1]")

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        if not episode or "initial" not in episode:
            raise ValueError(
                "Friedkin-Johnsen needs the initial opinions: pass episode={'initial': x0} "
                "(simulate does this for you)"
            )
        s = ctx.cached(
            ("stubbornness", self.stubbornness, x.dtype),
            lambda: _stubbornness_tensor(self.stubbornness, ctx.num_nodes, ctx.device).to(x.dtype),
        )
        sw, m = _weights(ctx, self.weighted, self.self_weight, x.dtype)
        return s * episode["initial"].to(x.dtype) + (1 - s) * _mix(x, sw, m)

    def equilibrium(self, graph: Graph, initial: Any) -> torch.Tensor:
        """The limit ``(I - (I - S) W)^{-1} S x(0)`` by a dense float64 solve (small N).

        ``initial`` is ``(N,)`` or ``(R, N)``; the result has the same shape.
        """
        ctx = RuleContext.from_graph(graph)
        n = ctx.num_nodes
        x0 = torch.as_tensor(initial, dtype=torch.float64)
        s = _stubbornness_tensor(self.stubbornness, n, torch.device("cpu"))
        w = DeGroot(self.weighted, self.self_weight).weight_matrix(graph)
        a = torch.eye(n, dtype=torch.float64) - (1 - s)[:, None] * w
        b = (s * x0.reshape(-1, n)).T
        out = torch.linalg.solve(a, b).T
        return out.reshape(x0.shape)


@dataclass(eq=False)
class Deffuant(Rule):
    """Deffuant-Weisbuch bounded confidence (Deffuant et al. 2000), asynchronous.

    Each micro-step picks a pair ``(i, j)`` with ``j -> i`` an edge (``i`` observes ``j``).
    If ``|x_i - x_j| < epsilon`` they move towards each other:
    ``x_i += mu (x_j - x_i)`` and (when ``symmetric``) ``x_j += mu (x_i - x_j)``; otherwise
    nothing happens. One step is ``N`` micro-steps (NDlib's iteration has the same size).

    Parameters
    ----------
    epsilon : float >= 0
        Confidence bound (strict: a pair exactly ``epsilon`` apart does not interact).
    mu : float in (0, 0.5]
        Convergence parameter (0.5: the pair meets at its mean).
    symmetric : bool
        Both ends move (the classic model); False: only the observer ``i`` moves.
    selection : {"edge", "node"}
        ``"edge"``: a uniformly random directed edge (the classic "random pair of
        neighbours"). ``"node"``: a uniformly random agent, then a uniformly random
        in-neighbour (NDlib's algorithmic-bias model at gamma = 0); an agent without
        in-neighbours does nothing.

    Notes
    -----
    Random numbers of one step: ``edge`` (R, N) int64 uniform on ``0..E-1`` for
    ``selection="edge"``; ``agent`` (R, N) int64 and ``u`` (R, N) float64 for ``"node"``
    (mapped to an in-neighbour as in :class:`~socialmarl.rules.Voter`).

    Examples
    --------
    >>> import torch
    >>> from socialmarl.rules import Deffuant, simulate
    >>> from socialmarl.networks.generators import complete_graph
    >>> traj = simulate(Deffuant(epsilon=1.0, mu=0.5), complete_graph(5), 30, seed=0)
    >>> float(traj[0, -1].max() - traj[0, -1].min()) < 1e-3
    True
    >>> Deffuant(mu=0.7)
    Traceback (most recent call last):
    ...
    ValueError: mu=0.7 is outside (0, 0.5]; choose a value in that range
    """

    epsilon: float = 0.2
    mu: float = 0.5
    symmetric: bool = True
    selection: str = "edge"
    name: ClassVar[str] = "deffuant"
    asynchronous: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.epsilon = _check_nonneg("epsilon", self.epsilon)
        self.mu = _check_prob("mu", self.mu, open_low=True, high=0.5)
        _check_choice("selection", self.selection, ("edge", "node"))
        if not isinstance(self.symmetric, bool):
            raise TypeError(f"symmetric={self.symmetric!r} must be True or False")

    def draw(
        self, ctx: RuleContext, replicas: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        n = ctx.num_nodes
        if self.selection == "edge":
            e = max(ctx.num_edges, 1)
            return {"edge": torch.randint(0, e, (replicas, n), generator=generator,
                                          device=ctx.device)}
        agent = torch.randint(0, n, (replicas, n), generator=generator, device=ctx.device)
        u = torch.rand(replicas, n, generator=generator, device=ctx.device, dtype=torch.float64)
        return {"agent": agent, "u": u}

    def _micro(self, dtype: torch.dtype, device: torch.device):
        eps, mu = self.epsilon, self.mu
        sign = torch.tensor([1.0, -1.0], dtype=dtype, device=device)

        def micro(vals: torch.Tensor, aux: dict[str, torch.Tensor]):
            # x_i + mu (x_j - x_i) and x_j - mu (x_j - x_i), where |x_j - x_i| < epsilon
            d = vals[:, 1:] - vals[:, :1]
            move = (mu * d).masked_fill_(d.abs() >= eps, 0.0)
            return torch.addcmul(vals, move, sign), None

        return micro

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        n = ctx.num_nodes
        if self.selection == "edge":
            if ctx.num_edges == 0:
                return x.clone()
            i, j = ctx.receivers[draws["edge"]], ctx.senders[draws["edge"]]
        else:
            i = draws["agent"]
            j = pick_in_neighbour(ctx, i, draws["u"])
            i = torch.where(j < n, i, torch.full_like(i, n))
        reads = torch.stack([i, j], -1)
        writes = reads if self.symmetric else torch.stack([i, torch.full_like(j, n)], -1)
        if engine == "auto" and x.device.type == "cpu" and x.shape[0] <= AUTO_LEVELS_MAX_REPLICAS:
            engine = "levels"
        return run_micro_steps(x, reads, writes, self._micro(x.dtype, x.device), None, engine)


@dataclass(eq=False)
class HegselmannKrause(Rule):
    """Hegselmann-Krause bounded confidence (Hegselmann & Krause 2002), synchronous.

    Every agent moves at once to the mean opinion of itself and those in-neighbours within
    its confidence bound: ``x_i(t+1) = mean{x_j(t) : j in N(i) + {i}, |x_j(t) - x_i(t)| <=
    epsilon}`` (inclusive bound). One step updates all ``N`` agents.

    (NDlib's HKModel differs: per iteration it evaluates ``N`` randomly chosen agents over
    their neighbours only, with a strict bound, and in NDlib 6.0.1 keeps only the last of
    those ``N`` evaluations.)

    Parameters
    ----------
    epsilon : float >= 0
        Confidence bound.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.rules import HegselmannKrause, simulate
    >>> from socialmarl.networks.generators import complete_graph
    >>> x0 = torch.tensor([0.0, 0.1, 0.2, 0.9, 1.0], dtype=torch.float64)
    >>> out = simulate(HegselmannKrause(epsilon=0.15), complete_graph(5), 10, initial=x0,
    ...                dtype=torch.float64)[0, -1]
    >>> [round(v, 3) for v in out.tolist()]
    [0.1, 0.1, 0.1, 0.95, 0.95]
    """

    epsilon: float = 0.2
    name: ClassVar[str] = "hk"

    def __post_init__(self) -> None:
        self.epsilon = _check_nonneg("epsilon", self.epsilon)

    #: On a CPU, replicas are processed in blocks of this many so the (E, block) per-edge
    #: arrays stay in cache (about 3x faster at 1024 replicas).
    cpu_block: ClassVar[int] = 64

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
        if x.device.type == "cpu" and x.shape[0] > self.cpu_block:
            return torch.cat([self._step(c, ctx) for c in x.split(self.cpu_block)])
        return self._step(x, ctx)

    def _step(self, x: torch.Tensor, ctx: RuleContext) -> torch.Tensor:
        r = x.shape[0]
        # Agent-major (N, R) rows make the per-edge gathers contiguous; one replica is
        # gathered as a vector (2-D index_select with one column is slow on CPUs).
        xt = x.T.contiguous()
        flat = xt.view(-1) if r == 1 else xt
        xs = flat.index_select(0, ctx.senders).view(-1, r)
        # |x_j - x_i| <= epsilon as 1.0 / 0.0, computed in place
        near = flat.index_select(0, ctx.receivers).view(-1, r).sub_(xs).abs_().le_(self.epsilon)
        seg = ctx.cached(("segment", x.dtype), lambda: self._segment(ctx, x.dtype))
        count = seg @ near
        total = seg @ xs.mul_(near)
        out = (xt + total).div_(count.add_(1.0))
        return out.T.contiguous()

    @staticmethod
    def _segment(ctx: RuleContext, dtype: torch.dtype) -> torch.Tensor:
        """Sparse ``(N, E)`` matrix summing per-edge rows into their receivers."""
        import warnings

        e = ctx.num_edges
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.sparse_csr_tensor(
                ctx.rowptr, torch.arange(e, device=ctx.device),
                torch.ones(e, dtype=dtype, device=ctx.device), (ctx.num_nodes, e),
            )
