"""The "local Nash" check (the README's "Training populations"): can a few agents gain by deviating?

A trained population is frozen; a chosen subset of agents gets its own copy of the policy,
which is retrained with PPO while everyone else keeps playing the frozen one. If the
population is near a Nash equilibrium of the general-sum game, the deviants gain little.
The gain is measured on identical evaluation episodes (same seeds: common random
numbers) before and after retraining, with a bootstrap confidence interval over episodes.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..common.checks import as_float
from ..game.game import GameConfig
from ..game.observation import Observation
from ..learning.config import TrainConfig
from ..learning.policy import AttentionPlan, AttentionPolicy, PolicyOutput
from ..learning.trainer import Trainer
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from .evaluation import evaluate
from .metrics import bootstrap_ci

__all__ = ["MixedPolicy", "NashResult", "local_nash"]


class MixedPolicy(nn.Module):
    """A frozen base policy for most agents and a trainable deviant copy for a subset.

    Parameters
    ----------
    base : AttentionPolicy
        The frozen population (its parameters get ``requires_grad = False``).
    deviant : AttentionPolicy
        The policy of the agents in ``agents``.
    agents : Tensor of bool, shape (N,)
        Which agents play ``deviant``.

    Examples
    --------
    >>> import torch, socialmarl as sm
    >>> base = sm.AttentionPolicy(5)
    >>> mixed = MixedPolicy(base, copy.deepcopy(base), torch.tensor([True] + [False] * 4))
    >>> sum(p.requires_grad for p in mixed.parameters()) > 0
    True
    """

    def __init__(self, base: AttentionPolicy, deviant: AttentionPolicy, agents: torch.Tensor):
        super().__init__()
        if base.num_agents != deviant.num_agents or agents.numel() != base.num_agents:
            raise ValueError("base, deviant and the agent mask must have the same N")
        self.base = base
        for p in self.base.parameters():
            p.requires_grad_(False)
        self.deviant = deviant
        self.register_buffer("agents", agents.to(torch.bool).clone())
        self.num_agents = base.num_agents
        self.config = deviant.config

    def initial_state(self, batch: int, device: str | torch.device | None = None):
        """Zeros of shape ``(batch, N, hidden)``."""
        return self.deviant.initial_state(batch, device)

    def attention_plan(self, obs: Observation) -> AttentionPlan:
        """The attention's index tensors (they depend on the observation only)."""
        return self.deviant.attention_plan(obs)

    def forward(self, obs: Observation, h: torch.Tensor, *,
                plan: AttentionPlan | None = None) -> PolicyOutput:
        """Deviant outputs for the chosen agents, frozen outputs for the rest."""
        with torch.no_grad():
            fb = self.base(obs, h, plan=plan)
        return self._mix(self.deviant(obs, h, plan=plan), fb, obs, agent_axis=1)

    def forward_sequence(self, obs: Observation, steps: int, *,
                         plan: AttentionPlan | None = None) -> PolicyOutput:
        """:meth:`AttentionPolicy.forward_sequence` with the same routing of agents."""
        with torch.no_grad():
            fb = self.base.forward_sequence(obs, steps, plan=plan)
        return self._mix(self.deviant.forward_sequence(obs, steps, plan=plan), fb, obs,
                         agent_axis=2)

    def _mix(self, fd: PolicyOutput, fb: PolicyOutput, obs: Observation, agent_axis: int):
        m = self.agents

        def mix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            shape = [1] * a.dim()
            shape[agent_axis] = -1
            return torch.where(m.view(shape), a, b)

        # per-edge outputs belong to the receiver of each edge
        edge_mask = m[obs.edge_index[1]].view([1] * (agent_axis - 1) + [1, -1])
        return PolicyOutput(
            logits=mix(fd.logits, fb.logits),
            value=mix(fd.value, fb.value),
            belief=mix(fd.belief, fb.belief),
            belief_logit=mix(fd.belief_logit, fb.belief_logit),
            attention=torch.where(edge_mask, fd.attention, fb.attention),
            self_attention=mix(fd.self_attention, fb.self_attention),
            hidden=mix(fd.hidden, fb.hidden),
        )


@dataclass
class NashResult:
    """Outcome of :func:`local_nash`.

    Attributes
    ----------
    agents : list of int
        The deviating agents.
    return_before, return_after : float
        Their mean episode return with the frozen policy and after retraining.
    gain : float
        ``return_after - return_before``.
    gain_ci : tuple of float
        95% bootstrap interval of the gain over evaluation episodes.
    others_before, others_after : float
        Mean return of everyone else (how the deviation affects them).
    log : pandas.DataFrame
        Training log of the deviants' PPO updates.
    config : dict
        Settings of the check.
    """

    agents: list[int]
    return_before: float
    return_after: float
    gain: float
    gain_ci: tuple[float, float]
    others_before: float
    others_after: float
    log: Any
    config: dict[str, Any]


