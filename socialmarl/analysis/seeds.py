"""Seed-level statistics of a sweep: means over training seeds and their intervals.

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
* **Student-t interval (the default, ``method="t"``).** A cell of ``S >= 2`` seeds gets
  ``mean +- t(S-1, (1+ci)/2) * sd / sqrt(S)`` with ``sd`` the standard deviation of its seed
  values (ddof 1) (:func:`seed_t_interval`). A sweep has few seeds (3 in the quick preset,
  5 in the paper preset) and the t quantile is what keeps the coverage near ``ci`` with so
  few: for the difference of two cells with no true difference and normal seed values, the
  95% t interval (Welch, below) excludes 0 in about 3.5% of sweeps with 3 seeds per cell
  (Welch's df are a little conservative with so few) and 4.5% with 5; paired, in 5%
  (simulated, 400000 tables).
* **Seed bootstrap (``method="bootstrap"``, the former default).** The percentile bootstrap
  of the mean over seeds: draw ``S`` seeds with replacement, ``n_boot`` times, from
  ``numpy.random.default_rng(seed)`` (a fresh generator per cell, seeds sorted by their id
  first), and take the central ``ci`` quantiles of the replicate means
  (:func:`seed_bootstrap`). With few seeds it is far too narrow (no small-sample
  correction; the bootstrap variance of a mean is ``(S - 1)/S`` of the usual one and normal,
  not t, quantiles result): for the null difference of two cells a 95% interval excludes 0
  in about 21% of sweeps with 3 seeds per cell, 11% with 5 and 8% with 10 (27%, 16% and 11%
  paired; simulated, normal seed values, 2000 tables each). Kept so that the old numbers are
  one argument away; ``n_boot`` and ``seed`` only matter to it.
* **One seed.** A cell with one seed falls back to that population's episode interval
  (``ci_low, ci_high`` of its row), whatever the method; ``n_seeds`` is 1 and ``interval``
  says ``"episodes (one seed)"``. Without an episode interval there is none (``"none"``).
* **Contrasts** (:func:`contrast`, :func:`alpha_contrast`, :func:`difference_in_differences`)
  are weighted sums ``sum_k c_k * mean_k`` of cell means. Unpaired (the default), the cells
  are independent: with ``method="t"`` the standard error is
  ``sqrt(sum_k c_k**2 * sd_k**2 / S_k)`` and the degrees of freedom Welch--Satterthwaite's,
  ``se**4 / sum_k [(c_k**2 * sd_k**2 / S_k)**2 / (S_k - 1)]`` (:func:`welch_df`;
  :func:`t_contrast` does this arithmetic on plain arrays); with ``method="bootstrap"``
  each cell's seeds are resampled independently, in the order of the terms, from one
  generator. Paired (``paired=True``), the cells must hold the same seed ids (for sweeps
  whose seed ``s`` shares its initialisation across alphas): with ``method="t"`` the
  interval is the t interval of the per-seed combinations ``sum_k c_k * value_k(s)``
  (``S - 1`` degrees of freedom); with ``method="bootstrap"`` the seed ids are resampled
  jointly. A one-seed cell enters an unpaired contrast as a normal term whose standard error
  is read off its episode interval (taken as a 95% interval): a term of infinite degrees of
  freedom in Welch's formula (a normal draw in the bootstrap), and the contrast's
  ``interval`` then says ``"seeds and episodes"`` (or ``"episodes (one seed)"`` when every
  cell has one seed; with no seed term at all the t quantile is the normal one).
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
from scipy import stats

__all__ = [
    "KNOWN_COLUMNS",
    "METHODS",
    "Contrast",
    "seed_bootstrap",
    "seed_t_interval",
    "welch_df",
    "t_contrast",
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
#: the seed-level interval methods: Student-t (the default) and the percentile bootstrap
METHODS = ("t", "bootstrap")


def _percentiles(reps: np.ndarray, ci: float) -> tuple[float, float]:
    good = reps[~np.isnan(reps)]
    if good.size == 0:
        return math.nan, math.nan
    lo, hi = np.quantile(good, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return float(lo), float(hi)


def _check_args(n_boot: int, ci: float, method: str = "t") -> None:
    if not (0.0 < float(ci) < 1.0):
        raise ValueError(f"ci={ci!r}; the confidence level must lie in (0, 1)")
    if int(n_boot) < 1:
        raise ValueError(f"n_boot={n_boot!r}; use at least 1 replicate (2000 is typical)")
    if method not in METHODS:
        raise ValueError(f"method={method!r}; use 't' (Student-t over seeds, the default) or "
                         "'bootstrap' (percentile bootstrap over seeds)")


def _t_quantile(ci: float, df: float) -> float:
    """The ``(1 + ci)/2`` quantile of Student's t with ``df`` degrees of freedom (normal if inf)."""
    q = 0.5 + float(ci) / 2
    if math.isinf(df):
        return NormalDist().inv_cdf(q)
    return float(stats.t.ppf(q, df))


