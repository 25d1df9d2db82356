"""Classic opinion-dynamics rules on the same Graph, device and scores as the game.

Every rule works on a batch of ``R`` replicas, opinions shaped ``(R, N)`` on any torch
device, with no Python loop over agents or edges:

=====================  ==========  ==============  ==========================================
name (``RULES`` key)   class       opinions        update
=====================  ==========  ==============  ==========================================
``voter``              Voter       {0, 1}          async (or sync) copy a random in-neighbour
``qvoter``             QVoter      {0, 1}          async unanimous q-panel + noise
``majority``           MajorityRule {0, 1}         sync local majority, tie rule
``sznajd``             Sznajd      {0, 1}          async agreeing pair convinces its audience
``degroot``            DeGroot     real            sync ``x <- W x``
``friedkin_johnsen``   FriedkinJohnsen real        sync ``x <- S x0 + (I - S) W x``
``deffuant``           Deffuant    real            async bounded-confidence pairs
``hk``                 HegselmannKrause real       sync bounded-confidence averaging
``truth_seeking``      TruthSeeking {0, 1}         sync private signal + neighbours' guesses
=====================  ==========  ==============  ==========================================

:func:`simulate` returns trajectories ``(R, T + 1, N)``; :func:`score_opinions` scores them
like the game (accuracy against the truth, agreement across edges); :func:`to_guess` maps
continuous opinions to guesses. An asynchronous *step* is ``N`` micro-steps per replica,
run exactly by :mod:`socialmarl.rules.engines`. Every rule takes its random numbers from
:meth:`Rule.draw`, so a step is a deterministic function of them.

Examples
--------
>>> from socialmarl.rules import RULES, simulate, score_opinions
>>> from socialmarl.networks.generators import barabasi_albert_graph
>>> g = barabasi_albert_graph(50, 2, seed=0)
>>> traj = simulate(RULES["voter"](), g, steps=10, replicas=4, seed=0)
>>> score_opinions(traj, g)["agreement"].shape
torch.Size([4, 11])
"""

from .base import Rule, RuleContext, check_opinions, pick_in_neighbour, to_guess
from .continuous import Deffuant, DeGroot, FriedkinJohnsen, HegselmannKrause, influence_weights
from .discrete import MajorityRule, QVoter, Sznajd, Voter
from .engines import ENGINES, run_micro_steps
from .simulate import RULES, make_rule, score_opinions, simulate
from .truth import TruthSeeking

__all__ = [
    "RULES",
    "ENGINES",
    "Rule",
    "RuleContext",
    "Voter",
    "QVoter",
    "MajorityRule",
    "Sznajd",
    "DeGroot",
    "FriedkinJohnsen",
    "Deffuant",
    "HegselmannKrause",
    "TruthSeeking",
    "simulate",
    "score_opinions",
    "make_rule",
    "to_guess",
    "influence_weights",
    "pick_in_neighbour",
    "check_opinions",
    "run_micro_steps",
]
