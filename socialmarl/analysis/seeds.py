"""Seed-level statistics of a sweep: means over training seeds and bootstrap intervals.

A sweep's tidy table has one row per ``(network, alpha, seed, metric)``: ``value`` is one
trained population's mean over its evaluation episodes and ``ci_low, ci_high`` that one
population's episode-bootstrap interval. The unit of replication for claims about
conformity is the *training seed*: two populations trained with different seeds differ by
more than episode noise. This module reduces the table over seeds.

Conventions chosen here:

* **Cell.** A cell is one ``(network, kind, alpha, metric)`` (plus any setting columns named
  in ``by``). Its value is the mean over its seeds (seeds weigh equally; a seed whose value
  is NaN is left out). Rows of other setting columns are pooled as if they were seeds unless
  those columns are named in ``by``; a warning says so when they vary within a cell.
* **Seed bootstrap.** The interval is the percentile bootstrap of the mean over seeds: draw
  ``S`` seeds with replacement, ``n_boot`` times, from ``numpy.random.default_rng(seed)``
  (a fresh generator per cell, seeds sorted by their id first), and take the central
  ``ci`` quantiles of the replicate means (:func:`seed_bootstrap`). With few seeds the
  interval is optimistic (no small-sample correction; the bootstrap variance of a mean is
  ``(S - 1)/S`` of the usual one and normal, not t, quantiles result): for the difference
  of two cells with no true difference, a 95% interval excludes 0 in about 21% of sweeps
  with 3 seeds per cell, 12% with 5 and 7.5% with 10 (simulated, normal seed values).
* **One seed.** A cell with one seed falls back to that population's episode interval
  (``ci_low, ci_high`` of its row); ``n_seeds`` is 1 and ``interval`` says
  ``"episodes (one seed)"``. Without an episode interval there is none (``"none"``).
* **Contrasts** (:func:`contrast`, :func:`alpha_contrast`, :func:`difference_in_differences`)
  are weighted sums of cell means. Unpaired (the default), each cell's seeds are resampled
  independently, in the order of the terms, from one generator. Paired, the cells must hold
  the same seed ids, which are resampled jointly (for sweeps whose seed ``s`` shares its
  initialisation across alphas). A one-seed cell enters the unpaired bootstrap as a normal
  draw with the standard error read off its episode interval (taken as a 95% interval), and
  the contrast's ``interval`` then says ``"seeds and episodes"`` (or ``"episodes (one
  seed)"`` when every cell has one seed).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "KNOWN_COLUMNS",
    "Contrast",
    "seed_bootstrap",
    "seed_summary",
    "contrast",
    "alpha_contrast",
    "difference_in_differences",
]

#: columns of a sweep's tidy table that are not settings to group by
KNOWN_COLUMNS = frozenset({"network", "kind", "alpha", "seed", "metric", "value", "ci_low",
                           "ci_high", "n", "job", "run_dir", "n_seeds"})
_REQUIRED = ("network", "alpha", "seed", "metric", "value")
_EPISODE_LEVEL = 0.95  # the level assumed of a population's episode interval


def _percentiles(reps: np.ndarray, ci: float) -> tuple[float, float]:
    good = reps[~np.isnan(reps)]
    if good.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(good, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return float(lo), float(hi)


def _check_args(n_boot: int, ci: float) -> None:
    if not (0.0 < float(ci) < 1.0):
        raise ValueError(f"ci={ci!r}; the confidence level must lie in (0, 1)")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot={n_boot!r}; use at least 1 replicate (2000 is typical)")


def seed_bootstrap(
    values: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int | None = 0,
) -> tuple[float, float, float]:
    """Mean of per-seed values and its percentile bootstrap interval over seeds.

    Parameters
    ----------
    values : sequence of float
        One value per training seed, in a fixed order (NaN entries are dropped).
    n_boot : int
        Bootstrap replicates.
    ci : float
        Confidence level in (0, 1).
    seed : int, optional
        Seed of ``numpy.random.default_rng``; replicate ``r`` averages
        ``values[rng.integers(0, S, size=(n_boot, S))[r]]``.

    Returns
    -------
    tuple of float
        ``(mean, ci_low, ci_high)``; NaN interval with fewer than two values.

    Examples
    --------
    >>> round(seed_bootstrap([0.2, 0.4, 0.6], n_boot=500)[0], 6)
    0.4
    >>> lo, hi = seed_bootstrap([0.2, 0.4, 0.6], n_boot=500)[1:]
    >>> 0.2 <= lo < 0.4 < hi <= 0.6
    True
    """
    _check_args(n_boot, ci)
    v = np.asarray(values, dtype=float).reshape(-1)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if v.size < 2:
        return mean, math.nan, math.nan
    reps = _resample(v, int(n_boot), np.random.default_rng(seed))
    lo, hi = _percentiles(reps, ci)
    return mean, lo, hi


def _resample(v: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    idx = rng.integers(0, v.size, size=(n_boot, v.size))
    return v[idx].mean(1)


def _prepare(table: pd.DataFrame) -> pd.DataFrame:
    """Check the sweep table and fill optional columns (``kind``, ``ci_low``...)."""
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    missing = [c for c in _REQUIRED if c not in table.columns]
    if missing:
        raise ValueError(
            f"the sweep table lacks column(s) {missing}; it needs one row per (network, alpha, "
            f"seed, metric) with columns {list(_REQUIRED)}; it has {list(table.columns)}"
        )
    t = table.copy()
    if "kind" not in t.columns:
        # a dynamic camp is named so by the sweeps; everything else is a static network
        t["kind"] = np.where(t["network"].astype(str).str.contains("camp"), "camp", "social")
    for c in ("ci_low", "ci_high", "n"):
        if c not in t.columns:
            t[c] = np.nan
    t["network"] = t["network"].astype(str)
    t["kind"] = t["kind"].astype(str)
    t["metric"] = t["metric"].astype(str)
    t["alpha"] = t["alpha"].astype(float)
    t["value"] = t["value"].astype(float)
    return t


def _warn_pooled(t: pd.DataFrame, keys: list[str]) -> None:
    extra = [c for c in t.columns if c not in KNOWN_COLUMNS and c not in keys]
    varying = [c for c in extra if (t.groupby(keys, dropna=False)[c].nunique(dropna=False) > 1)
               .any()]
    dup = t.duplicated(keys + ["seed"]).any()
    if varying or dup:
        warnings.warn(
            "rows of different settings are pooled as seeds of one cell"
            + (f" (columns {varying} vary within a cell)" if varying else "")
            + (" and some cells hold a seed twice" if dup else "")
            + "; name the setting columns in by=... or filter the table first",
            UserWarning, stacklevel=3,
        )


def seed_summary(
    table: pd.DataFrame,
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int | None = 0,
    by: Sequence[str] = (),
) -> pd.DataFrame:
    """One row per (network, kind, alpha, metric): mean over seeds and a seed-level interval.

    Parameters
    ----------
    table : DataFrame
        The sweep's tidy table: ``network, alpha, seed, metric, value`` and usually ``kind,
        ci_low, ci_high, n``; other columns are ignored unless named in ``by``. A missing
        ``kind`` is ``"camp"`` for networks whose name contains "camp", else ``"social"``.
    n_boot, ci, seed
        Bootstrap replicates, confidence level and generator seed (module docstring).
    by : sequence of str
        Further setting columns to keep apart (e.g. ``("lr",)``).

    Returns
    -------
    pandas.DataFrame
        Columns ``network, kind, *by, alpha, conformity, metric, value, ci_low, ci_high,
        n_seeds, n, seed_sd, interval``: ``value`` the mean over seeds, the interval the
        seed bootstrap (``interval == "seeds"``) or, with one seed, that population's episode
        interval (``"episodes (one seed)"``); ``n`` sums the episodes, ``seed_sd`` is the
        standard deviation of the seed values (ddof 1). Rows keep the networks' order of
        first appearance, then alpha and metric.

    Examples
    --------
    >>> t = pd.DataFrame({"network": "ring", "kind": "social", "alpha": 0.5,
    ...                   "seed": [0, 1, 2], "metric": "accuracy_final",
    ...                   "value": [0.6, 0.7, 0.8], "ci_low": 0.5, "ci_high": 0.9, "n": 10})
    >>> s = seed_summary(t, n_boot=500)
    >>> s[["value", "n_seeds", "n", "interval"]].round(3).values.tolist()
    [[0.7, 3, 30.0, 'seeds']]
    >>> s1 = seed_summary(t[t.seed == 0])
    >>> s1[["value", "ci_low", "ci_high", "interval"]].values.tolist()
    [[0.6, 0.5, 0.9, 'episodes (one seed)']]
    """
    _check_args(n_boot, ci)
    t = _prepare(table)
    by = list(by)
    bad = [c for c in by if c not in t.columns]
    if bad:
        raise ValueError(f"by names column(s) {bad} not in the table")
    keys = ["network", "kind", *by, "alpha", "metric"]
    _warn_pooled(t, keys)
    order = {n: k for k, n in enumerate(dict.fromkeys(t["network"]))}
    rows = []
    for key, d in t.groupby(keys, sort=False, dropna=False):
        d = d[~d["value"].isna()].sort_values("seed", kind="stable")
        v = d["value"].to_numpy(dtype=float)
        row = dict(zip(keys, key))
        s = int(v.size)
        if s >= 2:
            mean, lo, hi = seed_bootstrap(v, n_boot=n_boot, ci=ci, seed=seed)
            kind = "seeds"
        elif s == 1:
            mean = float(v[0])
            lo, hi = float(d["ci_low"].iloc[0]), float(d["ci_high"].iloc[0])
            kind = "episodes (one seed)" if not (math.isnan(lo) or math.isnan(hi)) else "none"
        else:
            mean, lo, hi, kind = math.nan, math.nan, math.nan, "none"
        row.update(value=mean, ci_low=lo, ci_high=hi, n_seeds=s,
                   n=float(d["n"].sum(min_count=1)) if s else math.nan,
                   seed_sd=float(v.std(ddof=1)) if s >= 2 else math.nan, interval=kind)
        rows.append(row)
    cols = keys + ["value", "ci_low", "ci_high", "n_seeds", "n", "seed_sd", "interval"]
    out = pd.DataFrame(rows, columns=cols)
    out.insert(keys.index("alpha") + 1, "conformity", 1.0 - out["alpha"])
    out["_o"] = out["network"].map(order)
    out = out.sort_values(["_o", *by, "alpha", "metric"], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)


@dataclass(frozen=True)
class Contrast:
    """A weighted sum of cell means with its seed-level bootstrap interval.

    Attributes
    ----------
    estimate, ci_low, ci_high : float
        The contrast and its percentile interval (NaN when a cell has no uncertainty).
    metric : str
    terms : tuple of (weight, network, alpha)
    n_seeds : tuple of int
        Seeds per term.
    interval : str
        ``"seeds"``, ``"seeds and episodes"`` (some cell has one seed), ``"episodes (one
        seed)"`` or ``"none"``.
    paired : bool
    cells : tuple of float
        The cell means, per term.
    """

    estimate: float
    ci_low: float
    ci_high: float
    metric: str
    terms: tuple[tuple[float, str, float], ...]
    n_seeds: tuple[int, ...]
    interval: str
    paired: bool = False
    cells: tuple[float, ...] = field(default=())

    @property
    def side(self) -> int:
        """+1 when the interval lies wholly above 0, -1 wholly below, else 0."""
        if math.isnan(self.ci_low) or math.isnan(self.ci_high):
            return 0
        return 1 if self.ci_low > 0 else (-1 if self.ci_high < 0 else 0)

    def text(self, digits: int = 3) -> str:
        """``"+0.123 [0.045, 0.201]"``.

        Examples
        --------
        >>> Contrast(0.1, 0.05, 0.2, "m", (), (), "seeds").text()
        '+0.100 [+0.050, +0.200]'
        """
        f = f"{{:+.{digits}f}}"
        return f"{f.format(self.estimate)} [{f.format(self.ci_low)}, {f.format(self.ci_high)}]"


def _cell(t: pd.DataFrame, metric: str, network: str, alpha: float) -> pd.DataFrame:
    d = t[(t["metric"] == metric) & (t["network"] == str(network))
          & np.isclose(t["alpha"], float(alpha))]
    d = d[~d["value"].isna()].sort_values("seed", kind="stable")
    if d.empty:
        raise ValueError(f"no {metric} value for network {network!r} at alpha={alpha:g}")
    if d["seed"].duplicated().any():
        warnings.warn(f"network {network!r}, alpha={alpha:g}, {metric}: a seed appears twice "
                      "(several settings pooled); filter the table to one setting first",
                      UserWarning, stacklevel=3)
    return d


def contrast(
    table: pd.DataFrame,
    metric: str,
    terms: Sequence[tuple[float, str, float]],
    *,
    paired: bool = False,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int | None = 0,
) -> Contrast:
    """A weighted sum of cell means ``sum_k w_k * mean(network_k, alpha_k)`` over seeds.

    Parameters
    ----------
    table : DataFrame
        The sweep's tidy table (see :func:`seed_summary`).
    metric : str
    terms : sequence of (weight, network, alpha)
    paired : bool
        Resample the (common) seed ids of all cells jointly; default: each cell on its own.
    n_boot, ci, seed
        See the module docstring.

    Returns
    -------
    Contrast

    Examples
    --------
    >>> t = pd.DataFrame({"network": "ring", "alpha": [0.0] * 3 + [1.0] * 3,
    ...                   "seed": [0, 1, 2] * 2, "metric": "accuracy_final",
    ...                   "value": [0.5, 0.6, 0.55, 0.9, 0.95, 0.85]})
    >>> c = contrast(t, "accuracy_final", [(1, "ring", 1.0), (-1, "ring", 0.0)], n_boot=500)
    >>> round(c.estimate, 3), c.side, c.interval
    (0.35, 1, 'seeds')
    """
    _check_args(n_boot, ci)
    t = _prepare(table)
    if not terms:
        raise ValueError("terms is empty; give (weight, network, alpha) triples")
    cells = [_cell(t, metric, net, a) for _, net, a in terms]
    weights = np.array([float(w) for w, _, _ in terms])
    means = np.array([float(d["value"].mean()) for d in cells])
    sizes = tuple(int(len(d)) for d in cells)
    rng = np.random.default_rng(seed)
    nb = int(n_boot)
    reps = np.zeros(nb)
    if paired:
        ids = [tuple(d["seed"].tolist()) for d in cells]
        if len(set(ids)) != 1 or len(ids[0]) < 2:
            raise ValueError(
                f"a paired contrast needs the same >= 2 seed ids in every cell; got {ids}"
            )
        idx = rng.integers(0, len(ids[0]), size=(nb, len(ids[0])))
        for w, d in zip(weights, cells):
            reps += w * d["value"].to_numpy(dtype=float)[idx].mean(1)
        kind = "seeds"
    else:
        z = NormalDist().inv_cdf(0.5 + _EPISODE_LEVEL / 2)
        for w, d in zip(weights, cells):
            v = d["value"].to_numpy(dtype=float)
            if v.size >= 2:
                reps += w * _resample(v, nb, rng)
            else:
                lo, hi = float(d["ci_low"].iloc[0]), float(d["ci_high"].iloc[0])
                sd = (hi - lo) / (2 * z)  # NaN without an episode interval: no interval
                reps = reps + (w * (v[0] + rng.normal(0.0, sd, nb)) if sd == sd else np.nan)
        ones = sum(s == 1 for s in sizes)
        kind = ("seeds" if ones == 0 else "episodes (one seed)" if ones == len(sizes)
                else "seeds and episodes")
    lo, hi = _percentiles(reps, ci)
    if math.isnan(lo):
        kind = "none"
    return Contrast(
        estimate=float(weights @ means), ci_low=lo, ci_high=hi, metric=str(metric),
        terms=tuple((float(w), str(n), float(a)) for w, n, a in terms), n_seeds=sizes,
        interval=kind, paired=bool(paired), cells=tuple(float(m) for m in means),
    )


def alpha_contrast(
    table: pd.DataFrame,
    metric: str,
    network: str,
    alpha: float,
    baseline_alpha: float,
    **kwargs: Any,
) -> Contrast:
    """``metric`` at ``alpha`` minus at ``baseline_alpha`` on one network, over seeds.

    Keyword arguments go to :func:`contrast` (``paired``, ``n_boot``, ``ci``, ``seed``).

    Examples
    --------
    >>> t = pd.DataFrame({"network": "ring", "alpha": [0.0] * 3 + [1.0] * 3,
    ...                   "seed": [0, 1, 2] * 2, "metric": "lying_rate",
    ...                   "value": [0.3, 0.35, 0.4, 0.0, 0.01, 0.02]})
    >>> c = alpha_contrast(t, "lying_rate", "ring", 0.0, 1.0, n_boot=500)
    >>> round(c.estimate, 3), c.side
    (0.34, 1)
    """
    return contrast(table, metric, [(1.0, network, alpha), (-1.0, network, baseline_alpha)],
                    **kwargs)


def difference_in_differences(
    table: pd.DataFrame,
    metric: str,
    network: str,
    other: str,
    alpha: float,
    baseline_alpha: float,
    **kwargs: Any,
) -> Contrast:
    """``(network: alpha - baseline) - (other: alpha - baseline)``, seeds resampled per cell.

    Keyword arguments go to :func:`contrast`.

    Examples
    --------
    >>> t = pd.DataFrame({"network": ["a"] * 4 + ["b"] * 4, "alpha": [0.0, 0.0, 1.0, 1.0] * 2,
    ...                   "seed": [0, 1] * 4, "metric": "accuracy_final",
    ...                   "value": [0.5, 0.5, 0.9, 0.9, 0.8, 0.8, 0.9, 0.9]})
    >>> round(difference_in_differences(t, "accuracy_final", "a", "b", 1.0, 0.0).estimate, 3)
    0.3
    """
    return contrast(table, metric, [(1.0, network, alpha), (-1.0, network, baseline_alpha),
                                    (-1.0, other, alpha), (1.0, other, baseline_alpha)],
                    **kwargs)
