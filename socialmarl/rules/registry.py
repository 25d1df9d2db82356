"""The registry of classic rules by name: one line per rule.

:data:`RULES` maps each rule's ``name`` to its class; :func:`make_rule` (and
:func:`~socialmarl.rules.simulation.simulate` given a name) look rules up here. This is the
only module that imports every rule; nothing in :mod:`socialmarl.rules` below it imports
it back.

To register a new rule, import its class here and add one line ``MyRule.name: MyRule,`` to
:data:`RULES` (see "How to add a rule" in :mod:`socialmarl.rules`).
"""

from __future__ import annotations

from typing import Any

from .base import Rule
from .continuous import Deffuant, DeGroot, FriedkinJohnsen, HegselmannKrause
from .discrete import MajorityRule, QVoter, Sznajd, Voter
from .truth import TruthSeeking

__all__ = ["RULES", "make_rule"]

#: Every rule class by its registry name (its ``name`` class attribute), one line per rule.
RULES: dict[str, type[Rule]] = {
    Voter.name: Voter,
    QVoter.name: QVoter,
    MajorityRule.name: MajorityRule,
    Sznajd.name: Sznajd,
    DeGroot.name: DeGroot,
    FriedkinJohnsen.name: FriedkinJohnsen,
    Deffuant.name: Deffuant,
    HegselmannKrause.name: HegselmannKrause,
    TruthSeeking.name: TruthSeeking,
}


def make_rule(name: str, **params: Any) -> Rule:
    """Build a rule from its registry name and parameters.

    Parameters
    ----------
    name : str
        A key of :data:`RULES`.
    **params
        The rule's parameters (its dataclass fields).

    Returns
    -------
    Rule

    Examples
    --------
    >>> make_rule("deffuant", epsilon=0.3)
    Deffuant(epsilon=0.3, mu=0.5, symmetric=True, selection='edge')
    >>> make_rule("bogus")
    Traceback (most recent call last):
    ...
    ValueError: unknown rule 'bogus'; choose one of ['deffuant', 'degroot', \
'friedkin_johnsen', 'hk', 'majority', 'qvoter', 'sznajd', 'truth_seeking', 'voter']
    """
    if name not in RULES:
        raise ValueError(f"unknown rule {name!r}; choose one of {sorted(RULES)}")
    return RULES[name](**params)
