"""socialmarl: opinion dynamics learned by deep multi-agent reinforcement learning.

A flat namespace: ``import socialmarl as sm`` then ``sm.Graph``, ``sm.ConsensusGame``,
``sm.barabasi_albert_graph`` and so on.
"""

from .config import atomic_write_text, config_from_dict, config_to_dict, load_json, save_json
from .game import ConsensusGame, GameConfig, StepResult
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
from .observation import GUESS_0, GUESS_1, NO_EDGE, WAIT, Observation, flip_codes, to_env_actions

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "ConsensusGame",
    "GameConfig",
    "StepResult",
    "Observation",
    "GUESS_0",
    "GUESS_1",
    "WAIT",
    "NO_EDGE",
    "flip_codes",
    "to_env_actions",
    "Graph",
    "MarkovInteraction",
    "markov_step_probabilities",
    "SOCIAL_GRAPHS",
    "barabasi_albert_graph",
    "complete_graph",
    "erdos_renyi_graph",
    "karate_club",
    "ring_graph",
    "social_graph",
    "stochastic_block_graph",
    "watts_strogatz_graph",
    "atomic_write_text",
    "config_from_dict",
    "config_to_dict",
    "load_json",
    "save_json",
]
