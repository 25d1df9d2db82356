"""socialmarl: opinion dynamics learned by deep multi-agent reinforcement learning.

A flat namespace, networkx-style: ``import socialmarl as sm`` then ``sm.Graph``,
``sm.ConsensusGame``, ``sm.Trainer``, ``sm.load_congress_twitter``, ``sm.summarise`` and so
on. The sub-packages hold the rest, in layers (``docs/ARCHITECTURE.md``): ``sm.common``,
``sm.networks``, ``sm.game``, ``sm.rules``, ``sm.learning``, ``sm.analysis``, ``sm.sweeps``
and ``sm.apps``;
``sm.metrics``, ``sm.plots``, ``sm.importance`` and ``sm.widgets`` are shortcuts to the
analysis and widget modules. Plumbing (atomic writes, config serialisation, checks) stays in
:mod:`socialmarl.common` and is not part of the flat namespace.

Names are loaded on first use (PEP 562): ``import socialmarl`` itself imports nothing
heavy, and each part (torch for the game and the learners, pandas and scipy for the
analysis, matplotlib for plots, ipywidgets for the widgets, the HTTP stack for the crawler)
is imported when one of its names is first touched. ``dir(sm)`` and tab completion list
every name; :data:`__all__` is the public API.
"""

from __future__ import annotations

from importlib import import_module as _import_module
from typing import Any as _Any

__version__ = "0.1.0"

