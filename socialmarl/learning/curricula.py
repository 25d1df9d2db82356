"""Training curricula as pure functions of training progress in [0, 1].

(The README's "Training populations" describes them.)

* ``p_signal`` decays linearly from ``start`` to its target over the first ``frac`` of
  training;
* percolation moves from an initial survival probability to the game's ``p_perc`` (1.0 by
  default) on a sigmoid schedule;
* at ``alpha = 0`` the signal is annealed away (``p_signal`` to 0) and a small truth-reward
  shaping term (an effective alpha) decays to 0.
"""

from __future__ import annotations

import math

__all__ = ["linear_decay", "sigmoid_rise", "schedule_values"]


def linear_decay(progress: float, start: float, end: float, frac: float) -> float:
    """Linear from ``start`` at progress 0 to ``end`` at progress ``frac``, then ``end``.

    Examples
    --------
    >>> linear_decay(0.25, 1.0, 0.5, 0.5)
    0.75
    >>> linear_decay(0.9, 1.0, 0.5, 0.5)
    0.5
    """
    if frac <= 0:
        return end
    x = min(max(progress / frac, 0.0), 1.0)
    return start + (end - start) * x


def sigmoid_rise(
    progress: float, start: float, midpoint: float = 0.3, steepness: float = 10.0,
    end: float = 1.0,
) -> float:
    """A sigmoid from ``start`` at progress 0 to exactly ``end`` at progress 1.

    Examples
    --------
    >>> sigmoid_rise(0.0, 0.2), sigmoid_rise(1.0, 0.2), sigmoid_rise(1.0, 0.2, end=0.8)
    (0.2, 1.0, 0.8)
    """
    if start == end:
        return end

    def sig(x: float) -> float:
        return 1.0 / (1.0 + math.exp(-steepness * (x - midpoint)))

    lo, hi = sig(0.0), sig(1.0)
    x = (sig(min(max(progress, 0.0), 1.0)) - lo) / (hi - lo)
    return start + (end - start) * x


def schedule_values(cfg, progress: float, alpha: float) -> dict[str, float]:
    """Curriculum values for one population at ``progress``.

    Parameters
    ----------
    cfg : TrainConfig
        Reads ``game.p_signal`` and ``game.p_perc`` (the targets), ``p_signal_start``,
        ``p_signal_decay_frac``, ``perc_start`` (None: no percolation curriculum),
        ``perc_midpoint``, ``perc_steepness``, ``alpha0_signal_anneal_frac``,
        ``alpha0_shaping`` and ``alpha0_shaping_frac``.
    progress : float
        Fraction of training done.
    alpha : float
        The population's alpha.

    Returns
    -------
    dict
        ``p_signal``, ``p_perc`` and ``alpha`` (the effective alpha fed to the game).
    """
    p_signal = linear_decay(progress, cfg.p_signal_start, cfg.game.p_signal,
                            cfg.p_signal_decay_frac)
    eff_alpha = alpha
    if alpha == 0.0:
        if cfg.alpha0_signal_anneal_frac > 0:
            frac = cfg.alpha0_signal_anneal_frac
            p_signal = linear_decay(progress, cfg.p_signal_start, 0.0, frac)
        eff_alpha = linear_decay(progress, cfg.alpha0_shaping, 0.0, cfg.alpha0_shaping_frac)
    p_perc = cfg.game.p_perc
    if cfg.perc_start is not None:
        p_perc = sigmoid_rise(progress, cfg.perc_start, cfg.perc_midpoint, cfg.perc_steepness,
                              end=p_perc)
    return {"p_signal": p_signal, "p_perc": p_perc, "alpha": eff_alpha}
