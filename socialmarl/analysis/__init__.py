"""Measuring trained populations: evaluation records, metrics, attention fits, Nash checks, plots.

* :mod:`.evaluation` -- :func:`evaluate` / :func:`evaluate_run` roll populations out into an
  :class:`EvalRecord`;
* :mod:`.metrics` -- tidy tables of accuracy, agreement, polarisation, lying... with
  bootstrap intervals;
* :mod:`.importance` -- :class:`AttentionFit`, learned attention against human importance;
* :mod:`.nash` -- :func:`local_nash`, can a few agents gain by deviating?
* :mod:`.plots` -- figures (matplotlib, imported on first use);
* :mod:`.style` -- the one style of every figure: labels in words with units, colours,
  saving to PNG and SVG;
* :mod:`.seeds` -- seed-level intervals and contrasts of a sweep's tidy table;
* :mod:`.claims` -- the paper's four claims judged from those intervals;
* :mod:`.paper_figures` -- one figure per claim.

Layer: uses every layer below (common, networks, game, learning).
"""

from ..common.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    ".evaluation": ("EvalRecord", "evaluate", "evaluate_run"),
    ".metrics": ("summarise", "episode_metrics", "over_steps", "sweep_table", "bootstrap_ci",
                 "concat_runs"),
    ".importance": ("AttentionFit",),
    ".nash": ("local_nash", "NashResult", "MixedPolicy"),
    ".style": ("save_figure", "metric_label", "network_colours", "style_context"),
    ".seeds": ("seed_summary", "contrast", "alpha_contrast", "difference_in_differences",
               "Contrast"),
    ".claims": ("assess_claims", "claims_text", "Claim", "informative_beliefs"),
    ".paper_figures": ("paper_figures", "save_paper_figures", "FigureSet", "FigureSkipped"),
})
