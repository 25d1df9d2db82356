"""Playing a policy in the game: the one rollout routine of training and evaluation.

:func:`rollout` plays ``steps`` steps of a :class:`~socialmarl.game.game.ConsensusGame`
with any policy function ``act(observation, hidden) -> PolicyOutput`` and keeps the
per-step tensors asked for. The trainer rolls out to learn (it keeps log-probabilities,
values and its own-frame observations), evaluation to measure (it keeps outputs, beliefs,
rewards and the attention): both go through this loop, so an episode played by the
trainer and by evaluation with the same generator is the same episode.

Conventions:

* the policy sees each agent's own frame (``obs.to_agent_frame()``: other-play flips
  applied) and its actions are mapped back with
  :func:`~socialmarl.game.observation.to_env_actions` before the game steps;
* actions are drawn by :func:`~socialmarl.learning.actions.sample_actions` from the one
  ``generator`` given (nothing else draws from it);
* the recurrent state is zeroed for environments whose episode ended with the step;
* per-step tensors are stacked time-major, ``(T, B, ...)``; ``truth`` is each agent's
  truth in its own frame, taken before the step (the game resets finished episodes);
* attention is summed over steps and environments in float64 (a mean needs ``count``).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

import torch

from ..game.game import ConsensusGame
from ..game.observation import Observation, to_env_actions
from .actions import sample_actions
from .policy import PolicyOutput

__all__ = ["Rollout", "rollout", "RECORDABLE"]

#: Names :func:`rollout` can keep per step.
RECORDABLE = ("signal", "own_output", "flips", "edge_active", "actions", "env_actions",
              "logp", "value", "belief", "env_belief", "reward", "done", "truth", "accuracy",
              "agreement", "entropy")

Act = Callable[[Observation, torch.Tensor], PolicyOutput]


@dataclass
class Rollout:
    """What :func:`rollout` played.

    Attributes
    ----------
    steps : dict of Tensor
        The recorded per-step tensors, each ``(T, B, ...)``; ``edge_active`` is ``None``
        when every edge was always active.
    obs : Observation
        The game's observation after the last step (environment frame).
    hidden : Tensor, shape (B, N, H)
        The recurrent state after the last step (zero where an episode ended).
    attention, self_attention : Tensor or None
        Attention summed over steps and environments, ``(E,)`` and ``(N,)`` float64, when
        asked for; divide by ``count`` for a mean.
    count : int
        ``steps * B``: the number of (step, environment) pairs summed.
    """

    steps: dict[str, torch.Tensor | None]
    obs: Observation
    hidden: torch.Tensor
    attention: torch.Tensor | None = None
    self_attention: torch.Tensor | None = None
    count: int = 0


@torch.no_grad()
def rollout(
    game: ConsensusGame,
    act: Act,
    steps: int,
    *,
    hidden: torch.Tensor,
    generator: torch.Generator,
    obs: Observation | None = None,
    greedy: bool = False,
    record: Collection[str] = ("actions", "reward"),
    sum_attention: bool = False,
) -> Rollout:
    """Play ``steps`` steps of ``game`` with ``act`` and keep what ``record`` names.

    Parameters
    ----------
    game : ConsensusGame
        A game that has been reset.
    act : callable
        ``act(observation_in_agent_frame, hidden) -> PolicyOutput`` (a policy module).
    steps : int
        Steps to play (episodes end and restart inside as the game decides).
    hidden : Tensor, shape (B, N, H)
        Initial recurrent state.
    generator : torch.Generator
        The random stream of action sampling.
    obs : Observation, optional
        The current observation (default ``game.observation()``).
    greedy : bool
        Take the most likely action instead of sampling.
    record : collection of str
        Per-step tensors to keep, from :data:`RECORDABLE`.
    sum_attention : bool
        Sum the policy's attention over steps and environments.

    Returns
    -------
    Rollout

    Examples
    --------
    >>> import torch, socialmarl as sm
    >>> game = sm.ConsensusGame(sm.ring_graph(5), num_envs=3, episode_length=4)
    >>> pol = sm.AttentionPolicy(5)
    >>> _ = game.reset()
    >>> r = rollout(game, pol, 4, hidden=pol.initial_state(3),
    ...             generator=torch.Generator().manual_seed(0), record=("actions", "done"))
    >>> r.steps["actions"].shape, r.steps["done"][-1].tolist()
    (torch.Size([4, 3, 5]), [True, True, True])
    """
    unknown = sorted(set(record) - set(RECORDABLE))
    if unknown:
        raise ValueError(f"cannot record {unknown}; choose from {list(RECORDABLE)}")
    obs = game.observation() if obs is None else obs
    keep: dict[str, list[torch.Tensor | None]] = {k: [] for k in record}
    att = self_att = None
    h = hidden
    b, n = game.num_envs, game.num_agents
    for _ in range(steps):
        own = obs.to_agent_frame()
        out = act(own, h)
        actions = sample_actions(out.logits, generator, greedy=greedy)
        env_actions = to_env_actions(actions, own.flips)
        truth = game.truth[:, None].expand(b, n) ^ own.flips.long() if "truth" in keep else None
        obs, reward, done, info = game.step(env_actions)
        if sum_attention:
            a, s = out.attention.double().sum(0), out.self_attention.double().sum(0)
            att, self_att = (a, s) if att is None else (att + a, self_att + s)
        values = {
            "signal": own.signal, "own_output": own.own_output, "flips": own.flips,
            "edge_active": own.edge_active, "actions": actions, "env_actions": env_actions,
            "value": out.value, "belief": out.belief, "reward": reward, "done": done,
            "truth": truth, "accuracy": info["accuracy"], "agreement": info["agreement"],
            "entropy": info["entropy"],
        }
        if "logp" in keep:
            logp = torch.log_softmax(out.logits, -1).gather(-1, actions[..., None])[..., 0]
            values["logp"] = logp
        if "env_belief" in keep:
            values["env_belief"] = torch.where(own.flips, 1.0 - out.belief, out.belief)
        for k in keep:
            keep[k].append(values[k])
        h = out.hidden * (~done).to(out.hidden.dtype)[:, None, None]
    stacked = {k: (None if not v or v[0] is None else torch.stack(v)) for k, v in keep.items()}
    return Rollout(steps=stacked, obs=obs, hidden=h, attention=att, self_attention=self_att,
                   count=steps * b)
