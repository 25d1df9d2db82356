"""Graphs: the one Graph type, generators and the dynamic camp interaction process."""

from .dynamic import MarkovInteraction, markov_step_probabilities
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
]
