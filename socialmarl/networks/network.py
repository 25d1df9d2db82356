"""A network as the applications receive it: the graph, its camp process if any, its origin.

:func:`socialmarl.networks.resolve.load_network` and the bundled camp sample return a
:class:`Network`; a dynamic camp's ``graph.edge_weight`` holds the interaction
probabilities ``q`` and :attr:`Network.interaction_rate` the switching rate ``r``, and
:attr:`Network.camp` gives the two as the one :class:`~socialmarl.networks.dynamic.CampProcess`
that the game, the trainer and evaluation take.

Examples
--------
>>> import socialmarl as sm
>>> net = sm.load_network("camp_sample")
>>> net.dynamic, net.camp
(True, CampProcess(edges=698, rate=0.5))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from .dynamic import CampProcess
from .graph import Graph

__all__ = ["Network"]


@dataclass(frozen=True)
class Network:
    """A resolved network: the graph, its camp switching rate if dynamic, and its origin.

    Attributes
    ----------
    graph : Graph
        The network.
    interaction_rate : float or None
        Not None exactly when the network is a dynamic camp: then ``graph.edge_weight``
        holds the per-edge stationary interaction probabilities ``q`` of the two-state
        Markov process and this is its switching rate ``r`` per game step; :attr:`camp`
        holds both for the game (``camp=net.camp``).
    source : str
        Where it came from, in words (``"bundled camp sample"``,
        ``"edge list /data/x.txt"``, ...).
    """

    graph: Graph
    interaction_rate: float | None
    source: str

    def __post_init__(self) -> None:
        r = self.interaction_rate
        if r is not None:
            if not (isinstance(r, float) and math.isfinite(r) and r > 0):
                raise ValueError(f"interaction_rate={r!r}; a dynamic camp needs a float > 0")
            if self.graph.edge_weight is None:
                raise ValueError(
                    f"{self.source}: a dynamic camp needs edge weights q (interaction "
                    "probabilities); the graph has none"
                )

    @property
    def dynamic(self) -> bool:
        """Whether the network is a dynamic camp (``interaction_rate`` is set)."""
        return self.interaction_rate is not None

    @property
    def q(self) -> torch.Tensor | None:
        """The per-edge interaction probabilities of a dynamic camp, else ``None``."""
        return self.graph.edge_weight if self.dynamic else None

    @property
    def camp(self) -> CampProcess | None:
        """The camp process (``q`` and ``r`` as one value) of a dynamic camp, else ``None``."""
        if self.interaction_rate is None:
            return None
        return CampProcess.from_graph(self.graph, self.interaction_rate)
