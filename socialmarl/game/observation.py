"""The sparse observation of the consensus game and the other-play frame helpers.

An :class:`Observation` holds, for ``B`` environments and ``N`` agents, everything agent
``i`` sees at step ``t``: its private signal, its own previous output and the previous
outputs of its in-neighbours along the edges active this step. Per-edge codes are a view
over ``graph.edge_index`` (shape ``(B, E)``), never an ``N x N`` matrix; :meth:`dense` gives
the ``(B, N, N)`` picture for small ``N``.

Output codes: ``0`` and ``1`` are guesses, ``WAIT`` (2) is the wait action and ``NO_EDGE``
(3) marks a pair with no active edge in the dense view and inactive edges in
``edge_codes``.

Other-play (the README's "The game"): each agent of each environment has a flip bit drawn
at reset. In its own frame a flipped agent sees signal ``1 - x``, every guess it observes
swapped (0 <-> 1, wait unchanged), and the guess it picks is swapped back before it reaches
the environment (:func:`to_env_actions`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

__all__ = [
    "GUESS_0",
    "GUESS_1",
    "WAIT",
    "NO_EDGE",
    "NUM_CODES",
    "Observation",
    "flip_codes",
    "to_env_actions",
]

GUESS_0 = 0
GUESS_1 = 1
WAIT = 2
NO_EDGE = 3
NUM_CODES = 4


def flip_codes(codes: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
    """Swap guesses 0 <-> 1 where ``flips`` is true; wait and no-edge codes are unchanged.

    Parameters
    ----------
    codes : Tensor of int
        Output codes, any shape.
    flips : Tensor of bool
        Broadcastable to ``codes``.

    Examples
    --------
    >>> import torch
    >>> flip_codes(torch.tensor([0, 1, 2, 3]), torch.tensor(True)).tolist()
    [1, 0, 2, 3]
    """
    return torch.where(flips & (codes <= GUESS_1), 1 - codes, codes)


def to_env_actions(actions: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
    """Map actions chosen in each agent's own frame back to the environment's labels.

    Parameters
    ----------
    actions : Tensor of int, shape (B, N)
        Actions in the agents' frames (0, 1 or wait).
    flips : Tensor of bool, shape (B, N)
        The flip bits of :attr:`Observation.flips`.

    Examples
    --------
    >>> import torch
    >>> to_env_actions(torch.tensor([[0, 1, 2]]), torch.tensor([[True, False, True]])).tolist()
    [[1, 1, 2]]
    """
    return flip_codes(actions, flips)


@dataclass(frozen=True)
class Observation:
    """What every agent of every environment sees at one step.

    Attributes
    ----------
    signal : Tensor, shape (B, N), float
        Private signal (``Psi + sigma * eps``, exactly ``Psi`` for experts, 0.5 without one).
    own_output : Tensor, shape (B, N), int64
        Each agent's output at the previous step (``WAIT`` at ``t = 0``).
    edge_active : Tensor, shape (B, E), bool, or None
        Which edges of ``edge_index`` are present this step (percolation, dynamic camps);
        ``None`` means all of them.
    t : Tensor, shape (B,), int64
        Step within the episode.
    flips : Tensor, shape (B, N), bool
        Other-play flip bits (all false when other-play is off).
    edge_index : Tensor, shape (2, E), int64
        The game's edges (sender row 0, receiver row 1).
    in_agent_frame : bool
        Whether :meth:`to_agent_frame` has been applied.
    """

    signal: torch.Tensor
    own_output: torch.Tensor
    edge_active: torch.Tensor | None
    t: torch.Tensor
    flips: torch.Tensor
    edge_index: torch.Tensor
    in_agent_frame: bool = False

    @property
    def num_envs(self) -> int:
        """Number of environments ``B``."""
        return int(self.signal.shape[0])

    @property
    def num_agents(self) -> int:
        """Number of agents ``N``."""
        return int(self.signal.shape[1])

    @property
    def edge_codes(self) -> torch.Tensor:
        """``(B, E)`` previous output of each edge's sender, as seen by its receiver.

        Inactive edges read ``NO_EDGE``. In the agent frame the codes are swapped for
        receivers whose flip bit is set. Computed on demand (a gather over all edges); a
        policy usually embeds ``own_output`` per agent and gathers the embeddings instead.
        """
        src, dst = self.edge_index[0], self.edge_index[1]
        codes = self.own_output.index_select(1, src)
        if self.in_agent_frame:
            # own_output is in each sender's frame; undo the sender's flip, apply the receiver's.
            swap = self.flips.index_select(1, src) ^ self.flips.index_select(1, dst)
            codes = flip_codes(codes, swap)
        if self.edge_active is not None:
            codes = torch.where(self.edge_active, codes, torch.full_like(codes, NO_EDGE))
        return codes

    def neighbour_outputs(self) -> torch.Tensor:
        """``(B, N)`` previous outputs in the environment's labels (frame undone)."""
        if self.in_agent_frame:
            return flip_codes(self.own_output, self.flips)
        return self.own_output

    def dense(self) -> torch.Tensor:
        """``(B, N, N)`` codes: entry ``[b, i, j]`` is what ``i`` sees of ``j``.

        The diagonal is the agent's own previous output; pairs without an active edge read
        ``NO_EDGE``. Memory grows as ``N**2``: for small graphs and teaching only.
        """
        b, n = self.signal.shape
        out = torch.full((b, n, n), NO_EDGE, dtype=torch.long, device=self.signal.device)
        src, dst = self.edge_index[0], self.edge_index[1]
        out[:, dst, src] = self.edge_codes
        idx = torch.arange(n, device=self.signal.device)
        out[:, idx, idx] = self.own_output
        return out

    def to_agent_frame(self) -> Observation:
        """The observation each agent sees in its own (possibly flipped) frame.

        Signals become ``1 - x`` for flipped agents and every observed guess is swapped for
        them. Applying it twice is an error rather than a silent double flip.

        Examples
        --------
        >>> import socialmarl as sm
        >>> game = sm.ConsensusGame(sm.ring_graph(6), num_envs=2, other_play=True, seed=0)
        >>> obs = game.reset()
        >>> own = obs.to_agent_frame()
        >>> bool(((own.signal - (1 - obs.signal)).abs() < 1e-6)[obs.flips].all())
        True
        """
        if self.in_agent_frame:
            raise ValueError("this observation is already in the agents' frames")
        return replace(
            self,
            signal=torch.where(self.flips, 1.0 - self.signal, self.signal),
            own_output=flip_codes(self.own_output, self.flips),
            in_agent_frame=True,
        )

    def to(self, device: str | torch.device) -> Observation:
        """A copy with all tensors on ``device``."""
        return replace(
            self,
            signal=self.signal.to(device),
            own_output=self.own_output.to(device),
            edge_active=None if self.edge_active is None else self.edge_active.to(device),
            t=self.t.to(device),
            flips=self.flips.to(device),
            edge_index=self.edge_index.to(device),
        )
