"""One figure per claim of the paper, drawn from a sweep's tidy table.

:func:`paper_figures` reduces the sweep's tidy table (one row per ``network, alpha, seed,
metric``) over seeds with :func:`socialmarl.analysis.seeds.seed_summary` and draws, in the
style of :mod:`socialmarl.analysis.style` (axes in words with units, a colour per network,
panel letters, bands = seed-level intervals, drawn within the metric's range: a share's
band stops at 0 and 1, a correlation's at -1 and 1; the numbers themselves are not clipped):

* ``"accuracy_conformity"`` (claim 1) -- final accuracy against conformity ``1 - alpha``,
  a line per network;
* ``"lying_conformity"`` (claim 2) -- (a) the lying rate against conformity, a line per
  network, hollow markers where the belief head is *not* informative (see
  :func:`socialmarl.analysis.claims.informative_beliefs`: such lying numbers do not count);
  beside it, when measured, (b) the final belief accuracy with each network's own-signal
  accuracy (dashed) and chance (0.5), (c) the belief Brier score with the own-signal Brier
  score (dashed) and the coin flip (0.25);
* ``"social_vs_camp"`` (claim 3) -- the change in (a) final accuracy and (b) final
  agreement relative to the largest alpha shared by all networks (normally alpha = 1, no
  conformity), social networks solid and camps dashed, bands the seed-level intervals of the
  differences;
* ``"attention_conformity"`` (claim 4) -- learned attention's Spearman correlation with
  human weights against conformity, per network with human weights, with the uniform
  (dashed) and popularity (dotted) baselines as horizontal lines (shaded where they have an
  interval) and the best alpha starred.

A figure whose inputs are absent (no camp, no human weights, no lying metric) is skipped,
never drawn empty: a :class:`FigureSkipped` warning says why and the returned
:class:`FigureSet` lists it in ``skipped``. :func:`save_paper_figures` writes them all as
PNG and SVG through :func:`socialmarl.analysis.style.save_figure`.

Every band is a Student-t interval over training seeds (``method="t"``, the default of
:mod:`socialmarl.analysis.seeds`; Welch's degrees of freedom for the differences of the
camp figure), the intervals behind the verdicts of :mod:`socialmarl.analysis.claims`. The
percentile bootstrap over seeds (``method="bootstrap"``) draws bands far too narrow for the
3-5 seeds of a sweep: a 95% band of the difference of two cells with no true difference
excludes 0 in about 21% of sweeps with 3 seeds and 11% with 5, against 3.5% and 4.5% for
the t band (simulated, normal seed values).
"""

from __future__ import annotations

import os
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .claims import informative_beliefs
from .importance import AttentionFit
from .seeds import _prepare, contrast, seed_summary
from .style import (
    CONFORMITY_LABEL,
    metric_label,
    metric_name,
    metric_range,
    network_colours,
    panel_label,
    save_figure,
    style_context,
)

__all__ = ["FIGURE_NAMES", "FigureSet", "FigureSkipped", "paper_figures", "save_paper_figures"]

#: the figures, in the order of the claims
FIGURE_NAMES = ("accuracy_conformity", "lying_conformity", "social_vs_camp",
                "attention_conformity")


class FigureSkipped(UserWarning):
    """A paper figure was not drawn because its inputs are absent."""


