"""Measuring trained populations: evaluation records, metrics, attention fits, Nash checks, plots.

* :mod:`.evaluation` -- :func:`evaluate` / :func:`evaluate_run` roll populations out into an
  :class:`EvalRecord`;
* :mod:`.metrics` -- tidy tables of accuracy, agreement, polarisation, lying... with
  bootstrap intervals;
* :mod:`.importance` -- :class:`AttentionFit`, learned attention against human importance;
* :mod:`.nash` -- :func:`local_nash`, can a few agents gain by deviating?
* :mod:`.plots` -- figures (matplotlib, imported on first use).

Layer: uses every layer below (common, networks, game, learning).
"""

from ..common.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    ".evaluation": ("EvalRecord", "evaluate", "evaluate_run"),
    ".metrics": ("summarise", "episode_metrics", "over_steps", "sweep_table", "bootstrap_ci",
                 "concat_runs"),
    ".importance": ("AttentionFit",),
    ".nash": ("local_nash", "NashResult", "MixedPolicy"),
})
