"""Fitting the camp interaction process to observed daily interactions.

:mod:`socialmarl.networks.dynamic` is the process: each undirected pair is a two-state
continuous-time chain with stationary probability ``q`` of interacting and total
switching rate ``r``. This module estimates ``q`` per pair and one shared ``r`` from an
observed on/off series (:func:`estimate_markov_interaction`, giving a :class:`MarkovFit`),
for example the BaYaka daily co-foraging series of
:func:`~socialmarl.networks.loaders.camps.load_bayaka_daily`.

Conventions: the series is ``(T, P)`` (observations x pairs), 0/1 or bool; an optional
``(T, P)`` mask says which pairs were observed at each row, and ``days`` the (strictly
increasing) time of each row, so that ``r`` is per time unit of ``days`` (per row when it
is omitted). After a lag of ``k`` units ``P(on | off) = q (1 - e^-rk)`` and
``P(on | on) = q + (1 - q) e^-rk``; ``k = 1`` gives the per-step probabilities of the game.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["MarkovFit", "estimate_markov_interaction"]


@dataclass
class MarkovFit:
    """Fitted parameters of the two-state interaction process.

    Attributes
    ----------
    q : Tensor
        ``(P,)`` float64 stationary interaction probability per pair (NaN where a pair was
        never observed).
    r : float
        Switching rate per time unit of ``days`` (per step when ``days`` is omitted).
    q_stderr : Tensor
        ``(P,)`` asymptotic standard errors of ``q`` (observed information, accounting for
        the uncertainty in ``r``); NaN on the boundary (``q`` = 0 or 1), for unobserved
        pairs and for ``method="moments"``.
    r_stderr : float
        Asymptotic standard error of ``r`` from the profile likelihood curvature (NaN for
        ``method="moments"`` or at a bound).
    loglik : float
        Log-likelihood at the estimate.
    num_transitions : int
        Number of transitions between consecutive observations used.
    method : str
        ``"mle"`` or ``"moments"``.
    at_bound : bool
        ``r`` ended at an end of ``r_bounds`` (the data cannot pin it down).
    """

    q: torch.Tensor
    r: float
    q_stderr: torch.Tensor
    r_stderr: float
    loglik: float
    num_transitions: int
    method: str
    at_bound: bool


def _as_numpy(x: Any) -> np.ndarray:
    return x.detach().cpu().numpy() if torch.is_tensor(x) else np.asarray(x)


def _markov_data(active: Any, observed: Any, days: Any) -> dict[str, Any]:
    """Compress an observed series into counts per (pair, previous, next, lag)."""
    act = _as_numpy(active)
    if act.ndim != 2:
        raise ValueError(
            f"active has shape {tuple(act.shape)}; it must be (T, P): time steps x pairs"
        )
    if act.dtype != bool:
        if not ((act == 0) | (act == 1)).all():
            raise ValueError("active must hold 0/1 or booleans (interacting or not)")
        act = act != 0
    t_len, n_pairs = act.shape
    if observed is None:
        obs = np.ones_like(act)
    else:
        obs = _as_numpy(observed)
        if obs.shape != act.shape:
            raise ValueError(
                f"observed has shape {tuple(obs.shape)} but active has {tuple(act.shape)}"
            )
        obs = obs != 0
    if (act & ~obs).any():
        t, k = (int(x) for x in np.argwhere(act & ~obs)[0])
        raise ValueError(
            f"active is set at step {t}, pair {k} where observed is False; an interaction "
            "can only be seen when the pair is observed"
        )
    if days is None:
        tt = np.arange(t_len, dtype=np.float64)
    else:
        tt = _as_numpy(days).astype(np.float64).reshape(-1)
        if tt.size != t_len:
            raise ValueError(f"days has {tt.size} entries for {t_len} time steps")
        if t_len > 1 and (np.diff(tt) <= 0).any():
            raise ValueError("days must be strictly increasing (one row per observed day)")
    steps = np.broadcast_to(np.arange(t_len)[:, None], (t_len, n_pairs))
    last = np.maximum.accumulate(np.where(obs, steps, -1), axis=0)
    prev_idx = np.concatenate([np.full((1, n_pairs), -1), last[:-1]])
    is_tr = obs & (prev_idx >= 0)
    is_start = obs & (prev_idx < 0)
    t_i, p_i = np.nonzero(is_tr)
    pv = prev_idx[t_i, p_i]
    prev_s = act[pv, p_i].astype(np.int64)
    next_s = act[t_i, p_i].astype(np.int64)
    lag_u, lag_inv = np.unique(tt[t_i] - tt[pv], return_inverse=True)
    nl = max(lag_u.size, 1)
    key = ((p_i * 2 + prev_s) * 2 + next_s) * nl + lag_inv.reshape(-1)
    ukey, cnt = np.unique(key, return_counts=True)
    return {
        "pair": ukey // (4 * nl),
        "prev": ((ukey // (2 * nl)) % 2).astype(np.float64),
        "next": ((ukey // nl) % 2).astype(np.float64),
        "lag": lag_u[ukey % nl] if lag_u.size else np.zeros(0),
        "count": cnt.astype(np.float64),
        "start_on": (is_start & act).sum(0).astype(np.float64),
        "start_off": (is_start & ~act).sum(0).astype(np.float64),
        "n_obs": obs.sum(0).astype(np.float64),
        "n_on": act.sum(0).astype(np.float64),
        "num_pairs": n_pairs,
        "num_transitions": int(is_tr.sum()),
    }


def _prob_next_on(d: dict[str, Any], q: np.ndarray, r: float) -> tuple:
    lam = np.exp(-r * d["lag"])
    qi = q[d["pair"]]
    return lam, qi, qi * (1.0 - lam) + d["prev"] * lam


def _pair_sum(d: dict[str, Any], vals: np.ndarray) -> np.ndarray:
    return np.bincount(d["pair"], weights=vals, minlength=d["num_pairs"])


def _q_given_r(d: dict[str, Any], r: float, start: bool, iters: int = 50) -> np.ndarray:
    """Maximise the (concave) log-likelihood in each q for fixed r, by vectorised bisection."""
    lo = np.zeros(d["num_pairs"])
    hi = np.ones(d["num_pairs"])
    on = d["next"] > 0.5
    lam = np.exp(-r * d["lag"])
    base = d["prev"] * lam
    slope = 1.0 - lam
    c = d["count"] * slope
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        p = mid[d["pair"]] * slope + base
        g = _pair_sum(d, c * np.where(on, 1.0 / p, -1.0 / (1.0 - p)))
        if start:
            g = g + d["start_on"] / mid - d["start_off"] / (1.0 - mid)
        up = g > 0
        lo = np.where(up, mid, lo)
        hi = np.where(up, hi, mid)
    q = 0.5 * (lo + hi)
    q[q < 1e-12] = 0.0
    q[q > 1.0 - 1e-12] = 1.0
    return q


def _loglik(d: dict[str, Any], q: np.ndarray, r: float, start: bool) -> float:
    _, _, p = _prob_next_on(d, q, r)
    on = d["next"] > 0.5
    with np.errstate(divide="ignore"):
        ll = float((d["count"] * np.log(np.maximum(np.where(on, p, 1.0 - p), 1e-300))).sum())
        if start:
            ll += float((d["start_on"] * np.log(np.maximum(q, 1e-300))).sum())
            ll += float((d["start_off"] * np.log(np.maximum(1.0 - q, 1e-300))).sum())
    return ll


def _hessian(
    d: dict[str, Any], q: np.ndarray, r: float, start: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-pair second derivatives (h_qq, h_qr, h_rr) of the log-likelihood."""
    lam, qi, p = _prob_next_on(d, q, r)
    on = d["next"] > 0.5
    c = d["count"]
    with np.errstate(divide="ignore", invalid="ignore"):
        l1 = np.where(on, 1.0 / p, -1.0 / (1.0 - p))
        l2 = np.where(on, -1.0 / p**2, -1.0 / (1.0 - p) ** 2)
    dlam = -d["lag"] * lam
    p_q, p_r = 1.0 - lam, (d["prev"] - qi) * dlam
    p_qr, p_rr = -dlam, (d["prev"] - qi) * d["lag"] ** 2 * lam
    # terms are finite wherever the observed outcome has positive probability
    h_qq = _pair_sum(d, np.nan_to_num(c * l2 * p_q**2))
    h_qr = _pair_sum(d, np.nan_to_num(c * (l2 * p_q * p_r + l1 * p_qr)))
    h_rr = _pair_sum(d, np.nan_to_num(c * (l2 * p_r**2 + l1 * p_rr)))
    if start:
        on0, off0 = d["start_on"], d["start_off"]
        zero = np.zeros_like(q)
        h_qq = h_qq - np.divide(on0, q**2, out=zero.copy(), where=on0 > 0)
        h_qq = h_qq - np.divide(off0, (1.0 - q) ** 2, out=zero.copy(), where=off0 > 0)
    return h_qq, h_qr, h_rr