def _t_bounds(est: float, se: float, df: float, ci: float) -> tuple[float, float]:
    if math.isnan(se):
        return math.nan, math.nan
    if se == 0.0:  # every seed value equal: no spread to widen by
        return est, est
    half = _t_quantile(ci, df) * se
    return float(est - half), float(est + half)


def seed_t_interval(
    values: Sequence[float] | np.ndarray,
    *,
    ci: float = 0.95,
) -> tuple[float, float, float]:
    """Mean of per-seed values and its Student-t interval over seeds.

    ``mean +- t(S-1, (1+ci)/2) * sd / sqrt(S)``, ``sd`` with ddof 1: the default seed-level
    interval (module docstring), near nominal coverage even with 3 seeds when seed values
    vary about normally.

    Parameters
    ----------
    values : sequence of float
        One value per training seed (NaN entries are dropped).
    ci : float
        Confidence level in (0, 1).

    Returns
    -------
    tuple of float
        ``(mean, ci_low, ci_high)``; NaN interval with fewer than two values.

    Examples
    --------
    >>> [round(x, 3) for x in seed_t_interval([0.2, 0.4, 0.6])]
    [0.4, -0.097, 0.897]
    >>> seed_t_interval([0.5])
    (0.5, nan, nan)
    """
    _check_args(1, ci)
    v = np.asarray(values, dtype=float).reshape(-1)
    v = v[~np.isnan(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if v.size < 2:
        return mean, math.nan, math.nan
    lo, hi = _t_bounds(mean, float(v.std(ddof=1)) / math.sqrt(v.size), v.size - 1.0, ci)
    return mean, lo, hi


def welch_df(variances: Sequence[float], dfs: Sequence[float]) -> float:
    """Welch--Satterthwaite degrees of freedom of a sum of independent variance terms.

    ``(sum_k v_k)**2 / sum_k v_k**2 / df_k`` for the terms ``v_k = c_k**2 * sd_k**2 / S_k``
    with ``df_k = S_k - 1`` (a term of infinite ``df_k`` adds nothing below the line). Inf
    when every term with variance has infinite df, NaN when the total variance is 0.

    Examples
    --------
    >>> welch_df([0.01 / 3, 0.01 / 3], [2, 2])
    4.0
    >>> welch_df([0.01, 0.02], [float("inf"), float("inf")])
    inf
    """
    v = np.asarray(variances, dtype=float)
    d = np.asarray(dfs, dtype=float)
    total = float(v.sum())
    if not total > 0:
        return math.nan
    below = float(np.sum(np.where(np.isinf(d) | (v == 0), 0.0, v ** 2 / np.where(d > 0, d, 1))))
    return math.inf if below == 0 else total ** 2 / below


def t_contrast(
    weights: Sequence[float],
    values: Sequence[Sequence[float] | np.ndarray],
    *,
    ci: float = 0.95,
    paired: bool = False,
    single_se: Sequence[float] | None = None,
) -> tuple[float, float, float, float, float]:
    """Student-t interval of ``sum_k c_k * mean(values_k)`` from arrays of seed values.

    The arithmetic of :func:`contrast` with ``method="t"``, without the table. Unpaired: the
    cells are independent, the standard error ``sqrt(sum_k c_k**2 * sd_k**2 / S_k)`` and the
    df Welch--Satterthwaite's (:func:`welch_df`); a one-value cell is a normal term of
    standard error ``single_se[k]`` (its episode interval's; infinite df; NaN or absent: no
    interval). Paired: the arrays are aligned seed by seed and the interval is the t
    interval of the per-seed combinations ``sum_k c_k * values_k[s]`` (``S - 1`` df).

    Parameters
    ----------
    weights : sequence of float
        ``c_k``, one per cell.
    values : sequence of 1-D arrays
        The seed values of each cell (NaN entries are dropped; paired: none may be NaN).
    ci : float
        Confidence level in (0, 1).
    paired : bool
    single_se : sequence of float, optional
        Standard error of each one-seed cell's value (ignored for cells of two or more).

    Returns
    -------
    tuple of float
        ``(estimate, ci_low, ci_high, se, df)``.

    Examples
    --------
    >>> est, lo, hi, se, df = t_contrast([1, -1], [[0.9, 0.95, 0.85], [0.5, 0.6, 0.55]])
    >>> round(est, 3), round(lo, 3), round(hi, 3), df
    (0.35, 0.237, 0.463, 4.0)
    """
    _check_args(1, ci)
    w = np.asarray(weights, dtype=float).reshape(-1)
    if len(values) != w.size or w.size == 0:
        raise ValueError(f"{w.size} weight(s) for {len(values)} cell(s); give one per cell")
    if paired:
        arr = [np.asarray(v, dtype=float).reshape(-1) for v in values]
        n = {a.size for a in arr}
        if len(n) != 1 or arr[0].size < 2 or any(np.isnan(a).any() for a in arr):
            raise ValueError("a paired contrast needs the same >= 2 seeds, without NaN, in "
                             f"every cell; got sizes {[a.size for a in arr]}")
        per_seed = np.sum(w[:, None] * np.vstack(arr), axis=0)
        est = float(per_seed.mean())
        se, df = float(per_seed.std(ddof=1)) / math.sqrt(per_seed.size), per_seed.size - 1.0
        return (est, *_t_bounds(est, se, df, ci), se, df)
    est, var, dfs = 0.0, [], []
    for k, (c, v) in enumerate(zip(w.tolist(), values)):
        v = np.asarray(v, dtype=float).reshape(-1)
        v = v[~np.isnan(v)]
        if v.size == 0:
            return math.nan, math.nan, math.nan, math.nan, math.nan
        est += c * float(v.mean())
        if v.size >= 2:
            var.append(c * c * float(v.var(ddof=1)) / v.size)
            dfs.append(v.size - 1.0)
        else:
            sk = math.nan if single_se is None else float(single_se[k])
            var.append(c * c * sk * sk)
            dfs.append(math.inf)
    se = math.sqrt(sum(var))
    df = welch_df(var, dfs) if not math.isnan(se) else math.nan
    return (est, *_t_bounds(est, se, df, ci), se, df)


def seed_bootstrap(
    values: Sequence[float] | np.ndarray,
    *,
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int | None = 0,
) -> tuple[float, float, float]:
    """Mean of per-seed values and its percentile bootstrap interval over seeds.

    The ``method="bootstrap"`` interval: too narrow with few seeds (module docstring);
    :func:`seed_t_interval` is the default.

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
    method: str = "t",
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
    method : {"t", "bootstrap"}
        The seed-level interval of a cell of two or more seeds: Student-t (default,
        :func:`seed_t_interval`) or the percentile bootstrap (:func:`seed_bootstrap`, too
        narrow with few seeds; see the module docstring).
    n_boot, ci, seed
        Bootstrap replicates (``method="bootstrap"`` only), confidence level and generator
        seed (``method="bootstrap"`` only).
    by : sequence of str
        Further setting columns to keep apart (e.g. ``("lr",)``).

    Returns
    -------
    pandas.DataFrame
        Columns ``network, kind, *by, alpha, conformity, metric, value, ci_low, ci_high,
        n_seeds, n, seed_sd, interval``: ``value`` the mean over seeds, the interval the
        seed-level t interval or bootstrap (``interval == "seeds"``) or, with one seed, that
        population's episode interval (``"episodes (one seed)"``, whatever the method; a
        missing one gives ``"none"``); ``n`` sums the episodes, ``seed_sd`` is the
        standard deviation of the seed values (ddof 1). Rows keep the networks' order of
        first appearance, then alpha and metric.

    Examples
    --------
    >>> t = pd.DataFrame({"network": "ring", "kind": "social", "alpha": 0.5,
    ...                   "seed": [0, 1, 2], "metric": "accuracy_final",
    ...                   "value": [0.6, 0.7, 0.8], "ci_low": 0.5, "ci_high": 0.9, "n": 10})
    >>> s = seed_summary(t)
    >>> s[["value", "ci_low", "ci_high", "n_seeds", "n", "interval"]].round(3).values.tolist()
    [[0.7, 0.452, 0.948, 3, 30.0, 'seeds']]
    >>> s1 = seed_summary(t[t.seed == 0])
    >>> s1[["value", "ci_low", "ci_high", "interval"]].values.tolist()
    [[0.6, 0.5, 0.9, 'episodes (one seed)']]
    """
    _check_args(n_boot, ci, method)
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
            if method == "t":
                mean, lo, hi = seed_t_interval(v, ci=ci)
            else:
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
    """A weighted sum of cell means with its seed-level interval.

    Attributes
    ----------
    estimate, ci_low, ci_high : float
        The contrast and its interval (NaN when a one-seed cell has no episode interval).
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
    method : str
        ``"t"`` (Student-t, Welch degrees of freedom when unpaired) or ``"bootstrap"``.
    se : float
        Standard error of the estimate (``method="bootstrap"``: the standard deviation of
        the bootstrap replicates).
    df : float
        Degrees of freedom of the t quantile (inf: normal; NaN for the bootstrap or with no
        spread at all).
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
    method: str = "t"
    se: float = math.nan
    df: float = math.nan

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
    method: str = "t",
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
        The cells hold the same seed ids and are combined seed by seed (the t interval of
        the per-seed combinations, ``S - 1`` df; the bootstrap resamples the ids jointly);
        default: independent cells (Welch's t; the bootstrap resamples each cell on its own).
    method : {"t", "bootstrap"}
        Student-t (default) or the percentile bootstrap over seeds (module docstring). A
        one-seed cell enters an unpaired contrast as a normal term sized from its episode
        interval (infinite df in Welch's formula).
    n_boot, ci, seed
        Bootstrap replicates and generator seed (``method="bootstrap"`` only), confidence
        level.

    Returns
    -------
    Contrast

    Examples
    --------
    >>> t = pd.DataFrame({"network": "ring", "alpha": [0.0] * 3 + [1.0] * 3,
    ...                   "seed": [0, 1, 2] * 2, "metric": "accuracy_final",
    ...                   "value": [0.5, 0.6, 0.55, 0.9, 0.95, 0.85]})
    >>> c = contrast(t, "accuracy_final", [(1, "ring", 1.0), (-1, "ring", 0.0)])
    >>> round(c.estimate, 3), c.side, c.interval, c.df
    (0.35, 1, 'seeds', 4.0)
    >>> c.text()
    '+0.350 [+0.237, +0.463]'
    """
    _check_args(n_boot, ci, method)
    t = _prepare(table)
    if not terms:
        raise ValueError("terms is empty; give (weight, network, alpha) triples")
    cells = [_cell(t, metric, net, a) for _, net, a in terms]
    weights = np.array([float(w) for w, _, _ in terms])
    means = np.array([float(d["value"].mean()) for d in cells])
    sizes = tuple(int(len(d)) for d in cells)
    est = float(weights @ means)
    ones = sum(n == 1 for n in sizes)
    se = df = math.nan
    if paired:
        ids = [tuple(d["seed"].tolist()) for d in cells]
        if len(set(ids)) != 1 or len(ids[0]) < 2:
            raise ValueError(
                f"a paired contrast needs the same >= 2 seed ids in every cell; got {ids}"
            )
        kind = "seeds"
        if method == "t":
            _, lo, hi, se, df = t_contrast(
                weights, [d["value"].to_numpy(dtype=float) for d in cells], ci=ci, paired=True)
        else:
            rng = np.random.default_rng(seed)
            nb = int(n_boot)
            reps = np.zeros(nb)
            idx = rng.integers(0, len(ids[0]), size=(nb, len(ids[0])))
            for w, d in zip(weights, cells):
                reps += w * d["value"].to_numpy(dtype=float)[idx].mean(1)
            lo, hi = _percentiles(reps, ci)
            se = float(np.std(reps, ddof=1)) if nb > 1 else math.nan
    else:
        z = NormalDist().inv_cdf(0.5 + _EPISODE_LEVEL / 2)
        kind = ("seeds" if ones == 0 else "episodes (one seed)" if ones == len(sizes)
                else "seeds and episodes")
        if method == "t":
            # a one-seed cell's standard error from its episode interval (NaN: no interval)
            single = [(float(d["ci_high"].iloc[0]) - float(d["ci_low"].iloc[0])) / (2 * z)
                      for d in cells]
            _, lo, hi, se, df = t_contrast(
                weights, [d["value"].to_numpy(dtype=float) for d in cells], ci=ci,
                single_se=single)
        else:
            rng = np.random.default_rng(seed)
            nb = int(n_boot)
            reps = np.zeros(nb)
            for w, d in zip(weights, cells):
                v = d["value"].to_numpy(dtype=float)
                if v.size >= 2:
                    reps += w * _resample(v, nb, rng)
                else:
                    lo1, hi1 = float(d["ci_low"].iloc[0]), float(d["ci_high"].iloc[0])
                    sd = (hi1 - lo1) / (2 * z)  # NaN without an episode interval: no interval
                    reps = reps + (w * (v[0] + rng.normal(0.0, sd, nb)) if sd == sd else np.nan)
            lo, hi = _percentiles(reps, ci)
            se = float(np.std(reps, ddof=1)) if nb > 1 and not np.isnan(reps).any() else math.nan
    if math.isnan(lo):
        kind = "none"
    return Contrast(
        estimate=est, ci_low=lo, ci_high=hi, metric=str(metric),
        terms=tuple((float(w), str(n), float(a)) for w, n, a in terms), n_seeds=sizes,
        interval=kind, paired=bool(paired), cells=tuple(float(m) for m in means),
        method=method, se=se, df=df,
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

    Keyword arguments go to :func:`contrast` (``paired``, ``method``, ``n_boot``, ``ci``,
    ``seed``); the default interval is Student-t over seeds.

    Examples
    --------
    >>> t = pd.DataFrame({"network": "ring", "alpha": [0.0] * 3 + [1.0] * 3,
    ...                   "seed": [0, 1, 2] * 2, "metric": "lying_rate",
    ...                   "value": [0.3, 0.35, 0.4, 0.0, 0.01, 0.02]})
    >>> c = alpha_contrast(t, "lying_rate", "ring", 0.0, 1.0)
    >>> round(c.estimate, 3), c.side
    (0.34, 1)
    >>> alpha_contrast(t, "lying_rate", "ring", 0.0, 1.0, paired=True).df
    2.0
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
    """``(network: alpha - baseline) - (other: alpha - baseline)``, cells independent.

    Keyword arguments go to :func:`contrast` (default: Student-t with Welch's df over the
    four cells).

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
