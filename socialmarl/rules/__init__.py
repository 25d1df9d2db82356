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

Layout
------
Imports point one way (``a <- b``: ``b`` imports ``a``); nothing imports back up, not even
inside a function:

``engines <- base <- {discrete, continuous, truth} <- registry <- simulation``

* :mod:`.engines` -- exact batched execution of asynchronous micro-steps (imports no rule);
* :mod:`.base` -- :class:`Rule` (the protocol, and :meth:`Rule.run`, the simulation loop),
  :class:`RuleContext`, parameter checks, :func:`to_guess`;
* :mod:`.discrete`, :mod:`.continuous`, :mod:`.truth` -- the rules (binary, continuous,
  the game's truth seeker);
* :mod:`.registry` -- :data:`RULES` (one line per rule) and :func:`make_rule`;
* :mod:`.simulation` -- :func:`simulate` (a rule or a registry name) and
  :func:`score_opinions`.

Layer: imports only :mod:`socialmarl.common`, :mod:`socialmarl.networks` and
:mod:`socialmarl.game` (tests/test_rules.py checks this and the absence of cycles).

How to add a rule
-----------------
One new file, and one line (with its import) in :mod:`.registry`:

1. Write ``socialmarl/rules/myrule.py`` with a dataclass ``MyRule(Rule)``: class attributes
   ``name`` (its registry key), ``binary`` and ``asynchronous``; :meth:`Rule.draw` (all
   random numbers of one step; omit it for a deterministic rule) and :meth:`Rule.step`;
   optionally :meth:`Rule.initial` and :meth:`Rule.episode`. Give every parameter a
   default (tests build each registered rule as ``cls()``). Import only from :mod:`.base`,
   :mod:`.engines` and the lower layers.
2. In :mod:`.registry`, add ``from .myrule import MyRule`` and the line
   ``MyRule.name: MyRule,`` to :data:`RULES`.

``make_rule("myrule", ...)``, ``simulate("myrule", ...)``, ``MyRule(...).run(...)`` and
every loop over :data:`RULES` (tests, notebooks) then see it. Exporting it here, or in
the root ``socialmarl`` namespace, is optional.

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
from .registry import RULES, make_rule
from .simulation import score_opinions, simulate
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
