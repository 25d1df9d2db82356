"""Hand-written strategies for the consensus game: baselines, demos and teaching.

Each strategy maps an :class:`~socialmarl.game.observation.Observation` in the agents' own
frames to ``(B, N)`` actions in those frames (use
:func:`~socialmarl.game.observation.to_env_actions` before :meth:`ConsensusGame.step`), so they
work unchanged with other-play on. All are vectorised over environments and agents.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .observation import GUESS_0, GUESS_1, Observation, to_env_actions

__all__ = ["follow_signal", "signal_then_majority", "always_one", "STRATEGIES", "play_episodes"]


def follow_signal(obs: Observation) -> torch.Tensor:
    """Guess 1 when the own signal is above 0.5, else 0 (ties: 0).

    Examples
    --------
    >>> import socialmarl as sm
    >>> game = sm.ConsensusGame(sm.ring_graph(5), seed=0)
    >>> follow_signal(game.reset().to_agent_frame()).shape
    torch.Size([1, 5])
    """
    return (obs.signal > 0.5).long()


def always_one(obs: Observation) -> torch.Tensor:
    """Say 1 whatever happens: a pure label convention (other-play makes it worthless)."""
    return torch.full_like(obs.own_output, GUESS_1)


def signal_then_majority(obs: Observation) -> torch.Tensor:
    """Follow the own signal at first, then the majority of what the agent observes.

    The vote counts the agent's own signal-based guess once and every observed neighbour's
    last guess once (waits and absent edges abstain); ties keep the signal-based guess.
    """
    own = follow_signal(obs)
    codes = obs.edge_codes  # (B, E), in the receiver's frame
    dst = obs.edge_index[1]
    vote = torch.where(codes == GUESS_1, 1.0, torch.where(codes == GUESS_0, -1.0, 0.0))
    total = torch.zeros(obs.signal.shape, dtype=vote.dtype, device=vote.device)
    total.index_add_(1, dst, vote)
    total = total + (2.0 * own - 1.0)
    return torch.where(total > 0, GUESS_1, torch.where(total < 0, GUESS_0, own)).long()


STRATEGIES: dict[str, Callable[[Observation], torch.Tensor]] = {
    "follow_signal": follow_signal,
    "signal_then_majority": signal_then_majority,
    "always_one": always_one,
}


def play_episodes(game, strategy: Callable[[Observation], torch.Tensor], episodes: int = 1):
    """Play whole episodes with a strategy; returns per-step means as a dict of lists.

    Keys: ``accuracy``, ``agreement``, ``entropy``, ``reward`` (each of length
    ``episodes * T``, averaged over environments and agents; ``agreement`` over the
    environments with an active edge, NaN at a step where none has one).

    Examples
    --------
    >>> import socialmarl as sm
    >>> game = sm.ConsensusGame(sm.karate_club(), num_envs=8, episode_length=5, seed=0)
    >>> out = play_episodes(game, follow_signal)
    >>> len(out["accuracy"])
    5
    """
    obs = game.reset()
    hist: dict[str, list[float]] = {"accuracy": [], "agreement": [], "entropy": [], "reward": []}
    for _ in range(episodes * game.config.episode_length):
        own = obs.to_agent_frame()
        actions = strategy(own)
        obs, reward, _, info = game.step(to_env_actions(actions, own.flips))
        for key in ("accuracy", "agreement", "entropy"):
            hist[key].append(float(info[key].nanmean()))
        hist["reward"].append(float(reward.mean()))
    return hist
