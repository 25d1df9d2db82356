"""Shared pieces of the classic opinion-dynamics rules: the rule protocol, the graph context
every rule reads, parameter checks, random in-neighbour picking and opinion helpers.

Every rule is a small dataclass with three methods that :meth:`Rule.run` (the simulation
loop behind :func:`~socialmarl.rules.simulation.simulate`) calls in turn, and that tests
and lectures may call directly:

* :meth:`Rule.draw` draws *all* random numbers one step needs (a dict of tensors),
* :meth:`Rule.step` applies one step given those numbers (deterministic),
* :meth:`Rule.initial` gives the default initial opinions.

Keeping the randomness outside :meth:`Rule.step` is what lets a slow, obviously-correct
reference consume the same numbers and reproduce a trajectory exactly.

This module imports no rule: it depends on :mod:`socialmarl.networks`,
:mod:`socialmarl.common.checks` (parameter checks, the configs' messages) and
:mod:`.engines` only, so every rule module, the registry and the driver can import it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch

from ..common.checks import as_float
from ..networks.graph import Graph
from .engines import ENGINES

_T = TypeVar("_T")

__all__ = [
    "Rule",
    "RuleContext",
    "to_guess",
    "pick_in_neighbour",
    "check_opinions",
]


@dataclass(eq=False)
class RuleContext:
    """The graph as the rules read it, on one device (built by :meth:`Rule.prepare`).

    Self loops are dropped (an agent always knows its own opinion; as in the game they
    carry no information). Edges keep the :class:`~socialmarl.networks.Graph` order, sorted
    by (receiver, sender), so the in-neighbours of agent ``i`` are
    ``senders[rowptr[i]:rowptr[i + 1]]`` in increasing id order.

    Attributes
    ----------
    graph : Graph
        The graph without self loops, on ``device``.
    num_nodes : int
        ``N``.
    senders, receivers : Tensor (E,), int64
        Row 0 and row 1 of ``graph.edge_index``.
    in_degree : Tensor (N,), int64
    in_degree_f : Tensor (N,), float64
        The in-degree as float64, used to map uniforms to neighbour slots.
    rowptr : Tensor (N + 1,), int64
        Start of each agent's block of in-edges.
    device : torch.device
    """

    graph: Graph
    num_nodes: int
    senders: torch.Tensor
    receivers: torch.Tensor
    in_degree: torch.Tensor
    in_degree_f: torch.Tensor
    rowptr: torch.Tensor
    device: torch.device
    cache: dict[Hashable, Any] = field(default_factory=dict, repr=False)

    def cached(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """``build()``, computed once per context and key (weights, sparse matrices)."""
        if key not in self.cache:
            self.cache[key] = build()
        return self.cache[key]

    @classmethod
    def from_graph(cls, graph: Graph, device: str | torch.device | None = None) -> RuleContext:
        """Build the context of ``graph`` on ``device`` (default: the graph's device).

        Examples
        --------
        >>> from socialmarl.networks.graph import Graph
        >>> ctx = RuleContext.from_graph(Graph(3, [[0, 1, 2, 2], [1, 2, 0, 2]]))
        >>> ctx.senders.tolist(), ctx.rowptr.tolist()
        ([2, 0, 1], [0, 1, 2, 3])
        """
        if not isinstance(graph, Graph):
            raise TypeError(
                f"graph must be a socialmarl Graph, got {type(graph).__name__}; convert with "
                "Graph.from_networkx(...) or Graph.from_edges(...)"
            )
        dev = torch.device(device) if device is not None else graph.device
        g = graph.to(dev)
        if g.has_self_loops():
            g = g.remove_self_loops()
        n = g.num_nodes
        deg = g.in_degree()
        rowptr = torch.zeros(n + 1, dtype=torch.long, device=dev)
        rowptr[1:] = torch.cumsum(deg, 0)
        return cls(
            graph=g,
            num_nodes=n,
            senders=g.senders.contiguous(),
            receivers=g.receivers.contiguous(),
            in_degree=deg,
            in_degree_f=deg.to(torch.float64),
            rowptr=rowptr,
            device=dev,
        )

    @property
    def num_edges(self) -> int:
        """Number of directed edges ``E`` (self loops excluded)."""
        return int(self.senders.numel())

    def csr(self, values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
        """A sparse ``(N, N)`` CSR matrix with ``values`` (E,) at ``[receiver, sender]``."""
        import warnings

        n = self.num_nodes
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.sparse_csr_tensor(
                self.rowptr, self.senders, values.to(dtype), (n, n), device=self.device
            )

    def out_table(self) -> torch.Tensor:
        """``(N, max_out)`` receivers of each agent's out-edges, padded with ``N``.

        Examples
        --------
        >>> from socialmarl.networks.graph import Graph
        >>> RuleContext.from_graph(Graph(3, [[0, 0, 1], [1, 2, 2]])).out_table().tolist()
        [[1, 2], [2, 3], [3, 3]]
        """
        return self.cached("out_table", self._out_table)

    def _out_table(self) -> torch.Tensor:
        n, e = self.num_nodes, self.num_edges
        out_deg = torch.bincount(self.senders, minlength=n)
        width = max(int(out_deg.max()) if e else 0, 1)
        order = torch.argsort(self.senders * n + self.receivers)
        s, r = self.senders[order], self.receivers[order]
        start = torch.zeros(n + 1, dtype=torch.long, device=self.device)
        start[1:] = torch.cumsum(out_deg, 0)
        slot = torch.arange(e, device=self.device) - start[s]
        table = torch.full((n, width), n, dtype=torch.long, device=self.device)
        table[s, slot] = r
        return table


def pick_in_neighbour(
    ctx: RuleContext, agents: torch.Tensor, u: torch.Tensor
) -> torch.Tensor:
    """The in-neighbour of ``agents`` selected by uniforms ``u``; ``N`` where there is none.

    Agent ``i`` with in-degree ``d > 0`` takes slot ``k = min(floor(u * d), d - 1)`` of its
    in-neighbours in increasing id order (the product is computed in float64), so each
    in-neighbour is drawn with probability ``1 / d``.

    Parameters
    ----------
    ctx : RuleContext
    agents : Tensor of int64, any shape
    u : Tensor of float64 in [0, 1), the shape of ``agents``

    Examples
    --------
    >>> import torch
    >>> from socialmarl.networks.graph import Graph
    >>> ctx = RuleContext.from_graph(Graph(3, [[1, 2], [0, 0]]))
    >>> pick_in_neighbour(ctx, torch.tensor([0, 0, 1]), torch.tensor([0.2, 0.7, 0.5],
    ...     dtype=torch.float64)).tolist()
    [1, 2, 3]
    """
    n, e = ctx.num_nodes, ctx.num_edges
    if e == 0:
        return torch.full_like(agents, n)
    d = ctx.in_degree_f.take(agents)
    k = torch.minimum((u * d).floor(), d - 1).clamp_min(0).long()
    edge = (ctx.rowptr.take(agents) + k).clamp_max(e - 1)
    nb = ctx.senders.take(edge)
    return torch.where(d > 0, nb, torch.full_like(nb, n))


def to_guess(opinions: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Map continuous opinions to the game's guesses: 1 where ``opinion > threshold``, else 0.

    Parameters
    ----------
    opinions : Tensor, any shape
        Continuous opinions (for example a trajectory ``(R, T + 1, N)``).
    threshold : float
        Opinions strictly above it read as guess 1; at or below it, guess 0.

    Returns
    -------
    Tensor of int64, the shape of ``opinions``.

    Examples
    --------
    >>> import torch
    >>> to_guess(torch.tensor([0.1, 0.5, 0.9])).tolist()
    [0, 0, 1]
    """
    if not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ValueError(f"threshold={threshold!r}: must be a finite number")
    return (torch.as_tensor(opinions) > threshold).long()


def check_opinions(
    x: Any,
    replicas: int,
    num_nodes: int,
    *,
    binary: bool,
    dtype: torch.dtype,
    device: torch.device,
    name: str = "initial",
) -> torch.Tensor:
    """Validate initial opinions and broadcast them to ``(replicas, num_nodes)``.

    Examples
    --------
    >>> import torch
    >>> check_opinions([0, 1, 1], 2, 3, binary=True, dtype=torch.long,
    ...                device=torch.device("cpu")).tolist()
    [[0, 1, 1], [0, 1, 1]]
    >>> check_opinions([0, 2, 1], 1, 3, binary=True, dtype=torch.long,
    ...                device=torch.device("cpu"))
    Traceback (most recent call last):
    ...
    ValueError: initial holds 2 at agent 1 (replica 0); binary rules need opinions 0 or 1
    """
    t = torch.as_tensor(np.asarray(x) if isinstance(x, (list, tuple)) else x)
    t = t.to(device)
    if t.dim() == 1:
        t = t.unsqueeze(0).expand(replicas, -1)
    if t.dim() != 2 or t.shape[1] != num_nodes or t.shape[0] != replicas:
        raise ValueError(
            f"{name} has shape {tuple(torch.as_tensor(x).shape)}; give (N,) = ({num_nodes},) "
            f"for all replicas or (replicas, N) = ({replicas}, {num_nodes})"
        )
    if t.dtype == torch.bool:
        t = t.long()
    if t.is_floating_point():
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            r, i = (int(v) for v in torch.nonzero(bad)[0])
            raise ValueError(
                f"{name} is {float(t[r, i])} at agent {i} (replica {r}); opinions must be "
                "finite numbers (replace NaN/inf before simulating)"
            )
    if binary:
        bad = (t != 0) & (t != 1)
        if bool(bad.any()):
            r, i = (int(v) for v in torch.nonzero(bad)[0])
            v = t[r, i].item()
            raise ValueError(
                f"{name} holds {v:g} at agent {i} (replica {r}); binary rules need "
                "opinions 0 or 1"
            )
    return t.to(dtype).contiguous().clone()


def _check_prob(name: str, p: Any, *, open_low: bool = False, high: float = 1.0) -> float:
    """A rule parameter in ``[0, high]`` (``(0, high]`` with ``open_low``), as a float.

    Numbers pass through :func:`socialmarl.common.checks.as_float` (NumPy and one-element
    torch scalars accepted; bools, strings, NaN and inf refused with its message).
    """
    lo = "(0" if open_low else "[0"
    v = as_float(p, name, what=f"choose a value in {lo}, {high:g}]")
    if not ((v > 0.0 if open_low else v >= 0.0) and v <= high):
        raise ValueError(f"{name}={v!r} is outside {lo}, {high:g}]; choose a value in that range")
    return v


def _check_nonneg(name: str, v: Any) -> float:
    """A finite rule parameter >= 0, as a float (see :func:`_check_prob`)."""
    return as_float(v, name, minimum=0.0)


def _check_choice(name: str, v: Any, choices: Sequence[str]) -> str:
    if v not in choices:
        raise ValueError(f"{name}={v!r}; choose one of {list(choices)}")
    return v


class Rule:
    """Base class of the opinion-dynamics rules (see the module docstring).

    Class attributes
    ----------------
    name : str
        Registry name (a key of :data:`~socialmarl.rules.RULES`).
    binary : bool
        Opinions are guesses in {0, 1} (int64); otherwise continuous (floating point).
    asynchronous : bool
        One step is ``N`` random micro-steps applied one after another (otherwise all
        agents update at once from the previous opinions).
    """

    name: ClassVar[str] = "rule"
    binary: ClassVar[bool] = False
    asynchronous: ClassVar[bool] = False

    def prepare(self, graph: Graph, device: str | torch.device | None = None) -> RuleContext:
        """The :class:`RuleContext` of ``graph`` on ``device``."""
        return RuleContext.from_graph(graph, device)

    def default_dtype(self) -> torch.dtype:
        """int64 for binary rules, float32 for continuous ones."""
        return torch.long if self.binary else torch.float32

    def episode(
        self, ctx: RuleContext, replicas: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        """Per-replica quantities fixed for a whole run (none, except for truth seeking)."""
        return {}

    def initial(
        self,
        ctx: RuleContext,
        replicas: int,
        generator: torch.Generator,
        dtype: torch.dtype,
        episode: dict[str, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Default initial opinions: fair coins (binary) or uniform on [0, 1) (continuous)."""
        u = torch.rand(replicas, ctx.num_nodes, generator=generator, device=ctx.device,
                       dtype=torch.float64)
        if self.binary:
            return (u < 0.5).to(dtype)
        return u.to(dtype)

    def draw(
        self, ctx: RuleContext, replicas: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        """All random numbers of one step (empty for deterministic rules)."""
        return {}

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        """One step from opinions ``x`` (R, N) using the numbers ``draws``; returns new ``x``."""
        raise NotImplementedError

    def run(
        self,
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
        """Simulate this rule on ``graph`` for ``steps`` steps in ``replicas`` runs.

        The simulation loop: ``rule.run(graph, steps, ...)`` is
        ``simulate(rule, graph, steps, ...)``; see
        :func:`socialmarl.rules.simulation.simulate` for the parameters and the result (a
        trajectory ``(R, T + 1, N)``).

        Examples
        --------
        >>> import torch
        >>> from socialmarl.rules import Voter
        >>> from socialmarl.networks.generators import ring_graph
        >>> traj = Voter().run(ring_graph(6), steps=3, replicas=2, seed=0)
        >>> traj.shape, torch.equal(traj, Voter().run(ring_graph(6), 3, 2, seed=0))
        (torch.Size([2, 4, 6]), True)
        """
        for name, v in (("steps", steps), ("replicas", replicas)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"{name}={v!r} must be an int")
        if steps < 0:
            raise ValueError(f"steps={steps}: need an integer >= 0")
        if replicas < 1:
            raise ValueError(f"replicas={replicas}: need an integer >= 1")
        if engine not in ENGINES:
            raise ValueError(f"engine={engine!r}; choose one of {list(ENGINES)}")
        ctx = self.prepare(graph, device)
        dev, n = ctx.device, ctx.num_nodes
        dtype = dtype or self.default_dtype()
        if self.binary and dtype.is_floating_point:
            raise ValueError(
                f"{self.name} opinions are 0/1 guesses; use an integer dtype, not {dtype}"
            )
        if not self.binary and not dtype.is_floating_point:
            raise ValueError(
                f"{self.name} opinions are continuous; use a floating dtype, not {dtype}"
            )
        gen = _generator(seed, dev)
        if episode is None:
            ep = self.episode(ctx, replicas, gen)
        else:
            ep = {k: torch.as_tensor(v).to(dev) for k, v in episode.items()}
            for k, v in ep.items():
                if v.is_floating_point() and not bool(torch.isfinite(v).all()):
                    raise ValueError(f"episode[{k!r}] holds NaN or infinite values")
        if initial is None:
            x = self.initial(ctx, replicas, gen, dtype, ep)
        else:
            x = check_opinions(initial, replicas, n, binary=self.binary, dtype=dtype, device=dev)
        ep["initial"] = x.clone()
        traj = torch.empty(replicas, steps + 1, n, dtype=dtype, device=dev)
        traj[:, 0] = x
        for t in range(steps):
            draws = self.draw(ctx, replicas, gen)
            x = self.step(x, ctx, draws, ep, engine)
            traj[:, t + 1] = x
        return (traj, ep) if return_episode else traj


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
