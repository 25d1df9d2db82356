"""What an agent sees, as a fixed-size vector: the one definition both adapters use.

Learners from other libraries (TorchRL, PettingZoo) want an observation of the same size for
every agent, whatever its degree, while the game's own
:class:`~socialmarl.game.observation.Observation` is sparse (one entry per edge). The
vector of :data:`FEATURES` keeps what a degree-free policy can use:

====  ==========  ==================================================================
0     signal      the private signal (``Psi + sigma * eps``; 0.5 without one)
1-3   own_0/1/    one-hot of the agent's own previous output (0 / 1 / wait; wait at
      own_wait    step 0)
4-7   nbr_0/1/    shares of the agent's in-neighbours in the graph whose previous
      nbr_wait/   output it sees as 0 / 1 / wait, and the share it does not observe
      nbr_unseen  this step (edge percolated away, or no camp interaction); the four
                  sum to 1 (all 0 for an agent with no in-neighbour)
8     in_degree   the agent's in-degree in the graph (static; ``share * in_degree``
                  gives the counts)
9     time        the step, ``t / T`` in [0, 1]
====  ==========  ==================================================================

Shares rather than per-neighbour codes keep the size fixed for an agent of degree 1 and a
hub of degree 500; the price is that who said what is lost, only how many. The vector is
read in the frame ``obs`` is in: pass ``obs.to_agent_frame()`` for what agents see under
other-play (both adapters do).
"""

from __future__ import annotations

import torch

from ..game.observation import NUM_CODES, WAIT, Observation

__all__ = ["FEATURES", "agent_features"]

#: Names of an agent's features, in order (see the module docstring).
FEATURES: tuple[str, ...] = (
    "signal", "own_0", "own_1", "own_wait", "nbr_0", "nbr_1", "nbr_wait", "nbr_unseen",
    "in_degree", "time",
)


def agent_features(
    obs: Observation, episode_length: int, in_degree: torch.Tensor | None = None
) -> torch.Tensor:
    """Every agent's :data:`FEATURES`, ``(B, N, 10)`` float32, in the frame ``obs`` is in.

    Parameters
    ----------
    obs : Observation
        The game's observation (``ConsensusGame.reset``, ``step`` or ``observation()``).
    episode_length : int
        ``T``, to scale the step to ``t / T``.
    in_degree : Tensor, shape (N,), optional
        Each agent's in-degree in the graph (counted from ``obs.edge_index`` if omitted).

    Returns
    -------
    Tensor, shape (B, N, 10), float32, on the observation's device.

    Examples
    --------
    >>> import socialmarl as sm
    >>> game = sm.ConsensusGame(sm.ring_graph(4), episode_length=5, seed=0)
    >>> v = agent_features(game.reset(), 5)
    >>> v.shape, v[0, 0, 1:].tolist()   # step 0: own output wait, both neighbours wait
    (torch.Size([1, 4, 10]), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0])
    """
    b, n = obs.signal.shape
    dev = obs.signal.device
    dst = obs.edge_index[1]
    if in_degree is None:
        in_degree = torch.bincount(dst, minlength=n)
    degree = in_degree.to(device=dev, dtype=torch.float32)
    codes = obs.edge_codes  # (B, E): 0, 1, wait or NO_EDGE (the last code), in its frame
    counts = torch.zeros(b, n, NUM_CODES, dtype=torch.float32, device=dev)
    counts.index_add_(1, dst, torch.nn.functional.one_hot(codes, NUM_CODES).to(torch.float32))
    shares = counts / degree.clamp_min(1.0)[None, :, None]
    own = torch.nn.functional.one_hot(obs.own_output, WAIT + 1).to(torch.float32)
    time = (obs.t.to(torch.float32) / float(episode_length))[:, None, None].expand(b, n, 1)
    return torch.cat([obs.signal.to(torch.float32)[..., None], own, shares,
                      degree[None, :, None].expand(b, n, 1), time], dim=-1)