# public name -> the module that defines it, grouped by part of the package
_PARTS: dict[str, tuple[str, ...]] = {
    # the game (socialmarl.game)
    ".game.game": ("ConsensusGame", "GameConfig", "StepResult"),
    ".game.observation": ("Observation", "GUESS_0", "GUESS_1", "WAIT", "NO_EDGE", "flip_codes",
                          "to_env_actions"),
    ".game.strategies": ("STRATEGIES", "always_one", "follow_signal", "play_episodes",
                         "signal_then_majority"),
    # networks (socialmarl.networks)
    ".networks.graph": ("Graph",),
    ".networks.dynamic": ("CampProcess", "MarkovInteraction"),
    ".networks.dynamic_fit": ("MarkovFit", "estimate_markov_interaction"),
    ".networks.generators": ("SOCIAL_GRAPHS", "barabasi_albert_graph", "complete_graph",
                             "erdos_renyi_graph", "karate_club", "ring_graph", "social_graph",
                             "stochastic_block_graph", "watts_strogatz_graph"),
    ".networks.resolve": ("load_network",),
    ".networks.network": ("Network",),
    ".networks.pieces": ("bfs_subgraph",),
    ".networks.loaders": ("load_edgelist", "load_csv_edges", "load_graphml",
                          "human_attention_weights", "load_congress_twitter",
                          "congress_human_attention", "download_congress_twitter",
                          "load_hadza_proximity", "camp_interaction_q", "load_bayaka",
                          "load_bayaka_daily", "bayaka_daily_snapshots",
                          "bayaka_pair_covariates", "DailyInteractions", "load_bluesky_dump"),
    ".networks.bundled": ("bundled_data_dir", "load_bluesky_sample", "load_bluesky_sample_crawl",
                          "load_camp_sample", "real_data_dir", "bluesky_crawl_cache"),
    ".networks.bluesky.client": ("CacheMissError",),
    ".networks.bluesky.crawler": ("crawl_bluesky", "CrawlConfig", "BlueskyCrawler",
                                  "CrawlError", "AccountNotFoundError"),
    ".networks.bluesky.format": ("BlueskyCrawl", "read_crawl", "write_crawl"),
    ".networks.bluesky.privacy": ("pseudonymise_crawl",),
    ".networks.bluesky.weights": ("like_weights",),
    ".networks.stats": ("network_summary", "degree_table", "degree_distribution",
                        "reciprocity", "average_clustering", "degree_assortativity",
                        "attribute_assortativity", "path_lengths", "communities"),
    # learning (socialmarl.learning)
    ".learning.policy": ("AttentionPolicy", "PolicyConfig", "PolicyOutput", "attention_matrix"),
    ".learning.config": ("TrainConfig",),
    ".learning.trainer": ("Trainer", "train", "load_population", "TrainingDivergedError"),
    ".learning.runs": ("load_run", "Run", "RunExistsError"),
    ".learning.checkpoint": ("CheckpointError",),
    ".learning.cpu_memory": ("retain_freed_memory",),
    # analysis (socialmarl.analysis)
    ".analysis.evaluation": ("EvalRecord", "evaluate", "evaluate_run"),
    ".analysis.metrics": ("summarise", "episode_metrics", "over_steps", "sweep_table",
                          "concat_runs"),
    ".analysis.importance": ("AttentionFit",),
    ".analysis.nash": ("local_nash", "NashResult"),
    ".analysis.plots": ("plot_over_steps", "plot_sweep", "plot_attention_scatter",
                        "plot_agent_correlations", "plot_attention_heatmap",
                        "plot_network_opinions", "plot_network_stats"),
    ".analysis.style": ("save_figure", "metric_label"),
    ".analysis.seeds": ("seed_summary", "alpha_contrast", "difference_in_differences"),
    ".analysis.claims": ("assess_claims", "claims_text", "Claim"),
    ".analysis.paper_figures": ("paper_figures", "save_paper_figures"),
    # applications (socialmarl.apps)
    ".apps.widgets": ("explore_game", "game_explorer"),
    ".apps.reproduce": ("reproduce",),
    ".apps.report": ("write_report",),
    # sweeps (socialmarl.sweeps)
    ".sweeps.sweep": ("sweep", "SweepResult", "SweepError", "read_results"),
    ".sweeps.spec": ("SweepSpec", "load_sweep_spec"),
    # the game for other libraries (socialmarl.adapters; each needs its optional extra)
    ".adapters.torchrl_env": ("ConsensusTorchRLEnv",),
    ".adapters.pettingzoo_env": ("ConsensusParallelEnv",),
    # classic rules (socialmarl.rules)
    ".rules": ("RULES", "Voter", "QVoter", "MajorityRule", "Sznajd", "DeGroot",
               "FriedkinJohnsen", "Deffuant", "HegselmannKrause", "TruthSeeking", "make_rule",
               "score_opinions", "to_guess"),
    # notebooks' budgets, reading saved results, documenting a config
    ".common.smoke": ("smoke_test", "budget"),
    ".common.config_io": ("load_json", "field_docs"),
}
# names that differ from the attribute they stand for: name -> (module, attribute)
_ALIASES: dict[str, tuple[str, str]] = {"simulate_rule": (".rules", "simulate")}
# sub-packages and modules reachable as attributes (``sm.metrics``, ``sm.plots`` ...)
_SUBMODULES: dict[str, str] = {
    "common": ".common", "networks": ".networks", "game": ".game", "rules": ".rules",
    "learning": ".learning", "analysis": ".analysis", "apps": ".apps", "adapters": ".adapters",
    "sweeps": ".sweeps",
    "metrics": ".analysis.metrics", "plots": ".analysis.plots",
    "importance": ".analysis.importance", "widgets": ".apps.widgets",
}

_WHERE: dict[str, tuple[str, str]] = {
    name: (module, name) for module, names in _PARTS.items() for name in names
}
_WHERE.update(_ALIASES)

__all__ = ["__version__", "metrics", "networks", *_WHERE]


def __getattr__(name: str) -> _Any:
    """Import the part of socialmarl that defines ``name`` on first use."""
    if name in _WHERE:
        module, attr = _WHERE[name]
        value = getattr(_import_module(module, __name__), attr)
    elif name in _SUBMODULES:
        value = _import_module(_SUBMODULES[name], __name__)
    else:
        raise AttributeError(f"module 'socialmarl' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
