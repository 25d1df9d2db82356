"""The paper's four claims, checked against a sweep's tidy table with seed-level intervals.

:func:`assess_claims` reads the sweep's tidy table (one row per ``network, alpha, seed,
metric``; see :mod:`socialmarl.analysis.seeds`) and, optionally, one fitted
:class:`~socialmarl.analysis.importance.AttentionFit` per network with human weights, and
returns one :class:`Claim` per claim of Seier et al. (2026); :func:`claims_text` writes them
for ``summary.txt``. Conformity is ``1 - alpha`` (alpha weighs the truth).

Conventions chosen where the paper is silent
--------------------------------------------

**Verdicts.** Each claim is a *contrast* (a difference of seed means, see
:func:`socialmarl.analysis.seeds.contrast`) with a claimed sign. With its seed-level
interval at level ``ci``: **supported** when the interval lies wholly on the claimed side
of 0, **contradicted** when wholly on the other side, otherwise **not resolved at this
budget** (also whenever the inputs are absent; the reason is stated). Several networks of
one kind are pooled with equal weights (the contrast is the mean of the per-network
contrasts); each network's own contrast is listed in the details.

**Intervals.** Every interval behind a verdict (cells, contrasts, the informative-belief
test) is the Student-t interval over training seeds (``method="t"``, the default of
:mod:`socialmarl.analysis.seeds`; Welch's degrees of freedom for contrasts of independent
cells). Percentile bootstraps over the 3-5 seeds of a sweep under-cover badly (a 95%
interval of a null difference of two cells excludes 0 in about 21% of sweeps with 3 seeds,
11% with 5), so verdicts read from them are over-confident: on pure-noise synthetic sweeps
(no planted effect, seed sd 0.05, 400 sweeps each) the bootstrap resolved a claim wrongly
in 20% (accuracy), 21% (lying), 17% (camp) and 10% (attention) of sweeps with 3 seeds and
9%, 13%, 9% and 6% with 5; the t interval in 5%, 3%, 3% and 1% with 3 seeds and 4%, 4%, 4%
and 1% with 5 (Welch's t is slightly conservative with so few seeds; the attention rule
asks several intervals at once). ``method="bootstrap"`` gives the former verdicts.

1. **Conformity reduces accuracy** (social networks, ``kind == "social"``):
   ``accuracy_final`` at the network's largest alpha minus at its smallest alpha; claimed
   ``> 0``.
2. **Conformity promotes lying** (social networks): the belief head is *informative* at
   ``(network, alpha)`` when the seed-level interval of ``belief_accuracy_final`` lies wholly
   above 0.5 and that of ``belief_brier_final`` wholly below 0.25 (a constant coin flip).
   Lying is compared only where it is defined against an informative belief: ``lying_rate``
   at the smallest informative alpha minus at the largest informative alpha (the latter is
   the reference, normally alpha = 1); claimed ``> 0``. A network with fewer than two
   informative alphas is left out; with none left the claim is not resolved, reason
   "beliefs uninformative". Without the belief metrics it is not resolved, reason "belief
   quality not measured". Every lying number is reported beside belief accuracy and Brier
   and their own-signal baselines (``signal_accuracy``, ``signal_brier``).
3. **Camps are less affected** (``kind == "social"`` against ``kind == "camp"``), on the
   alphas common to all of them: (accuracy drop on the social networks) minus (accuracy
   drop in the camps), a drop being ``accuracy_final`` at the largest minus at the smallest
   common alpha; claimed ``> 0``. The camps' agreement change (``agreement_final`` at the
   smallest minus at the largest common alpha) is reported beside it with its interval.
4. **Conforming populations' attention best matches human importance** (per network with
   ``attention_spearman`` rows or a fit): *high conformity* is ``1 - alpha >= 0.5``. The
   best alpha and the set of alphas not significantly worse than it come from the fit
   (``best_alpha_``, ``alphas_not_worse_``) when one is given, else from the table: the alpha
   with the largest seed mean, and the alphas whose contrast ``best - alpha`` has an interval
   reaching 0 or below. The learned attention at the best alpha is compared with each
   baseline (``uniform``, ``popularity``; from the fit's ``table_``, else the
   ``attention_spearman_uniform`` / ``_popularity`` rows) as its seed-level interval minus
   the baseline's value: the baselines score the same agents and do not depend on training,
   so their agent-sampling noise is shared and is not added. **Supported** when the best
   alpha has high conformity, every low-conformity alpha is significantly worse than the
   best (so a flat curve is not a win), and learned attention beats both baselines
   significantly. **Contradicted** when every high-conformity alpha is significantly worse
   than the best, or learned attention at the best alpha is significantly worse than a
   baseline. Otherwise not resolved (e.g. no low-conformity alpha to compare with). Several
   networks: supported when all are, contradicted when at least one is and none is
   supported, else not resolved. The reported contrast is the learned attention at the best
   high-conformity alpha minus at the best low-conformity alpha (seed-level interval when the
   table has the rows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .importance import AttentionFit
from .seeds import Contrast, _prepare, contrast, seed_summary

__all__ = ["VERDICTS", "Claim", "assess_claims", "claims_text", "informative_beliefs"]

SUPPORTED, CONTRADICTED, UNRESOLVED = "supported", "contradicted", "not resolved at this budget"
#: the three verdicts
VERDICTS = (SUPPORTED, CONTRADICTED, UNRESOLVED)

_STATEMENTS = {
    "accuracy": "On the social network, high conformity reduces collective accuracy.",
    "lying": "On the social network, high conformity promotes lying (guesses against the "
             "agent's own belief).",
    "camp": "Small dynamic hunter-gatherer camps are less affected: conformity costs less "
            "accuracy in the camp than on the social network.",
    "attention": "Highly conforming populations' learned attention most closely matches human "
                 "importance, better than uniform and popularity baselines.",
}


@dataclass
class Claim:
    """One claim, its verdict and the numbers behind it.

    Attributes
    ----------
    name : str
        ``"accuracy"``, ``"lying"``, ``"camp"`` or ``"attention"``.
    statement : str
        The claim in words.
    verdict : str
        One of :data:`VERDICTS`.
    estimate, ci_low, ci_high : float
        The contrast and its seed-level interval (NaN when not computed).
    compared : str
        What the contrast compares, in words.
    sentence : str
        The result in one or two sentences.
    reason : str
        Why the claim is not resolved (or contradicted), when it is not supported.
    details : list of str
        Further numbers: per-network contrasts, belief quality beside lying rates...
    ci : float
        Level of the intervals.
    method : {"t", "bootstrap"}
        How the intervals were made.
    """

    name: str
    statement: str
    verdict: str
    estimate: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    compared: str = ""
    sentence: str = ""
    reason: str = ""
    details: list[str] = field(default_factory=list)
    ci: float = 0.95
    method: str = "t"


def _verdict(side: int) -> str:
    return SUPPORTED if side > 0 else CONTRADICTED if side < 0 else UNRESOLVED


def _fmt(x: float, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:+.3f}" if signed else f"{x:.3f}"


def _iv(v: float, lo: float, hi: float, signed: bool = False) -> str:
    return f"{_fmt(v, signed)} [{_fmt(lo, signed)}, {_fmt(hi, signed)}]"


def _c(a: float) -> str:
    return f"conformity {1 - a:g} (alpha {a:g})"


class _Ctx:
    """The prepared table, its seed summary and the interval settings."""

    def __init__(self, table: pd.DataFrame, ci: float, n_boot: int, seed: int | None,
                 method: str = "t") -> None:
        self.t = _prepare(table)
        self.ci, self.n_boot, self.seed, self.method = ci, n_boot, seed, method
        self.s = seed_summary(self.t, method=method, n_boot=n_boot, ci=ci, seed=seed)
        self.networks = list(dict.fromkeys(self.t["network"]))
        kinds = self.t.drop_duplicates("network").set_index("network")["kind"]
        self.kind = kinds.to_dict()
        self.informative = informative_beliefs(self.s)

    def has(self, network: str, metric: str) -> bool:
        return bool(((self.s.network == network) & (self.s.metric == metric)
                     & (self.s.n_seeds > 0)).any())

    def alphas(self, network: str, metric: str) -> list[float]:
        d = self.s[(self.s.network == network) & (self.s.metric == metric) & (self.s.n_seeds > 0)]
        return sorted(d["alpha"].astype(float).unique().tolist())

    def cell(self, network: str, alpha: float, metric: str) -> pd.Series | None:
        d = self.s[(self.s.network == network) & (self.s.metric == metric)
                   & np.isclose(self.s.alpha, alpha)]
        return d.iloc[0] if len(d) else None

    def cell_text(self, network: str, alpha: float, metric: str) -> str:
        r = self.cell(network, alpha, metric)
        if r is None:
            return "n/a"
        return _iv(r.value, r.ci_low, r.ci_high)

    def contrast(self, metric: str, terms: Sequence[tuple[float, str, float]]) -> Contrast:
        return contrast(self.t, metric, terms, method=self.method, n_boot=self.n_boot,
                        ci=self.ci, seed=self.seed)


def _unresolved(name: str, reason: str, **kw: Any) -> Claim:
    return Claim(name=name, statement=_STATEMENTS[name], verdict=UNRESOLVED, reason=reason,
                 sentence=f"Not resolved: {reason}.", **kw)


def _from_contrast(name: str, c: Contrast, compared: str, claimed: str, details: list[str],
                   extra: str = "") -> Claim:
    verdict = _verdict(c.side)
    where = {1: "lies wholly above 0", -1: "lies wholly below 0", 0: "includes 0"}[c.side]
    if c.interval == "none":
        where = "could not be computed (a cell has one seed and no episode interval)"
    seeds = ", ".join(str(n) for n in sorted(set(c.n_seeds)))
    how = _HOW.get(c.method, c.method)
    sentence = (f"{compared}: {c.text()} (seed-level {how} interval, {seeds} seed(s) per "
                f"cell, from {c.interval}); the interval {where}, so the claim ({claimed}) is "
                f"{verdict}.")
    reason = {SUPPORTED: "", UNRESOLVED: f"the interval {where}",
              CONTRADICTED: f"the interval {where}: the effect has the opposite sign"}[verdict]
    return Claim(name=name, statement=_STATEMENTS[name], verdict=verdict, estimate=c.estimate,
                 ci_low=c.ci_low, ci_high=c.ci_high, compared=compared,
                 sentence=sentence + (" " + extra if extra else ""), reason=reason,
                 details=details)


def _pooled_terms(pairs: Sequence[tuple[str, float, float]], sign: float = 1.0
                  ) -> list[tuple[float, str, float]]:
    """Equal-weight mean over networks of (value at a_plus - value at a_minus)."""
    k = len(pairs)
    out = []
    for net, a_plus, a_minus in pairs:
        out += [(sign / k, net, a_plus), (-sign / k, net, a_minus)]
    return out


def _social(ctx: _Ctx, social: Sequence[str] | None) -> list[str]:
    if social is not None:
        return [str(n) for n in social]
    return [n for n in ctx.networks if ctx.kind[n] == "social"]


# ---------------------------------------------------------------------------- claim 1
def _claim_accuracy(ctx: _Ctx, social: list[str]) -> Claim:
    m = "accuracy_final"
    pairs = []
    for net in social:
        al = ctx.alphas(net, m)
        if len(al) >= 2:
            pairs.append((net, al[-1], al[0]))
    if not pairs:
        return _unresolved("accuracy", "no social network with accuracy_final at two or more "
                           "alphas" if social else "no social network in the table")
    details = []
    for net, hi, lo in pairs:
        c = ctx.contrast(m, [(1.0, net, hi), (-1.0, net, lo)])
        details.append(f"{net}: final accuracy at {_c(hi)} {ctx.cell_text(net, hi, m)}, at "
                       f"{_c(lo)} {ctx.cell_text(net, lo, m)}; drop {c.text()}")
    c = ctx.contrast(m, _pooled_terms(pairs))
    nets = ", ".join(p[0] for p in pairs)
    compared = (f"final accuracy at the smallest minus at the largest conformity on {nets}"
                + (" (mean over networks)" if len(pairs) > 1 else ""))
    return _from_contrast("accuracy", c, compared, "> 0", details)


# ---------------------------------------------------------------------------- claim 2
def informative_beliefs(summary: pd.DataFrame) -> pd.DataFrame:
    """Where the belief head is informative, from a seed summary.

    Informative at ``(network, alpha)``: the seed-level interval of
    ``belief_accuracy_final`` lies wholly above 0.5 and that of ``belief_brier_final``
    wholly below 0.25 (the Brier score of a constant coin flip). Only then does a guess
    against the belief read as a lie (claim 2, and the hollow markers of the lying figure).

    Parameters
    ----------
    summary : DataFrame
        The output of :func:`socialmarl.analysis.seeds.seed_summary`.

    Returns
    -------
    pandas.DataFrame
        ``network, alpha, informative`` for every ``(network, alpha)`` of the summary;
        ``informative`` is False where a belief metric is missing.

    Examples
    --------
    >>> s = pd.DataFrame({"network": "a", "alpha": [0.0, 0.0, 1.0, 1.0],
    ...                   "metric": ["belief_accuracy_final", "belief_brier_final"] * 2,
    ...                   "ci_low": [0.55, 0.10, 0.45, 0.10], "ci_high": [0.7, 0.2, 0.6, 0.2]})
    >>> informative_beliefs(s).informative.tolist()
    [True, False]
    """
    keys = ["network", "alpha"]
    cells = summary[keys].drop_duplicates().reset_index(drop=True)
    acc = summary[summary.metric == "belief_accuracy_final"][keys + ["ci_low"]]
    bri = summary[summary.metric == "belief_brier_final"][keys + ["ci_high"]]
    d = cells.merge(acc, on=keys, how="left").merge(bri, on=keys, how="left")
    ok = (d["ci_low"] > 0.5) & (d["ci_high"] < 0.25)  # NaN compares False
    return d[keys].assign(informative=ok.to_numpy(dtype=bool))


def _informative(ctx: _Ctx, net: str, a: float) -> bool:
    d = ctx.informative
    hit = d[(d.network == net) & np.isclose(d.alpha, a)]
    return bool(len(hit) and hit.informative.iloc[0])


def _claim_lying(ctx: _Ctx, social: list[str]) -> Claim:
    m = "lying_rate"
    nets = [n for n in social if ctx.has(n, m)]
    if not nets:
        return _unresolved("lying", "no lying_rate on a social network" if social
                           else "no social network in the table")
    measured = [n for n in nets if ctx.has(n, "belief_accuracy_final")
                and ctx.has(n, "belief_brier_final")]
    if not measured:
        return _unresolved("lying", "belief quality not measured (no belief_accuracy_final / "
                           "belief_brier_final rows), so lying against beliefs cannot be read")
    details, pairs = [], []
    for net in measured:
        info = []
        for a in ctx.alphas(net, m):
            ok = _informative(ctx, net, a)
            if ok:
                info.append(a)
            details.append(
                f"{net}, {_c(a)}: lying rate {ctx.cell_text(net, a, m)}; belief accuracy "
                f"{ctx.cell_text(net, a, 'belief_accuracy_final')} vs own signal "
                f"{ctx.cell_text(net, a, 'signal_accuracy')}; belief Brier "
                f"{ctx.cell_text(net, a, 'belief_brier_final')} vs own signal "
                f"{ctx.cell_text(net, a, 'signal_brier')} -> beliefs "
                f"{'informative' if ok else 'NOT informative'}")
        if len(info) >= 2:
            pairs.append((net, info[0], info[-1]))
        else:
            details.append(f"{net}: fewer than two alphas with informative beliefs; left out")
    if not pairs:
        return _unresolved("lying", "beliefs uninformative: no social network has two alphas "
                           "whose belief head is informative (belief accuracy above 0.5 and "
                           "Brier below 0.25, seed-level intervals)", details=details)
    c = ctx.contrast(m, _pooled_terms(pairs))
    nets_s = ", ".join(f"{n} ({_c(lo)} vs {_c(hi)})" for n, lo, hi in pairs)
    compared = ("lying rate at the smallest minus at the largest alpha with informative beliefs "
                f"on {nets_s}" + (" (mean over networks)" if len(pairs) > 1 else ""))
    return _from_contrast("lying", c, compared, "> 0", details)


# ---------------------------------------------------------------------------- claim 3
def _claim_camp(ctx: _Ctx, social: list[str], camps: list[str]) -> Claim:
    m = "accuracy_final"
    soc = [n for n in social if ctx.has(n, m)]
    cmp_ = [n for n in camps if ctx.has(n, m)]
    if not soc or not cmp_:
        what = "camp" if not cmp_ else "social network"
        return _unresolved("camp", f"no {what} with accuracy_final in the table")
    common = sorted(set.intersection(*(set(ctx.alphas(n, m)) for n in soc + cmp_)))
    if len(common) < 2:
        return _unresolved("camp", "the social networks and camps share fewer than two alphas")
    lo, hi = common[0], common[-1]
    terms = _pooled_terms([(n, hi, lo) for n in soc]) + _pooled_terms(
        [(n, hi, lo) for n in cmp_], sign=-1.0)
    c = ctx.contrast(m, terms)
    details = []
    for n in soc + cmp_:
        d = ctx.contrast(m, [(1.0, n, hi), (-1.0, n, lo)])
        details.append(f"{n} ({ctx.kind[n]}): accuracy drop from {_c(hi)} to {_c(lo)} "
                       f"{d.text()}")
    extra = ""
    agree = [n for n in cmp_ if lo in ctx.alphas(n, "agreement_final")
             and hi in ctx.alphas(n, "agreement_final")]
    if agree:
        ca = ctx.contrast("agreement_final", _pooled_terms([(n, lo, hi) for n in agree]))
        change = {1: "a significant rise", -1: "a significant fall",
                  0: "no significant change"}[ca.side]
        extra = (f"The camp's final agreement changes by {ca.text()} from {_c(hi)} to "
                 f"{_c(lo)} ({change}).")
        details.append(extra)
    for n in soc:
        if lo in ctx.alphas(n, "agreement_final") and hi in ctx.alphas(n, "agreement_final"):
            cs = ctx.contrast("agreement_final", [(1.0, n, lo), (-1.0, n, hi)])
            details.append(f"{n}: final agreement change {cs.text()}")
    compared = (f"(accuracy drop on {', '.join(soc)}) minus (accuracy drop in "
                f"{', '.join(cmp_)}), drop = final accuracy at alpha {hi:g} minus at {lo:g}")
    return _from_contrast("camp", c, compared, "> 0", details, extra)


# ---------------------------------------------------------------------------- claim 4
def _attention_network(ctx: _Ctx, net: str, fit: AttentionFit | None
                       ) -> tuple[str, str, list[str], Contrast | None, float]:
    """Verdict, reason, detail lines, high-minus-low contrast and its point value."""
    m = "attention_spearman"
    has_rows = ctx.has(net, m)
    details: list[str] = []
    if fit is not None and getattr(fit, "alpha_table_", None) is not None:
        at = fit.alpha_table_[fit.alpha_table_.metric == "spearman"].set_index("alpha")
        alphas = sorted(at.index.astype(float))
        best = float(fit.best_alpha_)
        not_worse = [float(a) for a in fit.alphas_not_worse_]
        learned = {a: (float(at.loc[a, "value"]), float(at.loc[a, "ci_low"]),
                       float(at.loc[a, "ci_high"])) for a in alphas}
        tb = fit.table_[fit.table_.metric == "spearman"]
        base = {b: float(tb[tb.model == b].value.iloc[0]) for b in ("uniform", "popularity")
                if (tb.model == b).any()}
        src = "the attention fit"
    elif has_rows:
        alphas = ctx.alphas(net, m)
        learned = {}
        for a in alphas:
            r = ctx.cell(net, a, m)
            learned[a] = (float(r.value), float(r.ci_low), float(r.ci_high))
        best = max(alphas, key=lambda a: learned[a][0])
        not_worse = [best]
        for a in alphas:
            if a != best:
                d = ctx.contrast(m, [(1.0, net, best), (-1.0, net, a)])
                if not d.ci_low > 0:
                    not_worse.append(a)
        base = {}
        for b in ("uniform", "popularity"):
            d = ctx.t[(ctx.t.network == net) & (ctx.t.metric == f"{m}_{b}")]["value"].dropna()
            if len(d):
                base[b] = float(d.mean())
        src = "the table's seed-level intervals"
    else:
        return UNRESOLVED, "no attention data", details, None, math.nan
    high = [a for a in alphas if 1 - a >= 0.5]
    low = [a for a in alphas if 1 - a < 0.5]
    for a in alphas:
        v, lo_, hi_ = learned[a]
        details.append(f"{net}, {_c(a)}: learned attention {_iv(v, lo_, hi_)}"
                       + (" (best)" if a == best else "")
                       + ("" if a in not_worse else " (significantly worse than the best)"))
    beats, worse = {}, {}
    v, lo_, hi_ = learned[best]
    for b, bv in base.items():
        beats[b] = lo_ - bv > 0
        worse[b] = hi_ - bv < 0
        details.append(f"{net}: learned at the best alpha minus {b} attention ({_fmt(bv)}): "
                       f"{_iv(v - bv, lo_ - bv, hi_ - bv, signed=True)}")
    missing = [b for b in ("uniform", "popularity") if b not in base]
    c = None
    point = math.nan
    if high and low:
        bh = max(high, key=lambda a: learned[a][0])
        bl = max(low, key=lambda a: learned[a][0])
        point = learned[bh][0] - learned[bl][0]
        if has_rows and bh in ctx.alphas(net, m) and bl in ctx.alphas(net, m):
            c = ctx.contrast(m, [(1.0, net, bh), (-1.0, net, bl)])
    # the rules (module docstring)
    if (high and not any(a in not_worse for a in high)) or any(worse.values()):
        why = ("every high-conformity alpha is significantly worse than the best "
               f"(alpha {best:g})" if high and not any(a in not_worse for a in high) else
               "learned attention is significantly worse than the "
               + " and ".join(b for b, w in worse.items() if w)
               + (" baselines" if sum(worse.values()) > 1 else " baseline"))
        return CONTRADICTED, f"{net}: {why} (from {src})", details, c, point
    reasons = []
    if 1 - best < 0.5:
        reasons.append(f"the best alpha {best:g} has low conformity")
    if not low:
        reasons.append("no low-conformity alpha to compare with")
    elif any(a in not_worse for a in low):
        reasons.append("some low-conformity alpha is not significantly worse than the best")
    if missing:
        reasons.append(f"no {' or '.join(missing)} baseline")
    not_beaten = [b for b, ok in beats.items() if not ok]
    if not_beaten:
        reasons.append(f"learned attention does not beat the {' and '.join(not_beaten)} "
                       "baseline significantly")
    if reasons:
        return UNRESOLVED, f"{net}: " + "; ".join(reasons) + f" (from {src})", details, c, point
    return SUPPORTED, "", details, c, point


def _claim_attention(ctx: _Ctx, fits: Mapping[str, AttentionFit] | None) -> Claim:
    fits = dict(fits or {})
    nets = [n for n in ctx.networks if ctx.has(n, "attention_spearman")]
    nets += [n for n in fits if n not in nets]
    if not nets:
        return _unresolved("attention", "no attention_spearman rows and no attention fit (no "
                           "network with human weights)")
    results = {n: _attention_network(ctx, n, fits.get(n)) for n in nets}
    verdicts = [r[0] for r in results.values()]
    if all(v == SUPPORTED for v in verdicts):
        verdict = SUPPORTED
    elif CONTRADICTED in verdicts and SUPPORTED not in verdicts:
        verdict = CONTRADICTED
    else:
        verdict = UNRESOLVED
    details = [d for r in results.values() for d in r[2]]
    reason = "; ".join(r[1] for r in results.values() if r[1])
    first = results[nets[0]]
    c, point = first[3], first[4]
    compared = (f"learned attention (Spearman with human weights) at the best high-conformity "
                f"alpha minus at the best low-conformity alpha on {nets[0]}")
    est = c.estimate if c is not None else point
    lo = c.ci_low if c is not None else math.nan
    hi = c.ci_high if c is not None else math.nan
    per = "; ".join(f"{n}: {r[0]}" for n, r in results.items())
    sentence = (f"{compared}: {_iv(est, lo, hi, signed=True)}. Verdict per network: {per}."
                + (f" Why: {reason}." if reason else ""))
    return Claim(name="attention", statement=_STATEMENTS["attention"], verdict=verdict,
                 estimate=est, ci_low=lo, ci_high=hi, compared=compared, sentence=sentence,
                 reason=reason if verdict != SUPPORTED else "", details=details)


# ---------------------------------------------------------------------------- public
def assess_claims(
    table: pd.DataFrame,
    fits: Mapping[str, AttentionFit] | None = None,
    *,
    ci: float = 0.95,
    method: str = "t",
    n_boot: int = 2000,
    seed: int | None = 0,
    social: Sequence[str] | None = None,
) -> list[Claim]:
    """Check the paper's four claims against a sweep's tidy table.

    Parameters
    ----------
    table : DataFrame
        One row per ``network, alpha, seed, metric`` (columns ``network, kind, alpha, seed,
        metric, value, ci_low, ci_high, n``; others are ignored).
    fits : dict of str to AttentionFit, optional
        A fitted attention fit per network with human weights (claim 4).
    ci : float
        Level of the seed-level intervals behind every verdict.
    method : {"t", "bootstrap"}
        The seed-level interval: Student-t over seeds (default; near nominal coverage with
        3-5 seeds) or the percentile bootstrap (too narrow with few seeds, so over-confident
        verdicts; see the module docstring).
    n_boot : int
        Bootstrap replicates (``method="bootstrap"`` only).
    seed : int, optional
        Seed of the bootstrap (``method="bootstrap"`` only).
    social : sequence of str, optional
        The networks that count as "the social network" (default: every ``kind ==
        "social"`` network).

    Returns
    -------
    list of Claim
        Claims ``accuracy``, ``lying``, ``camp`` and ``attention``, in this order; the rules
        are in the module docstring.

    Examples
    --------
    >>> rows = [dict(network="bsky", kind="social", alpha=a, seed=s, metric="accuracy_final",
    ...              value=0.5 + 0.4 * a + 0.01 * s) for a in (0.0, 1.0) for s in range(4)]
    >>> claims = assess_claims(pd.DataFrame(rows))
    >>> [(c.name, c.verdict) for c in claims][:2]
    [('accuracy', 'supported'), ('lying', 'not resolved at this budget')]
    >>> round(claims[0].estimate, 3)
    0.4
    """
    if fits is not None and not isinstance(fits, Mapping):
        raise TypeError("fits must be a dict {network: AttentionFit} or None")
    ctx = _Ctx(table, ci, n_boot, seed, method)
    soc = _social(ctx, social)
    unknown = [n for n in soc if n not in ctx.networks]
    if unknown:
        raise ValueError(f"social names network(s) {unknown} not in the table "
                         f"({ctx.networks})")
    camps = [n for n in ctx.networks if ctx.kind[n] == "camp"]
    claims = [_claim_accuracy(ctx, soc), _claim_lying(ctx, soc),
              _claim_camp(ctx, soc, camps), _claim_attention(ctx, fits)]
    for c in claims:
        c.ci = float(ci)
        c.method = method
    return claims


#: how each interval method is named in the text
_HOW = {"t": "Student-t", "bootstrap": "percentile bootstrap"}


def claims_text(claims: Sequence[Claim]) -> str:
    """The claims as plain text for ``summary.txt``: verdict, contrast, sentence, details.

    Examples
    --------
    >>> c = Claim("accuracy", "Conformity reduces accuracy.", SUPPORTED, 0.3, 0.2, 0.4,
    ...           compared="accuracy drop", sentence="It drops.")
    >>> print(claims_text([c]).splitlines()[1])
      verdict: supported
    """
    lines = []
    for k, c in enumerate(claims, 1):
        lines.append(f"Claim {k} ({c.name}): {c.statement}")
        lines.append(f"  verdict: {c.verdict}")
        if c.compared:
            lines.append(f"  contrast: {c.compared} = "
                         f"{_iv(c.estimate, c.ci_low, c.ci_high, signed=True)} "
                         f"({100 * c.ci:g}% seed-level {_HOW.get(c.method, c.method)} "
                         "interval)")
        if c.reason:
            lines.append(f"  reason: {c.reason}")
        if c.sentence and not (c.compared and c.sentence.startswith(c.compared)):
            lines.append(f"  {c.sentence}")  # (a sentence that repeats the contrast is left out)
        lines += [f"  - {d}" for d in c.details]
        lines.append("")
    return "\n".join(lines)