def local_nash(
    policy: AttentionPolicy,
    graph: Graph,
    agents: list[int] | np.ndarray | torch.Tensor,
    *,
    alpha: float,
    num_updates: int = 50,
    episodes: int = 128,
    train_config: TrainConfig | None = None,
    camp: CampProcess | None = None,
    seed: int = 0,
    progress: bool = False,
    **overrides: Any,
) -> NashResult:
    """Freeze ``policy``, retrain the agents in ``agents`` alone, report their gain.

    Parameters
    ----------
    policy : AttentionPolicy
        A trained population.
    graph : Graph
        The graph it plays on.
    agents : sequence of int
        Ids of the deviating agents.
    alpha : float
        The game's truth weight (the population's alpha).
    num_updates : int
        PPO updates for the deviants (no curricula: the final game is played throughout).
    episodes : int
        Evaluation episodes before and after (the same seeds both times).
    train_config : TrainConfig, optional
        Base settings (e.g. the run's config); the curricula are switched off.
    camp : CampProcess, optional
        The dynamic camp process of the network.
    seed : int
        Seed of the retraining and the evaluation.
    **overrides
        Further training settings by name (``lr``, ``envs_per_alpha``, ``hidden`` ...).

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.ring_graph(6)
    >>> res = local_nash(sm.AttentionPolicy(6, hidden=16), g, [0], alpha=1.0, num_updates=1,
    ...                  episodes=4, envs_per_alpha=2, num_minibatches=1, episode_length=4,
    ...                  hidden=16)
    >>> res.agents
    [0]
    """
    alpha = as_float(alpha, "alpha", minimum=0.0, maximum=1.0,
                     what="alpha weights truth (1) against conformity (0)")
    n = graph.num_nodes
    ids = torch.as_tensor(agents, dtype=torch.long).reshape(-1)
    if ids.numel() == 0:
        raise ValueError("agents is empty; name at least one agent to retrain")
    if (ids < 0).any() or (ids >= n).any():
        raise ValueError(f"agent ids must lie in 0..{n - 1}, got {ids.tolist()}")
    mask = torch.zeros(n, dtype=torch.bool)
    mask[ids] = True
    base_cfg = train_config if train_config is not None else TrainConfig(
        policy=policy.config,
        game=GameConfig(other_play=True, allow_wait=policy.config.num_actions == 3),
    )
    cfg = base_cfg.updated(
        alphas=[float(alpha)], num_updates=num_updates, seed=seed,
        p_signal_start=base_cfg.game.p_signal, perc_start=None, alpha0_signal_anneal_frac=0.0,
        alpha0_shaping=0.0, **overrides,
    )
    device = torch.device(cfg.device)
    base = copy.deepcopy(policy).to(device)
    base.eval()
    eval_kwargs = dict(alpha=alpha, episodes=episodes, camp=camp, device=device,
                       seed=seed + 99, game_config=cfg.game)
    before = evaluate(base, graph, **eval_kwargs)
    mixed = MixedPolicy(base, copy.deepcopy(policy).to(device), mask.to(device)).to(device)
    trainer = Trainer(graph, cfg, camp=camp, policies=[mixed], learners=mask,
                      progress=progress)
    log = trainer.train()
    mixed.eval()
    after = evaluate(mixed, graph, **eval_kwargs)
    m = mask.numpy()
    ret_b = before.rewards.sum(1)  # (episodes, N)
    ret_a = after.rewards.sum(1)
    diff = ret_a[:, m].mean(1) - ret_b[:, m].mean(1)  # per episode (paired)
    ci = bootstrap_ci(diff, seed=seed).iloc[0]
    lo, hi = ci["ci_low"], ci["ci_high"]
    return NashResult(
        agents=ids.tolist(),
        return_before=float(ret_b[:, m].mean()),
        return_after=float(ret_a[:, m].mean()),
        gain=float(diff.mean()),
        gain_ci=(float(lo), float(hi)),
        others_before=float(ret_b[:, ~m].mean()) if (~m).any() else float("nan"),
        others_after=float(ret_a[:, ~m].mean()) if (~m).any() else float("nan"),
        log=log,
        config={"alpha": float(alpha), "num_updates": num_updates, "episodes": episodes,
                "seed": seed, "agents": ids.tolist()},
    )
