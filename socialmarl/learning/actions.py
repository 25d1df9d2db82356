"""Choosing actions from a policy's output.

Defined once here and used by the trainer's rollouts, evaluation and the teaching widgets:
:func:`sample_actions` draws from ``softmax(logits)`` by the Gumbel-max trick with an
explicit generator, so a seeded run draws the same actions on every call path (uniform
noise is clamped at 1e-20 so ``log(-log(u))`` stays finite).

Telling when a stated guess is a lie is a measure: :func:`socialmarl.game.measures.lies`.
"""

from __future__ import annotations

import torch

__all__ = ["sample_actions"]


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