class FigureSet(dict):
    """``{name: Figure}`` of the figures drawn; ``skipped`` maps the others to the reason."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.skipped: dict[str, str] = {}


def _cells(summ: pd.DataFrame, net: str, metric: str) -> pd.DataFrame:
    d = summ[(summ.network == net) & (summ.metric == metric) & (summ.n_seeds > 0)]
    return d.sort_values("conformity")


def _line_band(ax: Axes, net: str, x: np.ndarray, y: np.ndarray, lo: np.ndarray,
               hi: np.ndarray, colour: Any, *, hollow: np.ndarray | None = None,
               ls: str = "-", label: str | None = None,
               bounds: tuple[float | None, float | None] = (None, None)) -> None:
    """A line with markers (hollow where ``hollow``) and its interval band, the band clipped
    to ``bounds`` (the metric's range: a share's interval is drawn within [0, 1])."""
    ax.plot(x, y, ls=ls, color=colour, label=net if label is None else label,
            gid=f"{net}:line", marker="o" if hollow is None else None, zorder=3)
    if hollow is not None:
        filled = ~hollow
        ax.plot(x[filled], y[filled], ls="none", marker="o", color=colour, ms=5, zorder=4,
                gid=f"{net}:filled")
        ax.plot(x[hollow], y[hollow], ls="none", marker="o", mfc="white", mec=colour, ms=5,
                zorder=4, gid=f"{net}:hollow")
    ok = np.isfinite(lo) & np.isfinite(hi)
    if bounds != (None, None):
        lo, hi = np.clip(lo, bounds[0], bounds[1]), np.clip(hi, bounds[0], bounds[1])
    if ok.any():
        band = ax.fill_between(x[ok], lo[ok], hi[ok], color=colour, alpha=0.2, linewidth=0,
                               zorder=2)
        band.set_gid(f"{net}:band")


def _sweep_panel(ax: Axes, summ: pd.DataFrame, metric: str, nets: Sequence[str],
                 colours: Mapping[str, Any], hollow: Mapping[str, np.ndarray] | None = None,
                 ls: Mapping[str, str] | None = None) -> None:
    for net in nets:
        d = _cells(summ, net, metric)
        if d.empty:
            continue
        h = None if hollow is None else hollow[net]
        _line_band(ax, net, d.conformity.to_numpy(float), d.value.to_numpy(float),
                   d.ci_low.to_numpy(float), d.ci_high.to_numpy(float), colours[net],
                   hollow=h, ls=(ls or {}).get(net, "-"), bounds=metric_range(metric))
    ax.set_xlabel(CONFORMITY_LABEL)
    ax.set_ylabel(_wrap(metric_label(metric)))


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _wrap(text: str, width: int = 42) -> str:
    """Break a long axis label over lines so that panels side by side do not collide."""
    return textwrap.fill(text, width, break_on_hyphens=False)


def _has(summ: pd.DataFrame, metric: str, nets: Sequence[str] | None = None) -> list[str]:
    d = summ[(summ.metric == metric) & (summ.n_seeds > 0)]
    have = list(dict.fromkeys(d.network))
    return have if nets is None else [n for n in nets if n in have]


def _level(ci: float) -> str:
    return f"{100 * ci:g}%"


# ---------------------------------------------------------------------------- figures
def _fig_accuracy(summ: pd.DataFrame, colours: Mapping[str, Any], ci: float
                  ) -> Figure | str:
    nets = _has(summ, "accuracy_final")
    if not nets:
        return "no accuracy_final rows in the table"
    fig, ax = plt.subplots(figsize=(4.8, 3.6), layout="constrained")
    _sweep_panel(ax, summ, "accuracy_final", nets, colours)
    ax.set_title("Final accuracy against conformity")
    ax.legend(title="network")
    panel_label(ax, "a")
    fig.suptitle(f"Collective accuracy: mean over seeds, {_level(ci)} seed-level bands",
                 fontsize=10)
    return fig


def _fig_lying(summ: pd.DataFrame, colours: Mapping[str, Any], ci: float) -> Figure | str:
    nets = _has(summ, "lying_rate")
    if not nets:
        return "no lying_rate rows in the table (no belief head evaluated)"
    info = informative_beliefs(summ)
    measured = bool(_has(summ, "belief_accuracy_final", nets)
                    and _has(summ, "belief_brier_final", nets))
    hollow = {}
    for net in nets:
        d = _cells(summ, net, "lying_rate")
        i = info[info.network == net]
        ok = [bool(i[np.isclose(i.alpha, a)].informative.any()) for a in d.alpha]
        hollow[net] = ~np.asarray(ok, dtype=bool)
    panels = ["lying_rate"] + [m for m in ("belief_accuracy_final", "belief_brier_final")
                               if _has(summ, m, nets)]
    fig, axs = plt.subplots(1, len(panels), figsize=(4.4 * len(panels), 3.6),
                            layout="constrained", squeeze=False)
    axs = list(axs[0])
    _sweep_panel(axs[0], summ, "lying_rate", nets, colours, hollow=hollow)
    axs[0].set_title("Lying against conformity" if measured else
                     "Lying (belief quality not measured: all hollow)")
    handles = [Line2D([], [], color=colours[n], label=n) for n in nets] + [
        Line2D([], [], ls="none", marker="o", color="0.3", label="beliefs informative"),
        Line2D([], [], ls="none", marker="o", mfc="white", mec="0.3",
               label="beliefs not informative (lying does not count)"),
    ]
    axs[0].legend(handles=handles, title="network")
    for ax, m in zip(axs[1:], panels[1:]):
        base, ref, ref_name = (("signal_accuracy", 0.5, "chance (0.5)")
                               if m == "belief_accuracy_final"
                               else ("signal_brier", 0.25, "coin flip (0.25)"))
        _sweep_panel(ax, summ, m, nets, colours)
        for net in _has(summ, base, nets):
            d = _cells(summ, net, base)
            ax.plot(d.conformity, d.value, ls="--", lw=1.2, color=colours[net],
                    gid=f"{net}:baseline")
        ax.axhline(ref, color="0.4", ls=":", lw=1, gid="reference")
        ax.set_title(f"{_cap(metric_name(m))} against the own signal")
        ax.legend(handles=[Line2D([], [], color="0.3", label="belief head"),
                           Line2D([], [], color="0.3", ls="--",
                                  label=f"{metric_name(base)} (baseline)"),
                           Line2D([], [], color="0.4", ls=":", label=ref_name)])
    for ax, letter in zip(axs, "abc"):
        panel_label(ax, letter)
    fig.suptitle("Lying against conformity, beside the quality of the beliefs it is measured "
                 f"against ({_level(ci)} seed-level bands; dashed: own-signal baselines)",
                 fontsize=10)
    return fig


def _fig_camp(table: pd.DataFrame, summ: pd.DataFrame, colours: Mapping[str, Any],
              n_boot: int, ci: float, seed: int | None, method: str = "t") -> Figure | str:
    kinds = summ.drop_duplicates("network").set_index("network")["kind"].to_dict()
    social = [n for n in _has(summ, "accuracy_final") if kinds[n] == "social"]
    camps = [n for n in _has(summ, "accuracy_final") if kinds[n] == "camp"]
    if not social or not camps:
        return f"no {'camp' if not camps else 'social network'} with accuracy_final in the table"
    nets = social + camps
    metrics = ["accuracy_final"] + (["agreement_final"] if _has(summ, "agreement_final", nets)
                                    else [])
    common = sorted(set.intersection(*(set(_cells(summ, n, "accuracy_final").alpha)
                                       for n in nets)))
    if len(common) < 2:
        return "the social networks and camps share fewer than two alphas"
    ref = common[-1]
    fig, axs = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.6),
                            layout="constrained", squeeze=False)
    axs = list(axs[0])
    for ax, m, letter in zip(axs, metrics, "ab"):
        for net in nets:
            alphas = [a for a in common if a in set(_cells(summ, net, m).alpha)]
            if ref not in alphas:
                continue
            rows = [contrast(table, m, [(1.0, net, a), (-1.0, net, ref)], method=method,
                             n_boot=n_boot, ci=ci, seed=seed) for a in alphas]
            x = 1.0 - np.asarray(alphas)
            order = np.argsort(x)
            _line_band(ax, net, x[order], np.array([r.estimate for r in rows])[order],
                       np.array([r.ci_low for r in rows])[order],
                       np.array([r.ci_high for r in rows])[order], colours[net],
                       ls="-" if kinds[net] == "social" else "--",
                       label=f"{net} ({kinds[net]})")
        ax.axhline(0.0, color="0.4", lw=1, ls=":", gid="zero")
        ax.set_xlabel(CONFORMITY_LABEL)
        ax.set_ylabel(_wrap(f"change in {metric_label(m)}"))
        ax.set_title(f"{_cap(metric_name(m))}: change from α = {ref:g}")
        panel_label(ax, letter)
    axs[0].legend(title="network")
    fig.suptitle(f"Social network against camp: change relative to α = {ref:g} "
                 f"({_level(ci)} seed-level bands)", fontsize=10)
    return fig


def _fit_baselines(fit: AttentionFit) -> dict[str, tuple[float, float, float]]:
    t = fit.table_[fit.table_.metric == "spearman"]
    out = {}
    for b in ("uniform", "popularity"):
        r = t[t.model == b]
        if len(r):
            out[b] = (float(r.value.iloc[0]), float(r.ci_low.iloc[0]), float(r.ci_high.iloc[0]))
    return out


def _fig_attention(table: pd.DataFrame, summ: pd.DataFrame, colours: Mapping[str, Any],
                   fits: Mapping[str, AttentionFit], ci: float) -> Figure | str:
    nets = _has(summ, "attention_spearman")
    nets += [n for n in fits if n not in nets]
    if not nets:
        return "no attention_spearman rows and no attention fit (no network with human weights)"
    fig, ax = plt.subplots(figsize=(5.2, 3.8), layout="constrained")
    styles = {"uniform": "--", "popularity": ":"}
    for net in nets:
        colour = colours.get(net, "0.2")
        d = _cells(summ, net, "attention_spearman")
        fit = fits.get(net)
        if d.empty and fit is not None and fit.alpha_table_ is not None:
            d = fit.alpha_table_[fit.alpha_table_.metric == "spearman"].assign(
                conformity=lambda x: 1.0 - x.alpha).sort_values("conformity")
        if d.empty:
            continue
        x, y = d.conformity.to_numpy(float), d.value.to_numpy(float)
        _line_band(ax, net, x, y, d.ci_low.to_numpy(float), d.ci_high.to_numpy(float), colour,
                   bounds=metric_range("attention_spearman"))
        best = (float(fit.best_alpha_) if fit is not None and fit.best_alpha_ is not None
                else float(d.alpha.iloc[int(np.nanargmax(y))]))
        ax.plot([1.0 - best], [y[np.isclose(d.alpha, best)][0]], ls="none", marker="*",
                ms=11, color=colour, mec="black", mew=0.5, zorder=5, gid=f"{net}:best")
        if fit is not None:
            base = _fit_baselines(fit)
        else:
            base = {}
            for b in styles:
                r = table[(table.network == net) & (table.metric == f"attention_spearman_{b}")]
                if len(r):
                    base[b] = (float(r.value.mean()), float(r.ci_low.mean()),
                               float(r.ci_high.mean()))
        for b, (v, lo, hi) in base.items():
            ax.axhline(v, color=colour, ls=styles[b], lw=1.2, gid=f"{net}:{b}")
            if np.isfinite(lo) and np.isfinite(hi):
                ax.axhspan(lo, hi, color=colour, alpha=0.08, lw=0, gid=f"{net}:{b}-interval")
    ax.set_xlabel(CONFORMITY_LABEL)
    ax.set_ylabel(_wrap(metric_label("attention_spearman")))
    ax.set_title("Learned attention against human importance")
    handles = [Line2D([], [], color=colours.get(n, "0.2"), label=n) for n in nets] + [
        Line2D([], [], color="0.3", ls="--", label="uniform attention (baseline)"),
        Line2D([], [], color="0.3", ls=":", label="popularity attention (baseline)"),
        Line2D([], [], ls="none", marker="*", ms=9, color="0.3", label="best alpha"),
    ]
    ax.legend(handles=handles, title="network", loc="best")
    panel_label(ax, "a")
    fig.suptitle(f"Attention vs human like-weights ({_level(ci)} seed-level bands)",
                 fontsize=10)
    return fig


# ---------------------------------------------------------------------------- public
def paper_figures(
    table: pd.DataFrame,
    fits: Mapping[str, AttentionFit] | None = None,
    *,
    method: str = "t",
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int | None = 0,
) -> FigureSet:
    """The paper's four figures from a sweep's tidy table (see the module docstring).

    Parameters
    ----------
    table : DataFrame
        One row per ``network, alpha, seed, metric`` (see
        :func:`socialmarl.analysis.seeds.seed_summary`).
    fits : dict of str to AttentionFit, optional
        A fitted attention fit per network with human weights (baselines' intervals, the
        best alpha; the learned line when the table has no ``attention_spearman`` rows).
    method : {"t", "bootstrap"}
        The seed-level interval behind every band: Student-t over seeds (default) or the
        percentile bootstrap (too narrow with few seeds; module docstring).
    n_boot, ci, seed
        Bootstrap replicates (``method="bootstrap"`` only), level of the bands, bootstrap
        seed (``method="bootstrap"`` only).

    Returns
    -------
    FigureSet
        ``{name: Figure}`` for the names of :data:`FIGURE_NAMES` that could be drawn;
        ``.skipped`` maps the others to the reason (also warned as :class:`FigureSkipped`).

    Examples
    --------
    >>> import warnings
    >>> rows = [dict(network="bsky", kind="social", alpha=a, seed=s, metric="accuracy_final",
    ...              value=0.5 + 0.3 * a + 0.02 * s) for a in (0.0, 0.5, 1.0) for s in range(3)]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FigureSkipped)
    ...     figs = paper_figures(pd.DataFrame(rows))
    >>> list(figs), sorted(figs.skipped)
    (['accuracy_conformity'], ['attention_conformity', 'lying_conformity', 'social_vs_camp'])
    >>> figs["accuracy_conformity"].axes[0].get_ylabel()
    'final accuracy (share of agents right)'
    >>> plt.close("all")
    """
    fits = dict(fits or {})
    t = _prepare(table)
    summ = seed_summary(t, method=method, n_boot=n_boot, ci=ci, seed=seed)
    colours = network_colours(list(dict.fromkeys(t.network)) + list(fits))
    out = FigureSet()
    with style_context():
        made = {
            "accuracy_conformity": lambda: _fig_accuracy(summ, colours, ci),
            "lying_conformity": lambda: _fig_lying(summ, colours, ci),
            "social_vs_camp": lambda: _fig_camp(t, summ, colours, n_boot, ci, seed, method),
            "attention_conformity": lambda: _fig_attention(t, summ, colours, fits, ci),
        }
        for name in FIGURE_NAMES:
            res = made[name]()
            if isinstance(res, str):
                out.skipped[name] = res
                warnings.warn(f"figure {name!r} skipped: {res}", FigureSkipped, stacklevel=2)
            else:
                out[name] = res
    return out


def save_paper_figures(
    table: pd.DataFrame,
    out_dir: str | os.PathLike,
    fits: Mapping[str, AttentionFit] | None = None,
    *,
    formats: Sequence[str] = ("png", "svg"),
    overwrite: bool = False,
    method: str = "t",
    n_boot: int = 2000,
    ci: float = 0.95,
    seed: int | None = 0,
) -> list[Path]:
    """Draw :func:`paper_figures` and save each as ``out_dir/<name>.png`` and ``.svg``.

    Existing files are refused (:class:`FileExistsError`, before anything is drawn or
    written) unless ``overwrite``. Skipped figures are warned (:class:`FigureSkipped`).
    The figures are closed after saving. ``method``, ``n_boot``, ``ci`` and ``seed`` go to
    :func:`paper_figures` (default: Student-t bands over seeds).

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import tempfile, warnings
    >>> rows = [dict(network="bsky", kind="social", alpha=a, seed=s, metric="accuracy_final",
    ...              value=0.5 + 0.3 * a + 0.02 * s) for a in (0.0, 1.0) for s in range(3)]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", FigureSkipped)
    ...     paths = save_paper_figures(pd.DataFrame(rows), tempfile.mkdtemp())
    >>> [p.name for p in paths]
    ['accuracy_conformity.png', 'accuracy_conformity.svg']
    """
    out = Path(out_dir)
    fmts = [formats] if isinstance(formats, str) else list(formats)
    if not overwrite:
        clash = [out / f"{n}.{f}" for n in FIGURE_NAMES for f in fmts
                 if (out / f"{n}.{f}").exists()]
        if clash:
            raise FileExistsError(
                f"{', '.join(p.name for p in clash)} already in {out}; pass overwrite=True "
                "to replace them"
            )
    figs = paper_figures(table, fits, method=method, n_boot=n_boot, ci=ci, seed=seed)
    written: list[Path] = []
    try:
        for name, fig in figs.items():
            written += save_figure(fig, out / name, formats=fmts, overwrite=overwrite)
    finally:
        for fig in figs.values():
            plt.close(fig)
    return written
