"""Social networks: the one Graph type and everything that makes or reads one.

* :mod:`.graph` -- :class:`Graph` (edges ``(sender j, receiver i)``: ``i`` observes ``j``);
* :mod:`.generators` -- synthetic graphs (ring, Barabasi-Albert, social graphs, ...);
* :mod:`.stats` -- network statistics (degrees, clustering, assortativity, communities);
* :mod:`.dynamic` -- the camp interaction process (:class:`CampProcess`: who interacts
  with whom, step by step);
* :mod:`.dynamic_fit` -- its estimator from observed daily interactions
  (:func:`estimate_markov_interaction`, :class:`MarkovFit`);
* :mod:`.network` -- :class:`Network`: a graph with its camp process and its origin;
* :mod:`.loaders` -- readers for files and published data sets (Congress Twitter, BaYaka,
  Hadza, Bluesky dumps);
* :mod:`.bluesky` -- the Bluesky client, crawler, like weights, pseudonyms and crawl
  format;
* :mod:`.bundled` -- the small synthetic data sets that ship with socialmarl;
* :mod:`.resolve` -- :func:`load_network`, one name or path to a network.

Layer: uses :mod:`socialmarl.common` only. The graph, generators and dynamic process are
imported with the package; the rest on first use.
"""

from ..common.lazy import lazy_names
from .dynamic import CampProcess, MarkovInteraction, markov_step_probabilities
from .generators import (
    SOCIAL_GRAPHS,
    barabasi_albert_graph,
    complete_graph,
    erdos_renyi_graph,
    karate_club,
    ring_graph,
    social_graph,
    stochastic_block_graph,
    watts_strogatz_graph,
)
from .graph import Graph

__all__ = [
    "Graph", "CampProcess", "MarkovInteraction", "markov_step_probabilities", "SOCIAL_GRAPHS",
    "barabasi_albert_graph", "complete_graph", "erdos_renyi_graph", "karate_club",
    "ring_graph", "social_graph", "stochastic_block_graph", "watts_strogatz_graph",
]
__getattr__, __dir__, _lazy = lazy_names(__name__, {
    ".loaders": ("load_edgelist", "load_csv_edges", "load_graphml", "human_attention_weights",
                 "load_congress_twitter", "congress_human_attention",
                 "download_congress_twitter", "load_hadza_proximity", "camp_interaction_q",
                 "load_bayaka", "load_bayaka_daily", "bayaka_daily_snapshots",
                 "bayaka_pair_covariates", "DailyInteractions", "load_bluesky_dump"),
    ".dynamic_fit": ("MarkovFit", "estimate_markov_interaction"),
    ".bundled": ("load_bluesky_sample", "load_bluesky_sample_crawl", "load_camp_sample",
                 "bluesky_crawl_cache", "bundled_data_dir", "real_data_dir"),
    ".resolve": ("load_network",),
    ".network": ("Network",),
    ".pieces": ("bfs_subgraph",),
    ".stats": ("network_summary", "degree_table", "degree_distribution", "reciprocity",
               "average_clustering", "degree_assortativity", "attribute_assortativity",
               "path_lengths", "communities"),
})
__all__ += _lazy
