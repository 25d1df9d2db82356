"""Choosing actions from a policy's output.

Defined once here and used by the trainer's rollouts, evaluation and the teaching widgets:
:func:`sample_actions` draws from ``softmax(logits)`` by the Gumbel-max trick with an
explicit generator, so a seeded run draws the same actions on every call path (uniform
noise is clamped at 1e-20 so ``log(-log(u))`` stays finite).

Several populations batched together (the game's ``streams``) pass one generator per
population: the rows of ``logits`` form equal consecutive groups, and group ``p`` draws its
noise from generator ``p`` exactly as if it were sampled alone.

Telling when a stated guess is a lie is a measure: :func:`socialmarl.game.measures.lies`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

__all__ = ["sample_actions"]


def sample_actions(
    logits: torch.Tensor,
    generator: torch.Generator | Sequence[torch.Generator],
    *,
    greedy: bool = False,
) -> torch.Tensor:
    """One action per row of ``logits`` (..., A): a sample, or the most likely with ``greedy``.

    Parameters
    ----------
    logits : Tensor, shape (B, ..., A)
        Unnormalised log-probabilities over the ``A`` actions.
    generator : torch.Generator or sequence of P torch.Generator
        Source of the Gumbel noise. With ``P`` generators, ``B`` must be a multiple of
        ``P``: rows ``[p * B / P, (p + 1) * B / P)`` of dim 0 draw their noise from
        generator ``p``, with exactly the result of sampling that group alone with it.
    greedy : bool
        Take the argmax; the generators are not used.

    Returns
    -------
    Tensor of int64, shape (B, ...)

    Examples
    --------
    >>> import torch
    >>> gen = torch.Generator().manual_seed(0)
    >>> sample_actions(torch.tensor([[0.0, 50.0, 0.0]]), gen).tolist()
    [1]
    >>> sample_actions(torch.tensor([[2.0, 1.0]]), gen, greedy=True).tolist()
    [0]

    Two populations of two rows each, one generator each:

    >>> logits = torch.zeros(4, 3)
    >>> gens = [torch.Generator().manual_seed(s) for s in (1, 2)]
    >>> both = sample_actions(logits, gens)
    >>> alone = sample_actions(logits[2:], torch.Generator().manual_seed(2))
    >>> torch.equal(both[2:], alone)
    True
    """
    gens = None
    if not isinstance(generator, torch.Generator):
        gens = list(generator)
        if not gens or not all(isinstance(g, torch.Generator) for g in gens):
            raise TypeError(
                "generator must be a torch.Generator or a non-empty sequence of them "
                f"(one per population), got {generator!r:.80}"
            )
        if logits.dim() < 2 or logits.shape[0] % len(gens):
            raise ValueError(
                f"logits of shape {tuple(logits.shape)} do not split into {len(gens)} equal "
                "groups along dim 0 (one per generator)"
            )
    if greedy:
        return logits.argmax(-1)
    if gens is None:
        u = torch.rand(logits.shape, generator=generator, device=logits.device)
    else:
        group = (logits.shape[0] // len(gens), *logits.shape[1:])
        u = torch.cat([torch.rand(group, generator=g, device=logits.device) for g in gens])
    return torch.argmax(logits - torch.log(-torch.log(u.clamp_min(1e-20))), -1)
