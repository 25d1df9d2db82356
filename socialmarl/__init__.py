"""socialmarl: opinion dynamics learned by deep multi-agent reinforcement learning.

A flat namespace, networkx-style: ``import socialmarl as sm`` then ``sm.Graph``,
``sm.ConsensusGame``, ``sm.Trainer``, ``sm.load_congress_twitter``, ``sm.summarise`` and so
on. The submodules (``sm.metrics``, ``sm.importance``, ``sm.plots``, ``sm.rules``, ...) hold
the rest; plotting functions (``sm.plot_sweep`` ...) load matplotlib on first use.
"""

from importlib import import_module as _import_module

from . import metrics, networks
from .config import (
    atomic_write_text,
    config_from_dict,
    config_to_dict,
    field_docs,
    load_json,
    save_json,
)
from .cpu_memory import retain_freed_memory
from .datasets import (
    bluesky_crawl_cache,
    bundled_data_dir,
    load_bluesky_sample,
    load_bluesky_sample_crawl,
    load_camp_sample,
    real_data_dir,
)
from .evaluate import EvalRecord, evaluate, evaluate_run
from .game import ConsensusGame, GameConfig, StepResult
from .heuristics import STRATEGIES, always_one, follow_signal, play_episodes, signal_then_majority
from .importance import AttentionFit
from .metrics import episode_metrics, over_steps, summarise, sweep_table
from .networks import (
    SOCIAL_GRAPHS,
    Graph,
    MarkovInteraction,
    barabasi_albert_graph,
    complete_graph,
    erdos_renyi_graph,
    karate_club,
    markov_step_probabilities,
    ring_graph,
    social_graph,
    stochastic_block_graph,
    watts_strogatz_graph,
)
from .networks.atproto_http import CacheMissError
from .networks.bluesky import (
    AccountNotFoundError,
    BlueskyCrawl,
    BlueskyCrawler,
    CrawlConfig,
    CrawlError,
    crawl_bluesky,
    like_weights,
    pseudonymise_crawl,
    read_crawl,
    write_crawl,
)
from .networks.loaders import (
    DailyInteractions,
    MarkovFit,
    bayaka_daily_snapshots,
    bayaka_pair_covariates,
    camp_interaction_q,
    congress_human_attention,
    download_congress_twitter,
    estimate_markov_interaction,
    human_attention_weights,
    load_bayaka,
    load_bayaka_daily,
    load_bluesky_dump,
    load_congress_twitter,
    load_csv_edges,
    load_edgelist,
    load_graphml,
    load_hadza_proximity,
)
from .networks.stats import (
    attribute_assortativity,
    average_clustering,
    communities,
    degree_assortativity,
    degree_distribution,
    degree_table,
    network_summary,
    path_lengths,
    reciprocity,
)
from .observation import GUESS_0, GUESS_1, NO_EDGE, WAIT, Observation, flip_codes, to_env_actions
from .policy import AttentionPolicy, PolicyConfig, PolicyOutput, attention_matrix
from .rules import (
    RULES,
    Deffuant,
    DeGroot,
    FriedkinJohnsen,
    HegselmannKrause,
    MajorityRule,
    QVoter,
    Sznajd,
    TruthSeeking,
    Voter,
    make_rule,
    score_opinions,
    to_guess,
)
from .rules import simulate as simulate_rule
from .smoke import budget, smoke_test
from .train import TrainConfig, Trainer, load_population, train

__version__ = "0.1.0"

_LAZY_PLOTS = (
    "plot_over_steps",
    "plot_sweep",
    "plot_attention_scatter",
    "plot_agent_correlations",
    "plot_attention_heatmap",
    "plot_network_opinions",
    "plot_network_stats",
)


_LAZY_WIDGETS = ("explore_game", "game_explorer")


def __getattr__(name: str):
    """Load matplotlib-backed plotting (and other heavy submodules) on first use."""
    if name in _LAZY_PLOTS:
        return getattr(_import_module(".plots", __name__), name)
    if name in _LAZY_WIDGETS:
        return getattr(_import_module(".widgets", __name__), name)
    if name in ("plots", "cli", "widgets", "nash"):
        return _import_module(f".{name}", __name__)
    raise AttributeError(f"module 'socialmarl' has no attribute {name!r}")


__all__ = [
    "__version__",
    # the game
    "ConsensusGame", "GameConfig", "StepResult", "Observation", "GUESS_0", "GUESS_1", "WAIT",
    "NO_EDGE", "flip_codes", "to_env_actions",
    "STRATEGIES", "always_one", "follow_signal", "play_episodes", "signal_then_majority",
    # graphs
    "Graph", "MarkovInteraction", "markov_step_probabilities", "SOCIAL_GRAPHS",
    "barabasi_albert_graph", "complete_graph", "erdos_renyi_graph", "karate_club", "ring_graph",
    "social_graph", "stochastic_block_graph", "watts_strogatz_graph",
    # real data
    "load_edgelist", "load_csv_edges", "load_graphml", "human_attention_weights",
    "load_congress_twitter", "congress_human_attention", "download_congress_twitter",
    "load_hadza_proximity", "camp_interaction_q", "load_bayaka", "load_bayaka_daily",
    "bayaka_daily_snapshots", "bayaka_pair_covariates", "DailyInteractions", "MarkovFit",
    "estimate_markov_interaction", "load_bluesky_dump",
    "bundled_data_dir", "load_bluesky_sample", "load_bluesky_sample_crawl", "load_camp_sample",
    "real_data_dir", "bluesky_crawl_cache", "CacheMissError",
    "crawl_bluesky", "CrawlConfig", "BlueskyCrawler", "BlueskyCrawl", "read_crawl",
    "write_crawl", "pseudonymise_crawl", "like_weights", "CrawlError", "AccountNotFoundError",
    # network statistics
    "network_summary", "degree_table", "degree_distribution", "reciprocity",
    "average_clustering", "degree_assortativity", "attribute_assortativity", "path_lengths",
    "communities",
    # learning
    "AttentionPolicy", "PolicyConfig", "PolicyOutput", "attention_matrix",
    "Trainer", "TrainConfig", "train", "load_population",
    "EvalRecord", "evaluate", "evaluate_run",
    # analysis
    "metrics", "networks", "summarise", "episode_metrics", "over_steps", "sweep_table",
    "AttentionFit", *_LAZY_PLOTS, *_LAZY_WIDGETS,
    # classic rules
    "RULES", "Voter", "QVoter", "MajorityRule", "Sznajd", "DeGroot", "FriedkinJohnsen",
    "Deffuant", "HegselmannKrause", "TruthSeeking", "make_rule", "score_opinions", "to_guess",
    "simulate_rule",
    # config helpers
    "smoke_test", "budget", "retain_freed_memory", "atomic_write_text", "config_from_dict",
    "config_to_dict",
    "field_docs", "load_json", "save_json",
]
