"""Loaders for real networks, all returning :class:`~socialmarl.networks.graph.Graph`.

Edge convention everywhere: Graph edge ``(sender j, receiver i)`` means "``i`` observes /
attends to ``j``"; each loader's docstring says how its source's rows map onto that and
what its weights mean.

* Plain files (:mod:`.files`): :func:`load_edgelist`, :func:`load_csv_edges`,
  :func:`load_graphml`; :func:`human_attention_weights` normalises weights per attending
  agent.
* US Congress Twitter, Fink et al. 2023 (:mod:`.congress`):
  :func:`load_congress_twitter`, :func:`congress_human_attention`,
  :func:`download_congress_twitter`.
* Hunter-gatherer camps (:mod:`.camps`): Hadza proximity
  (:func:`load_hadza_proximity`), BaYaka co-foraging (:func:`load_bayaka`,
  :func:`load_bayaka_daily`, :func:`bayaka_daily_snapshots`), :func:`camp_interaction_q`.
  The estimator of ``q`` and the switching rate ``r`` from a daily series,
  :func:`estimate_markov_interaction` (:class:`MarkovFit`), lives in
  :mod:`socialmarl.networks.dynamic_fit` and is re-exported here for convenience.
* Bluesky dumps in the Failla & Rossetti format (:mod:`.bluesky_dump`):
  :func:`load_bluesky_dump`.
"""

from __future__ import annotations

from ..dynamic_fit import MarkovFit, estimate_markov_interaction
from .bluesky_dump import load_bluesky_dump
from .camps import (
    DailyInteractions,
    bayaka_daily_snapshots,
    bayaka_pair_covariates,
    camp_interaction_q,
    load_bayaka,
    load_bayaka_daily,
    load_hadza_proximity,
)
from .congress import (
    SNAP_CONGRESS_URL,
    congress_human_attention,
    default_cache_dir,
    download_congress_twitter,
    load_congress_twitter,
)
from .files import human_attention_weights, load_csv_edges, load_edgelist, load_graphml

__all__ = [
    "load_edgelist",
    "load_csv_edges",
    "load_graphml",
    "human_attention_weights",
    "load_congress_twitter",
    "congress_human_attention",
    "download_congress_twitter",
    "default_cache_dir",
    "SNAP_CONGRESS_URL",
    "load_hadza_proximity",
    "camp_interaction_q",
    "load_bayaka",
    "load_bayaka_daily",
    "bayaka_daily_snapshots",
    "bayaka_pair_covariates",
    "DailyInteractions",
    "MarkovFit",
    "estimate_markov_interaction",
    "load_bluesky_dump",
]
