"""Choosing actions from a policy's output, and telling when a stated guess is a lie.

Defined once here and used by the trainer's rollouts, evaluation and the teaching widgets:

* :func:`sample_actions` draws from ``softmax(logits)`` by the Gumbel-max trick with an
  explicit generator, so a seeded run draws the same actions on every call path (uniform
  noise is clamped at 1e-20 so ``log(-log(u))`` stays finite);
* :func:`lies`: agent ``i`` lies when it states a definite guess ``a`` opposite to its own
  belief ``b = P(Psi = 1)``, ``(b - 0.5)(a - 0.5) < 0`` (the README's "Analysis"); both in the
  agent's own frame, where a wait is never a lie and ``b = 0.5`` never is either.
"""

from __future__ import annotations

import torch

from ..game.observation import WAIT

__all__ = ["sample_actions", "lies"]


def sample_actions(
    logits: torch.Tensor, generator: torch.Generator, *, greedy: bool = False
) -> torch.Tensor:
    """One action per row of ``logits`` (..., A): a sample, or the most likely with ``greedy``.

    Examples
    --------
    >>> import torch
    >>> gen = torch.Generator().manual_seed(0)
    >>> sample_actions(torch.tensor([[0.0, 50.0, 0.0]]), gen).tolist()
    [1]
    >>> sample_actions(torch.tensor([[2.0, 1.0]]), gen, greedy=True).tolist()
    [0]
    """
    if greedy:
        return logits.argmax(-1)
    u = torch.rand(logits.shape, generator=generator, device=logits.device)
    return torch.argmax(logits - torch.log(-torch.log(u.clamp_min(1e-20))), -1)


def lies(actions: torch.Tensor, belief: torch.Tensor) -> torch.Tensor:
    """Where a definite guess contradicts the belief, both in the agent's own frame (bool).

    Examples
    --------
    >>> import torch
    >>> lies(torch.tensor([1, 0, 2, 1]), torch.tensor([0.2, 0.2, 0.9, 0.5])).tolist()
    [True, False, False, False]
    """
    return (actions != WAIT) & ((belief - 0.5) * (actions.to(belief.dtype) - 0.5) < 0)
