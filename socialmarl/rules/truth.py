"""A hand-made truth seeker for the consensus game: private evidence mixed with neighbours.

It plays by the game's information structure (the README's "The game"): a hidden truth ``Psi`` in
{0, 1} per replica, a private signal ``x_i = Psi + sigma * eps_i`` fixed for the run (0.5
for an agent without a signal), and the previous guesses of the agents it observes. So a
lecture can run it beside learned agents and score both the same way (accuracy against
``Psi``, agreement across edges).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch

from .base import Rule, RuleContext, _check_nonneg, _check_prob

__all__ = ["TruthSeeking"]


@dataclass(eq=False)
class TruthSeeking(Rule):
    """Signal-weighted local majority: truth seeking mixed with conformity, synchronous.

    Agent ``i`` holds the log-likelihood ratio of its signal,
    ``llr_i = log p(x_i | Psi=1) / p(x_i | Psi=0) = (x_i - 1/2) / sigma^2`` (0 for an agent
    without a signal, who sees 0.5; effectively infinite when ``sigma = 0``). At step 0 it
    states the guess its signal favours (a fair coin when ``llr_i = 0``). At every later
    step all agents update at once from the previous guesses ``g``:

    ``score_i = alpha * llr_i + (1 - alpha) * m_i``, with ``m_i`` the mean of ``2 g_j - 1``
    over its in-neighbours (0 without in-neighbours),

    and guess 1 if ``score_i > 0``, 0 if ``score_i < 0``, else keep the previous guess.
    ``alpha = 1`` always states the signal (a pure truth seeker, like the game's
    ``alpha = 1``); ``alpha = 0`` is the local majority rule (pure conformity).

    Parameters
    ----------
    alpha : float in [0, 1]
        Weight of private evidence against the neighbours' guesses.
    sigma : float >= 0
        Signal noise, as in the game.
    p_signal : float in [0, 1]
        Probability that an agent receives a signal.

    Notes
    -----
    The episode (:meth:`episode`, drawn once per run) is ``truth`` (R,) int64 and
    ``signal`` (R, N) float64, drawn like the game draws them (truth, then the noise, then
    who has a signal); pass your own, for example a game's, as
    ``simulate(..., episode={"truth": ..., "signal": ...})``. Steps draw no random numbers;
    the initial guesses draw one ``coin`` (R, N) for the ties.

    Examples
    --------
    >>> from socialmarl.rules import TruthSeeking, simulate, score_opinions
    >>> from socialmarl.networks.generators import complete_graph
    >>> g = complete_graph(30)
    >>> traj, ep = simulate(TruthSeeking(alpha=0.5), g, 5, replicas=8, seed=0,
    ...                     return_episode=True)
    >>> score_opinions(traj, g, truth=ep["truth"])["accuracy"].shape
    torch.Size([8, 6])
    """

    alpha: float = 0.5
    sigma: float = 1.0
    p_signal: float = 1.0
    name: ClassVar[str] = "truth_seeking"
    binary: ClassVar[bool] = True

    def __post_init__(self) -> None:
        self.alpha = _check_prob("alpha", self.alpha)
        self.sigma = _check_nonneg("sigma", self.sigma)
        self.p_signal = _check_prob("p_signal", self.p_signal)

    def episode(
        self, ctx: RuleContext, replicas: int, generator: torch.Generator
    ) -> dict[str, torch.Tensor]:
        n, dev = ctx.num_nodes, ctx.device
        truth = torch.randint(0, 2, (replicas,), generator=generator, device=dev)
        eps = torch.randn(replicas, n, generator=generator, device=dev, dtype=torch.float64)
        has = torch.rand(replicas, n, generator=generator, device=dev,
                         dtype=torch.float64) < self.p_signal
        tf = truth.to(torch.float64)[:, None]
        signal = torch.where(has, tf + self.sigma * eps, torch.full_like(eps, 0.5))
        return {"truth": truth, "signal": signal}

    def evidence(self, signal: torch.Tensor) -> torch.Tensor:
        """Log-likelihood ratio of ``Psi = 1`` against ``Psi = 0`` for each signal (float64).

        Examples
        --------
        >>> import torch
        >>> TruthSeeking(sigma=2.0).evidence(torch.tensor([0.5, 1.5])).tolist()
        [0.0, 0.25]
        """
        s = torch.as_tensor(signal).to(torch.float64) - 0.5
        if self.sigma > 0:
            return s / self.sigma**2
        return torch.sign(s) * 1e12

    def _signal(self, episode: dict[str, torch.Tensor] | None, x_shape) -> torch.Tensor:
        if not episode or "signal" not in episode:
            raise ValueError(
                "truth seeking needs the private signals: pass episode={'truth': ..., "
                "'signal': ...} or let simulate draw them"
            )
        sig = episode["signal"]
        if tuple(sig.shape) != tuple(x_shape):
            raise ValueError(
                f"episode signal has shape {tuple(sig.shape)}; expected (replicas, N) = "
                f"{tuple(x_shape)}"
            )
        return sig

    def initial(
        self,
        ctx: RuleContext,
        replicas: int,
        generator: torch.Generator,
        dtype: torch.dtype,
        episode: dict[str, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        llr = self.evidence(self._signal(episode, (replicas, ctx.num_nodes)))
        coin = torch.rand(replicas, ctx.num_nodes, generator=generator, device=ctx.device,
                          dtype=torch.float64) < 0.5
        return torch.where(llr > 0, 1, torch.where(llr < 0, 0, coin.long())).to(dtype)

    def step(
        self,
        x: torch.Tensor,
        ctx: RuleContext,
        draws: dict[str, torch.Tensor],
        episode: dict[str, torch.Tensor] | None = None,
        engine: str = "auto",
    ) -> torch.Tensor:
        llr = self.evidence(self._signal(episode, x.shape))
        r, n = x.shape
        vote = torch.zeros(r, n, dtype=torch.float64, device=x.device)
        vote.index_add_(1, ctx.receivers, (2 * x[:, ctx.senders] - 1).to(torch.float64))
        m = vote / ctx.in_degree_f.clamp_min(1.0)
        if self.alpha == 1.0:
            score = llr
        else:
            score = self.alpha * llr + (1.0 - self.alpha) * m
        return torch.where(score > 0, 1, torch.where(score < 0, 0, x)).to(x.dtype)
