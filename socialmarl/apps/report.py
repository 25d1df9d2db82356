"""The report of a sweep: the paper's figures and ``summary.txt``, from the tidy table.

:func:`write_report` draws one figure per claim
(:func:`socialmarl.analysis.paper_figures.paper_figures`, PNG and SVG), judges the claims
(:func:`socialmarl.analysis.claims.assess_claims`) and writes ``summary.txt``: each claim
with its verdict and numbers, the belief heads' quality beside every lying rate, and a
table of seed means with their seed-level intervals. Both ``socialmarl reproduce`` and
``socialmarl sweep`` call it. The figures and the summary are derived from the table, so
a sweep continued in the same folder draws them again from its whole table.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..analysis.claims import assess_claims, claims_text
from ..analysis.importance import AttentionFit
from ..analysis.paper_figures import FIGURE_NAMES, FigureSkipped, paper_figures
from ..analysis.seeds import seed_summary
from ..analysis.style import save_figure
from ..common.files import atomic_write_text

__all__ = ["write_report", "FIGURE_FILES", "SUMMARY_METRICS"]

#: every figure file a report may write, in the order of the claims
FIGURE_FILES = tuple(f"{name}.{ext}" for name in FIGURE_NAMES for ext in ("png", "svg"))

#: the columns of the summary's table of seed means
SUMMARY_METRICS = {
    "accuracy_final": "accuracy",
    "lying_rate": "lying",
    "belief_accuracy_final": "belief acc",
    "signal_accuracy": "signal acc",
    "belief_brier_final": "belief Brier",
    "signal_brier": "signal Brier",
    "agreement_final": "agreement",
    "attention_spearman": "attn rho",
}


def _means_table(summary: pd.DataFrame) -> str:
    """Seed means [interval] per network and alpha, a column per summary metric."""
    lines = []
    metrics = [m for m in SUMMARY_METRICS if m in set(summary.metric)]
    for net, d in summary.groupby("network", sort=False):
        n_seeds = int(d[d.metric == "accuracy_final"].n_seeds.max()) if (
            d.metric == "accuracy_final").any() else int(d.n_seeds.max())
        lines.append(f"{net} ({d.kind.iloc[0]}; {n_seeds} seeds per alpha; mean over seeds "
                     "[seed-level interval]):")
        head = f"  {'alpha':>5} {'conf':>5}" + "".join(
            f" {SUMMARY_METRICS[m]:>20}" for m in metrics)
        lines.append(head)
        for alpha, da in d.groupby("alpha", sort=True):
            cells = []
            for m in metrics:
                r = da[da.metric == m]
                if r.empty or pd.isna(r.value.iloc[0]):
                    cells.append(f" {'-':>20}")
                    continue
                r = r.iloc[0]
                cells.append(f" {r.value:>6.3f} [{r.ci_low:>5.3f}, {r.ci_high:>5.3f}]"
                             .rjust(21))
            lines.append(f"  {alpha:>5.2f} {1 - alpha:>5.2f}" + "".join(cells))
        lines.append("")
    return "\n".join(lines)


def write_report(
    table: pd.DataFrame,
    fits: Mapping[str, AttentionFit] | None,
    out_dir: str | os.PathLike,
    *,
    title: str = "socialmarl sweep",
    n_boot: int = 2000,
    seed: int = 0,
) -> dict[str, Any]:
    """Draw the paper's figures (PNG and SVG) and write ``summary.txt`` into ``out_dir``.

    Parameters
    ----------
    table : DataFrame
        A sweep's tidy table (:func:`socialmarl.sweeps.sweep.sweep`).
    fits : dict of str to AttentionFit, optional
        The sweep's attention fits per network.
    out_dir : path
        Where to write; the figures and summary of an earlier run of the same sweep are
        replaced (they are drawn from the table).
    title : str
        The summary's first line.
    n_boot, seed
        For the bootstrap parts of the intervals (attention baselines, one-seed cells).

    Returns
    -------
    dict
        ``files`` (names written), ``summary`` (the text), ``claims`` (list of
        :class:`~socialmarl.analysis.claims.Claim`) and ``skipped`` (figure -> reason).

    Examples
    --------
    >>> import tempfile, warnings
    >>> rows = [dict(network="bsky", kind="social", alpha=a, seed=s, metric="accuracy_final",
    ...              value=0.5 + 0.4 * a + 0.01 * s, ci_low=float("nan"),
    ...              ci_high=float("nan"), n=10) for a in (0.0, 1.0) for s in range(3)]
    >>> rep = write_report(pd.DataFrame(rows), None, tempfile.mkdtemp(), n_boot=200)
    >>> rep["files"]
    ['accuracy_conformity.png', 'accuracy_conformity.svg', 'summary.txt']
    >>> rep["claims"][0].verdict
    'supported'
    """
    out = Path(out_dir)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FigureSkipped)  # reported in the summary instead
        figs = paper_figures(table, fits, n_boot=n_boot, seed=seed)
    files: list[str] = []
    try:
        for name, fig in figs.items():
            files += [p.name for p in save_figure(fig, out / name, overwrite=True)]
    finally:
        import matplotlib.pyplot as plt

        for fig in figs.values():
            plt.close(fig)
    claims = assess_claims(table, fits, n_boot=n_boot, seed=seed)
    summary = seed_summary(table, n_boot=n_boot, seed=seed)
    text = [title, "", claims_text(claims).rstrip("\n"), "", _means_table(summary)]
    if figs.skipped:
        text.append("figures not drawn: " + "; ".join(
            f"{k} ({v})" for k, v in figs.skipped.items()))
        text.append("")
    text.append("figures: " + ", ".join(files))
    body = "\n".join(text) + "\n"
    atomic_write_text(out / "summary.txt", body)
    files.append("summary.txt")
    return {"files": files, "summary": body, "claims": claims, "skipped": dict(figs.skipped)}