def estimate_markov_interaction(
    active: Any,
    observed: Any = None,
    *,
    days: Any = None,
    method: str = "mle",
    r_bounds: tuple[float, float] = (1e-3, 20.0),
    stationary_start: bool = True,
) -> MarkovFit:
    """Estimate ``q`` per pair and a shared switching rate ``r`` from an on/off series.

    The model is the process of :mod:`socialmarl.networks.dynamic`: each pair is a
    two-state continuous-time chain with stationary probability ``q`` and total switching
    rate ``r``, so that after a lag of ``k`` time units ``P(on | off) = q (1 - e^-rk)`` and
    ``P(on | on) = q + (1 - q) e^-rk`` (``k = 1``: the per-step probabilities of the game).
    The observed indicator is taken as the chain's state at each observation; gaps between
    observations of a pair (unobserved days) enter exactly through ``k``. Hidden excursions
    within a step (which the game counts as active) are not modelled.

    ``method="mle"`` maximises the likelihood of all transitions (and, with
    ``stationary_start``, of each pair's first observation under the stationary law):
    for fixed ``r`` each ``q`` is found by bisection of its concave score, and ``r`` by a
    bounded search over the profile likelihood; standard errors come from the observed
    information. ``method="moments"`` takes ``q`` as the fraction of observations on and
    ``e^-r`` as the regression slope of ``(next - q)`` on ``(previous - q)`` over lag-1
    transitions (no standard errors).

    Parameters
    ----------
    active : array-like, shape (T, P)
        0/1 or bool: pair ``p`` interacting at observation ``t``.
    observed : array-like, shape (T, P), optional
        Whether pair ``p`` was observed at ``t`` (default: always).
    days : array-like, shape (T,), optional
        Strictly increasing times of the rows (default ``0..T-1``); ``r`` is per unit.
    method : {"mle", "moments"}
        Estimator.
    r_bounds : (float, float)
        Search interval for ``r``.
    stationary_start : bool
        Include each pair's first observation as a draw from the stationary law.

    Returns
    -------
    MarkovFit

    Examples
    --------
    >>> import torch, socialmarl as sm
    >>> from socialmarl.networks.dynamic import MarkovInteraction
    >>> g = sm.complete_graph(30)
    >>> proc = MarkovInteraction(g, torch.full((g.num_edges,), 0.3), r=0.5)
    >>> gen = torch.Generator().manual_seed(0)
    >>> s = proc.initial_state(1, gen)
    >>> series = []
    >>> for _ in range(200):
    ...     s, _ = proc.step(s, gen)
    ...     series.append(s[0])
    >>> fit = estimate_markov_interaction(torch.stack(series))
    >>> abs(fit.r - 0.5) < 4 * fit.r_stderr, abs(float(fit.q.mean()) - 0.3) < 0.02
    (True, True)
    """
    if method not in ("mle", "moments"):
        raise ValueError(f"method={method!r}; use 'mle' or 'moments'")
    r_lo, r_hi = (float(x) for x in r_bounds)
    if not (0 < r_lo < r_hi < math.inf):
        raise ValueError(f"r_bounds={r_bounds!r}; give 0 < low < high < inf")
    d = _markov_data(active, observed, days)
    n_tr = d["num_transitions"]
    if n_tr == 0:
        raise ValueError(
            "no pair was observed at two different times; r cannot be estimated without "
            "transitions"
        )
    unobserved = d["n_obs"] == 0
    nan = np.full(d["num_pairs"], math.nan)

    def out(q: np.ndarray, q_se: np.ndarray, r: float, r_se: float, at_bound: bool) -> MarkovFit:
        ll = _loglik(d, q, r, stationary_start)
        q = np.where(unobserved, math.nan, q)
        return MarkovFit(
            torch.as_tensor(q), r, torch.as_tensor(q_se), r_se, ll, n_tr, method, at_bound
        )

    if method == "moments":
        q = np.where(unobserved, 0.0, d["n_on"] / np.maximum(d["n_obs"], 1))
        one = d["lag"] == 1
        if not one.any():
            raise ValueError("method='moments' needs transitions one time unit apart")
        qi = q[d["pair"]][one]
        c, pv, nx_ = d["count"][one], d["prev"][one], d["next"][one]
        den = float((c * (pv - qi) ** 2).sum())
        lam = float((c * (pv - qi) * (nx_ - qi)).sum()) / den if den > 0 else 0.0
        r = -math.log(lam) if lam > 0 else math.inf
        r = min(max(r, r_lo), r_hi)
        return out(q, nan, r, math.nan, r in (r_lo, r_hi))
    from scipy.optimize import minimize_scalar

    def neg_profile(log_r: float) -> float:
        r_ = math.exp(log_r)
        return -_loglik(d, _q_given_r(d, r_, stationary_start), r_, stationary_start)

    res = minimize_scalar(
        neg_profile, bounds=(math.log(r_lo), math.log(r_hi)), method="bounded",
        options={"xatol": 1e-7},
    )
    log_r = float(res.x)
    r = math.exp(log_r)
    at_bound = min(abs(log_r - math.log(r_lo)), abs(log_r - math.log(r_hi))) < 1e-4
    if at_bound:
        warnings.warn(
            f"the switching rate r ended at the bound {r:.4g} of r_bounds={r_bounds}; the "
            "data do not pin it down (widen r_bounds, or the series may be memoryless)",
            stacklevel=2,
        )
    q = _q_given_r(d, r, stationary_start)
    h_qq, h_qr, h_rr = _hessian(d, q, r, stationary_start)
    interior = (q > 0) & (q < 1) & ~unobserved & (h_qq < 0)
    schur = h_rr.sum() - (h_qr[interior] ** 2 / h_qq[interior]).sum()
    var_r = float(-1.0 / schur) if schur < 0 and not at_bound else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        var_q = -1.0 / h_qq + (h_qr / h_qq) ** 2 * (var_r if math.isfinite(var_r) else 0.0)
    q_se = np.where(interior, np.sqrt(np.maximum(var_q, 0.0)), math.nan)
    return out(q, q_se, r, math.sqrt(var_r), at_bound)
