"""PPO building blocks: generalised advantage estimation and the clipped losses.

Kept apart from the training loop so each piece can be tested against a hand computation.
"""

from __future__ import annotations

import torch

__all__ = ["compute_gae", "ppo_losses"]


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    last_value: torch.Tensor,
    gamma: float,
    lam: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimates over a rollout of ``T`` steps.

    Parameters
    ----------
    rewards, values : Tensor, shape (T, ...)
        Reward received after, and value estimated before, each step.
    dones : Tensor of bool, shape (T, ...) broadcastable to ``rewards``
        True where the episode ended with that step (no bootstrap across it).
    last_value : Tensor, shape (...)
        Value of the state after the last step (ignored where that step ended an episode).
    gamma, lam : float
        Discount and GAE lambda.

    Returns
    -------
    advantages, returns : Tensor, shape (T, ...)

    Examples
    --------
    >>> import torch
    >>> adv, ret = compute_gae(torch.tensor([1.0, 1.0]), torch.tensor([0.5, 0.5]),
    ...                        torch.tensor([False, True]), torch.tensor(0.0), 1.0, 1.0)
    >>> adv.tolist(), ret.tolist()
    ([1.5, 0.5], [2.0, 1.0])
    """
    steps = rewards.shape[0]
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[0])
    next_value = last_value.expand_as(rewards[0])
    for t in reversed(range(steps)):
        alive = (~dones[t]).to(rewards.dtype)
        while alive.dim() < rewards[t].dim():
            alive = alive.unsqueeze(-1)
        delta = rewards[t] + gamma * next_value * alive - values[t]
        running = delta + gamma * lam * alive * running
        adv[t] = running
        next_value = values[t]
    return adv, adv + values


def ppo_losses(
    new_logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    new_value: torch.Tensor,
    old_value: torch.Tensor,
    returns: torch.Tensor,
    clip: float,
    clip_value: bool = True,
    *,
    per: int | None = None,
) -> dict[str, torch.Tensor]:
    """Clipped surrogate policy loss and (clipped) value loss, averaged over all entries.

    Returns ``policy``, ``value``, ``approx_kl`` and ``clipfrac``: scalars, or with
    ``per=d`` one value per index of dimension ``d`` (the mean over every other dimension;
    the trainer's populations).

    Examples
    --------
    >>> import torch
    >>> out = ppo_losses(torch.zeros(3), torch.zeros(3), torch.ones(3), torch.zeros(3),
    ...                  torch.zeros(3), torch.ones(3), 0.2)
    >>> round(float(out["policy"]), 3), round(float(out["value"]), 3)
    (-1.0, 0.5)
    """
    def mean(x: torch.Tensor) -> torch.Tensor:
        if per is None:
            return x.mean()
        return x.movedim(per, 0).reshape(x.shape[per], -1).mean(1)

    log_ratio = new_logp - old_logp
    ratio = log_ratio.exp()
    pg1 = -advantages * ratio
    pg2 = -advantages * ratio.clamp(1.0 - clip, 1.0 + clip)
    policy = mean(torch.maximum(pg1, pg2))
    if clip_value:
        v_clipped = old_value + (new_value - old_value).clamp(-clip, clip)
        v_loss = torch.maximum((new_value - returns) ** 2, (v_clipped - returns) ** 2)
        value = 0.5 * mean(v_loss)
    else:
        value = 0.5 * mean((new_value - returns) ** 2)
    with torch.no_grad():
        approx_kl = mean((ratio - 1.0) - log_ratio)
        clipfrac = mean(((ratio - 1.0).abs() > clip).to(ratio.dtype))
    return {"policy": policy, "value": value, "approx_kl": approx_kl, "clipfrac": clipfrac}
