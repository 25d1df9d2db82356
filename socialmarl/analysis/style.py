"""One look for every figure of socialmarl: labels in words, colours per network, saving.

Every plot of :mod:`socialmarl.analysis.plots` and :mod:`socialmarl.analysis.paper_figures`
draws inside :func:`style_context` and names its axes with :func:`metric_label`, so all
figures share fonts, spines, grid and palette and no axis shows a raw column name.

* :data:`METRIC_LABELS` -- for each metric column, a short name (titles, legends) and a
  full axis label with its unit, e.g. ``accuracy_final`` is "final accuracy (share of
  agents right)"; :func:`metric_label` falls back to the name in words (underscores as
  spaces) for a metric it does not know;
* :data:`CONFORMITY_LABEL` -- the x axis of every sweep: conformity ``1 - alpha``;
* :func:`network_colours` -- a colour per network from the colour-blind palette, stable by
  order (the ``k``-th network always gets the ``k``-th colour);
* :func:`style_context` -- the matplotlib rc settings as a context manager;
* :func:`panel_label` -- the bold panel letter (a, b, c...) at the top left of an Axes;
* :func:`save_figure` -- writes a figure as PNG and SVG (or other formats) atomically
  through :mod:`socialmarl.common.files`, refusing to replace existing files unless asked.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import seaborn as sns
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..common.files import atomic_write_bytes

__all__ = [
    "METRIC_LABELS",
    "metric_range",
    "CONFORMITY_LABEL",
    "PALETTE",
    "RC",
    "metric_label",
    "metric_name",
    "network_colours",
    "style_context",
    "panel_label",
    "save_figure",
]

_SHARE_RIGHT = "share of agents right"
_SHARE_AGREE = "share of edges agreeing"
_SPEARMAN = "Spearman correlation with human weights"

#: metric -> (short name for titles and legends, full axis label with its unit)
METRIC_LABELS: dict[str, tuple[str, str]] = {
    "accuracy": ("accuracy", f"accuracy ({_SHARE_RIGHT})"),
    "accuracy_final": ("final accuracy", f"final accuracy ({_SHARE_RIGHT})"),
    "accuracy_mean": ("mean accuracy", f"accuracy, mean over steps ({_SHARE_RIGHT})"),
    "agreement": ("agreement", f"agreement ({_SHARE_AGREE})"),
    "agreement_final": ("final agreement", f"final agreement ({_SHARE_AGREE})"),
    "agreement_mean": ("mean agreement", f"agreement, mean over steps ({_SHARE_AGREE})"),
    "edge_disagreement": ("edges in disagreement", "edges in disagreement (share)"),
    "edge_disagreement_final": ("edges in disagreement", "edges in disagreement (share)"),
    "entropy": ("opinion entropy", "entropy of guesses (bits)"),
    "entropy_mean": ("opinion entropy", "entropy of guesses, mean over steps (bits)"),
    "entropy_final": ("final opinion entropy", "final entropy of guesses (bits)"),
    "wait_rate": ("waiting", "waiting (share of agent-steps)"),
    "consensus_reached": ("consensus reached", "consensus reached (share of episodes)"),
    "consensus_time": ("time to consensus", "time to consensus (steps)"),
    "opinion_bimodality": ("opinion bimodality", "opinion bimodality (coefficient, 0-1)"),
    "group_variance": ("between-group variance",
                       "between-group variance of opinions (0-0.25)"),
    "group_variance_final": ("between-group variance",
                             "final between-group variance of opinions (0-0.25)"),
    "group_bimodality_final": ("group bimodality",
                               "final bimodality of group opinions (coefficient, 0-1)"),
    "group_gap_final": ("gap between groups", "final gap between group opinions (0-1)"),
    "cross_disagreement_final": ("cross-group disagreement",
                                 "cross-group edges in disagreement (share)"),
    "within_disagreement_final": ("within-group disagreement",
                                  "within-group edges in disagreement (share)"),
    "lying_rate": ("lying rate", "lying rate (share of guesses against own belief)"),
    "ever_lied": ("agents who ever lied", "agents who ever lied (share)"),
    "mean_return": ("mean return", "mean return (reward per agent-step)"),
    "signal_accuracy": ("own-signal accuracy",
                        "own-signal accuracy (share of agents whose signal is right)"),
    "belief_accuracy_mean": ("belief accuracy",
                             "belief accuracy (share of beliefs leaning to the truth)"),
    "belief_accuracy_final": ("final belief accuracy",
                              "final belief accuracy (share of beliefs leaning to the truth)"),
    "belief_brier_final": ("final belief Brier score",
                           "final belief Brier score (squared error; 0.25 = coin flip)"),
    "signal_brier": ("own-signal Brier score",
                     "own-signal Brier score (squared error; 0.25 = coin flip)"),
    "attention_spearman": ("learned attention", _SPEARMAN),
    "attention_spearman_uniform": ("uniform attention", _SPEARMAN),
    "attention_spearman_popularity": ("popularity attention", _SPEARMAN),
    "spearman": ("attention against human weights", _SPEARMAN),
    "js_divergence": ("divergence from human weights",
                      "Jensen-Shannon divergence from human weights (bits)"),
    "in_importance_spearman": ("attention received against human",
                               "Spearman correlation of attention received with human"),
}

#: the x axis of every sweep figure
CONFORMITY_LABEL = "conformity 1 - α"

#: the colour-blind palette every figure draws from (seaborn's "colorblind")
PALETTE: list[tuple[float, float, float]] = [tuple(c) for c in sns.color_palette("colorblind")]

#: matplotlib rc settings of every socialmarl figure (see :func:`style_context`)
RC: dict[str, Any] = {
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "lines.linewidth": 1.6,
    "lines.markersize": 4.0,
    "axes.prop_cycle": cycler(color=PALETTE),
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "svg.fonttype": "none",  # text stays text in SVG: searchable, editable
    "svg.hashsalt": "socialmarl",  # reproducible ids in SVG files
}


def _words(name: str) -> str:
    return str(name).replace("_", " ")


def metric_name(metric: str) -> str:
    """The short name of a metric in words, for titles and legends.

    Examples
    --------
    >>> metric_name("accuracy_final"), metric_name("my_new_metric")
    ('final accuracy', 'my new metric')
    """
    lab = METRIC_LABELS.get(str(metric))
    return lab[0] if lab else _words(metric)


#: metrics that are not shares in [0, 1]: their natural range (None: unbounded)
_RANGES = {"mean_return": None, "consensus_time": (0.0, None), "opinion_bimodality": None,
           "group_bimodality_final": None}


def metric_range(metric: str) -> tuple[float | None, float | None]:
    """The values a metric can take: ``(0, 1)`` for shares and Brier scores, ``(-1, 1)`` for
    correlations, ``(None, None)`` when unbounded. Figures clip interval bands to it (a
    t interval over few seeds can reach past a share's 0 or 1; the numbers are not clipped).

    Examples
    --------
    >>> metric_range("lying_rate"), metric_range("attention_spearman"), metric_range("mean_return")
    ((0.0, 1.0), (-1.0, 1.0), (None, None))
    """
    if metric.startswith("attention_spearman") or metric.endswith("correlation"):
        return (-1.0, 1.0)
    if metric in _RANGES:
        r = _RANGES[metric]
        return (None, None) if r is None else r
    if metric in METRIC_LABELS or metric.startswith(("accuracy", "agreement", "belief_",
                                                     "signal_", "lying", "wait")):
        return (0.0, 1.0)
    return (None, None)


def metric_label(metric: str) -> str:
    """The axis label of a metric: its name in words with its unit.

    Unknown metrics fall back to the name with underscores as spaces, so no axis ever
    shows a raw column name.

    Examples
    --------
    >>> metric_label("accuracy_final")
    'final accuracy (share of agents right)'
    >>> metric_label("lying_rate")
    'lying rate (share of guesses against own belief)'
    >>> metric_label("group_gap_x")
    'group gap x'
    """
    lab = METRIC_LABELS.get(str(metric))
    return lab[1] if lab else _words(metric)


def network_colours(networks: Iterable[Any]) -> dict[Any, tuple[float, float, float]]:
    """A colour per network, in order of first appearance (the palette repeats after 10).

    Examples
    --------
    >>> c = network_colours(["bluesky-like", "camp", "bluesky-like"])
    >>> list(c), c["camp"] == PALETTE[1]
    (['bluesky-like', 'camp'], True)
    """
    names = list(dict.fromkeys(networks))
    return {n: PALETTE[k % len(PALETTE)] for k, n in enumerate(names)}


def style_context() -> AbstractContextManager:
    """A context manager setting :data:`RC`: draw (and save) figures inside it.

    Examples
    --------
    >>> with style_context():
    ...     fig, ax = plt.subplots()
    >>> ax.spines["top"].get_visible()
    False
    >>> plt.close(fig)
    """
    return plt.rc_context(RC)


def panel_label(ax: Axes, letter: str) -> None:
    """Write a bold panel letter (``"a"``, ``"b"``...) above the top left corner of ``ax``.

    The text has gid ``"panel-label"``.

    Examples
    --------
    >>> fig, ax = plt.subplots()
    >>> panel_label(ax, "a")
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "panel-label"]
    ['a']
    >>> plt.close(fig)
    """
    ax.text(-0.02, 1.02, letter, transform=ax.transAxes, ha="right", va="bottom",
            fontweight="bold", fontsize=11, gid="panel-label")


def save_figure(
    fig: Figure,
    stem: str | os.PathLike,
    formats: Sequence[str] = ("png", "svg"),
    overwrite: bool = False,
    *,
    dpi: float | None = None,
) -> list[Path]:
    """Save ``fig`` as ``stem.png``, ``stem.svg``..., each file written atomically.

    Parameters
    ----------
    fig : Figure
    stem : str or PathLike
        Path without extension; missing folders are created.
    formats : sequence of str
        File formats (extensions) matplotlib can write, e.g. ``("png", "svg", "pdf")``.
    overwrite : bool
        Replace existing files. Without it an existing target raises
        :class:`FileExistsError` before any file is written.
    dpi : float, optional
        Resolution of raster formats (default :data:`RC`'s ``savefig.dpi``).

    Returns
    -------
    list of Path
        The files written, in the order of ``formats``.

    Notes
    -----
    Each format is rendered to memory and written with
    :func:`socialmarl.common.files.atomic_write_bytes`, so a crash never leaves half a
    file. The check for existing files and the writes are not one atomic step: two
    processes saving the same stem at once may both write (the last one wins, whole).
    SVG and PNG carry no date, so saving the same figure twice gives the same bytes.

    Examples
    --------
    >>> import tempfile
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> stem = Path(tempfile.mkdtemp()) / "fig"
    >>> [p.name for p in save_figure(fig, stem)]
    ['fig.png', 'fig.svg']
    >>> save_figure(fig, stem)
    Traceback (most recent call last):
    ...
    FileExistsError: fig.png, fig.svg already exist in ...; pass overwrite=True to replace them
    >>> plt.close(fig)
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    fmts = [str(f).lower().lstrip(".") for f in ([formats] if isinstance(formats, str)
                                                 else formats)]
    if not fmts:
        raise ValueError("formats is empty; give at least one, e.g. ('png', 'svg')")
    supported = fig.canvas.get_supported_filetypes()
    bad = [f for f in fmts if f not in supported]
    if bad:
        raise ValueError(f"formats {bad} cannot be written; choose from {sorted(supported)}")
    stem = Path(stem)
    paths = [stem.with_name(f"{stem.name}.{f}") for f in dict.fromkeys(fmts)]
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{', '.join(p.name for p in existing)} already exist"
            f"{'s' if len(existing) == 1 else ''} in {stem.parent}; pass overwrite=True to "
            "replace them"
        )
    meta = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}
    blobs = []
    with style_context():
        for p in paths:
            fmt = p.suffix[1:]
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, dpi=dpi if dpi is not None else RC["savefig.dpi"],
                        bbox_inches="tight", metadata=meta.get(fmt))
            blobs.append(buf.getvalue())
    return [atomic_write_bytes(p, b) for p, b in zip(paths, blobs)]
