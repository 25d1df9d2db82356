"""The consensus and truth-finding game: rules, observations, measures, hand-written players.

* :mod:`.game` -- :class:`ConsensusGame` (``B`` batched environments on one graph) and its
  :class:`GameConfig`;
* :mod:`.observation` -- what agents see, action codes and other-play frames;
* :mod:`.measures` -- every measure of stated opinions, defined once for the package
  (the game's info, evaluation, metrics and the rules' scores all use it);
* :mod:`.strategies` -- hand-written strategies (baselines, teaching).

Layer: uses :mod:`socialmarl.common` and :mod:`socialmarl.networks` only.
"""

from .game import ConsensusGame, GameConfig, StepResult
from .observation import GUESS_0, GUESS_1, NO_EDGE, WAIT, Observation, flip_codes, to_env_actions

__all__ = ["ConsensusGame", "GameConfig", "StepResult", "Observation", "GUESS_0", "GUESS_1",
           "WAIT", "NO_EDGE", "flip_codes", "to_env_actions"]
