"""The configuration of a training run: :class:`TrainConfig`, holding the game and the policy.

A run's config nests the two configs it is made of instead of copying their fields:

* ``config.game`` (:class:`~socialmarl.game.game.GameConfig`) -- the rules every population
  plays: episode length, signal noise, experts, reward values, wait, percolation,
  other-play. Its ``p_signal`` and ``p_perc`` are the values the curricula end at. Its
  ``num_envs`` and ``alpha`` are not set here: the trainer's game has
  ``len(alphas) * envs_per_alpha`` environments with the populations' alphas, and a config
  that sets them otherwise is refused.
* ``config.policy`` (:class:`~socialmarl.learning.policy.PolicyConfig`) -- the network;
  its ``num_actions`` always follows ``game.allow_wait``.

Everything else (alphas, sizes, curricula, PPO, seed, device) is the run's own. The dynamic
camp process is not a config field: it is data of the network (a
:class:`~socialmarl.networks.dynamic.CampProcess`), passed with the graph and saved in the
checkpoint beside it.

Configs written by earlier versions (every game and policy field at the top level) are
converted on load by :func:`upgrade_train_config` (``interaction_rate`` moves out: it
belongs to the camp process).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import torch

from ..common.checks import as_bool, as_device, as_float, as_int, as_probability
from ..common.config_io import config_from_dict, config_to_dict
from ..game.game import GameConfig
from .policy import PolicyConfig

__all__ = ["TrainConfig", "upgrade_train_config", "GAME_FIELDS", "POLICY_FIELDS"]

#: GameConfig fields a run may set (num_envs and alpha come from alphas / envs_per_alpha)
GAME_FIELDS = tuple(f.name for f in dataclasses.fields(GameConfig)
                    if f.name not in ("num_envs", "alpha"))
#: PolicyConfig fields a run may set (num_actions follows game.allow_wait)
POLICY_FIELDS = tuple(f.name for f in dataclasses.fields(PolicyConfig)
                      if f.name != "num_actions")


def _training_game() -> GameConfig:
    return GameConfig(other_play=True)


@dataclass(init=False)
class TrainConfig:
    """Everything that defines a training run (saved with every run as ``config.json``).

    Keywords are the fields below, plus any field of the game or the policy by its name
    (``TrainConfig(episode_length=10, experts=[0], hidden=16)`` sets ``game.episode_length``,
    ``game.experts`` and ``policy.hidden``), applied on top of ``game=`` / ``policy=`` when
    those are given too.

    Examples
    --------
    >>> import socialmarl as sm
    >>> cfg = sm.TrainConfig(alphas=[0.0, 1.0], game=sm.GameConfig(experts=[0], sigma=2.0))
    >>> cfg.game.sigma, cfg.policy.num_actions
    (2.0, 3)
    >>> cfg.updated(allow_wait=False, hidden=16, lr=1e-3).policy.num_actions
    2
    >>> sm.TrainConfig(reward_right=0.3).game.reward_right
    0.3
    """

    alphas: list[float] = field(default_factory=lambda: [1.0])
    """Truth weights in [0, 1]; one population per alpha and seed, all in one batched game."""
    seeds: list[int] | None = None
    """Seeds of the populations of each alpha (None: ``[seed]``, one per alpha). Population
    ``(alpha, s)`` starts from its own parameters and plays its own episodes and actions,
    exactly as a run of that alpha alone with ``seed=s``."""
    game: GameConfig = field(default_factory=_training_game)
    """The game every population plays (other-play on by default); its ``p_signal`` and
    ``p_perc`` are where the curricula end; ``num_envs`` and ``alpha`` are set by the run."""
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    """The policy of every population; ``num_actions`` follows ``game.allow_wait``."""
    envs_per_alpha: int = 16
    """Parallel environments per population (each (alpha, seed))."""
    num_updates: int = 200
    """PPO updates (each one rollout of ``episodes_per_rollout`` whole episodes)."""
    episodes_per_rollout: int = 1
    """Whole episodes per rollout; rollouts always end at an episode boundary."""
    p_signal_start: float = 1.0
    """Signal probability at the start of training (decays linearly to ``game.p_signal``)."""
    p_signal_decay_frac: float = 0.5
    """Fraction of training over which the signal probability decays to its target."""
    perc_start: float | None = None
    """Edge survival probability at the start, moving to ``game.p_perc`` on a sigmoid
    (None: no curriculum, ``game.p_perc`` throughout)."""
    perc_midpoint: float = 0.3
    """Progress at which the percolation sigmoid is steepest."""
    perc_steepness: float = 10.0
    """Steepness of the percolation sigmoid."""
    alpha0_signal_anneal_frac: float = 0.5
    """At alpha = 0 the signal probability goes to 0 over this fraction of training (0: off)."""
    alpha0_shaping: float = 0.1
    """At alpha = 0, an effective truth weight that starts here and decays to 0."""
    alpha0_shaping_frac: float = 0.5
    """Fraction of training over which the alpha = 0 shaping decays to 0."""
    lr: float = 5e-4
    """Adam learning rate."""
    anneal_lr: bool = True
    """Anneal the learning rate linearly to 0 over training."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip_coef: float = 0.2
    """PPO ratio clip (and value clip)."""
    clip_value: bool = True
    """Clip the value loss as in PPO2."""
    ent_coef: float = 0.01
    """Entropy bonus coefficient."""
    vf_coef: float = 0.5
    """Value loss coefficient."""
    belief_coef: float = 1.0
    """Belief-head MSE coefficient (gradients reach the head only)."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    update_epochs: int = 4
    """PPO epochs per update."""
    num_minibatches: int = 4
    """Minibatches per epoch (split over environments; needs envs_per_alpha >= this)."""
    seed: int = 0
    """Seed for parameters, the game and action sampling (the one seed when ``seeds`` is
    None)."""
    device: str = "cpu"
    """``cpu`` or ``cuda``."""
    checkpoint_every: int = 50
    """Write a checkpoint every this many updates (and at the end), when a folder is given."""

    def __init__(self, **settings: Any) -> None:
        own = _own_settings(settings)
        for f in dataclasses.fields(self):
            if f.name in own:
                value = own[f.name]
            elif f.default is not dataclasses.MISSING:
                value = f.default
            else:
                value = f.default_factory()
            setattr(self, f.name, value)
        game, policy = _part_settings(settings)
        if isinstance(self.game, dict):
            self.game = config_from_dict(GameConfig, self.game)
        if isinstance(self.policy, dict):
            self.policy = config_from_dict(PolicyConfig, self.policy)
        if game and isinstance(self.game, GameConfig):
            self.game = dataclasses.replace(self.game, **game)
        if policy and isinstance(self.policy, PolicyConfig):
            self.policy = dataclasses.replace(self.policy, **policy)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and the fix; normalise the rest.

        NumPy and one-element torch scalars are accepted and stored as plain Python values,
        so the config always serialises to JSON. Every real-valued field must be finite.
        """
        alphas = self.alphas
        if isinstance(alphas, (str, bytes)) or not hasattr(alphas, "__len__"):
            alphas = [alphas]
        self.alphas = [as_float(a, "alpha", minimum=0.0, maximum=1.0,
                                what="alpha weights truth (1) against conformity (0)")
                       for a in list(alphas)]
        if not self.alphas:
            raise ValueError("alphas is empty; give at least one alpha in [0, 1]")
        if len(set(self.alphas)) != len(self.alphas):
            raise ValueError(f"alphas {self.alphas} repeat a value; give each alpha once")
        self._validate_parts()
        for name in ("envs_per_alpha", "num_updates", "episodes_per_rollout",
                     "update_epochs", "num_minibatches", "checkpoint_every"):
            setattr(self, name, as_int(getattr(self, name), name, minimum=1))
        self.seed = as_int(self.seed, "seed", minimum=0)
        if self.seeds is not None:
            seeds = self.seeds
            if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__len__"):
                seeds = [seeds]
            self.seeds = [as_int(s, "seed", minimum=0) for s in list(seeds)]
            if not self.seeds:
                raise ValueError("seeds is empty; give at least one seed, or None for [seed]")
            if len(set(self.seeds)) != len(self.seeds):
                raise ValueError(f"seeds {self.seeds} repeat a value; give each seed once")
        if self.num_minibatches > self.envs_per_alpha:
            raise ValueError(
                f"num_minibatches={self.num_minibatches} exceeds envs_per_alpha="
                f"{self.envs_per_alpha}; minibatches keep environments whole"
            )
        for name in ("p_signal_start", "gamma", "gae_lambda", "p_signal_decay_frac",
                     "alpha0_signal_anneal_frac", "alpha0_shaping", "alpha0_shaping_frac"):
            setattr(self, name, as_probability(getattr(self, name), name))
        if self.perc_start is not None:
            self.perc_start = as_probability(self.perc_start, "perc_start")
            if self.perc_start <= 0:
                raise ValueError("perc_start must be > 0 (some edges must survive)")
        self.perc_midpoint = as_float(self.perc_midpoint, "perc_midpoint", minimum=0.0,
                                      maximum=1.0, what="a point of training progress")
        for name in ("lr", "clip_coef", "max_grad_norm", "perc_steepness"):
            setattr(self, name, as_float(getattr(self, name), name, positive=True))
        for name in ("ent_coef", "vf_coef", "belief_coef"):
            setattr(self, name, as_float(getattr(self, name), name, minimum=0.0,
                                         what="a loss coefficient"))
        for name in ("anneal_lr", "clip_value"):
            setattr(self, name, as_bool(getattr(self, name), name))
        if not isinstance(self.device, str):
            self.device = str(as_device(self.device))
        try:
            torch.device(self.device)
        except RuntimeError as exc:
            raise ValueError(
                f"device={self.device!r} is not a device name; use 'cpu' or 'cuda'"
            ) from exc

    def _validate_parts(self) -> None:
        """Check the nested game and policy configs and make them agree with the run."""
        if not isinstance(self.game, GameConfig):
            raise ValueError(f"game must be a GameConfig, got {type(self.game).__name__}")
        if not isinstance(self.policy, PolicyConfig):
            raise ValueError(f"policy must be a PolicyConfig, got {type(self.policy).__name__}")
        self.game.validate()
        default = GameConfig()
        for name, fix in (("num_envs", "envs_per_alpha"), ("alpha", "alphas")):
            if getattr(self.game, name) != getattr(default, name):
                raise ValueError(
                    f"game.{name}={getattr(self.game, name)!r} is set by the run; give "
                    f"TrainConfig.{fix} instead and leave game.{name} at its default"
                )
        if isinstance(self.game.p_signal, list):
            raise ValueError("game.p_signal must be one value for a run (the curriculum's "
                             "target for every population)")
        n_act = 3 if self.game.allow_wait else 2
        if self.policy.num_actions != n_act:
            self.policy = dataclasses.replace(self.policy, num_actions=n_act)
        self.policy.validate()

    @property
    def population_seeds(self) -> list[int]:
        """The seeds of each alpha's populations: ``seeds``, or ``[seed]``."""
        return [self.seed] if self.seeds is None else list(self.seeds)

    @property
    def populations(self) -> list[tuple[float, int]]:
        """Every ``(alpha, seed)`` trained, alpha-major: population ``p`` plays environments
        ``[p * envs_per_alpha, (p + 1) * envs_per_alpha)``."""
        return [(a, s) for a in self.alphas for s in self.population_seeds]

    @property
    def num_envs(self) -> int:
        """Total environments ``len(populations) * envs_per_alpha``."""
        return len(self.populations) * self.envs_per_alpha

    @property
    def episode_length(self) -> int:
        """Steps per episode (``game.episode_length``)."""
        return self.game.episode_length

    def game_config(self) -> GameConfig:
        """The game this run plays at its start (alpha per environment, curricula's start)."""
        p_perc = self.game.p_perc if self.perc_start is None else self.perc_start
        return dataclasses.replace(
            self.game, num_envs=self.num_envs,
            alpha=[float(a) for a, _ in self.populations for _ in range(self.envs_per_alpha)],
            p_signal=self.p_signal_start, p_perc=p_perc,
        )

    def updated(self, **changes: Any) -> TrainConfig:
        """A copy with fields changed; game and policy fields may be given by their names.

        ``cfg.updated(lr=1e-3, experts=[0], hidden=16)`` sets ``lr`` on the run,
        ``game.experts`` and ``policy.hidden``. Unknown names are a ``ValueError`` listing
        the valid ones.
        """
        current = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        _own_settings(changes)  # refuses unknown names before anything changes
        return TrainConfig(**{**current, **changes})
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe nested dict (``game`` and ``policy`` as sub-dicts)."""
        return config_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from :meth:`to_dict`, or from an earlier version's flat config."""
        data = upgrade_train_config(data)
        return config_from_dict(cls, data)


def _own_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that are TrainConfig's own fields; unknown names are a ValueError."""
    own = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(settings) - own - set(GAME_FIELDS) - set(POLICY_FIELDS))
    if unknown:
        hint = ""
        if set(unknown) & {"num_envs", "alpha"}:
            hint = " (a run sets num_envs and alpha from envs_per_alpha and alphas)"
        elif set(unknown) & {"q", "interaction_rate"}:
            hint = " (a camp process travels with the graph: camp=CampProcess(q, rate))"
        raise ValueError(
            f"unknown training setting(s) {unknown}{hint}; valid: TrainConfig fields "
            f"{sorted(own)}, game fields {list(GAME_FIELDS)}, policy fields "
            f"{list(POLICY_FIELDS)}"
        )
    return {k: v for k, v in settings.items() if k in own}


def _part_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The settings that are the game's and the policy's fields, by name."""
    own = {f.name for f in dataclasses.fields(TrainConfig)}
    game = {k: v for k, v in settings.items() if k in GAME_FIELDS and k not in own}
    policy = {k: v for k, v in settings.items() if k in POLICY_FIELDS and k not in own}
    return game, policy


#: Fields of an earlier version's flat TrainConfig and where they live now.
_FLAT_GAME = {"episode_length": "episode_length", "sigma": "sigma", "p_signal": "p_signal",
              "allow_wait": "allow_wait", "other_play": "other_play"}
_FLAT_POLICY = {"hidden": "hidden", "attn_dim": "attn_dim"}


def upgrade_train_config(data: dict[str, Any]) -> dict[str, Any]:
    """An earlier version's flat training config as today's nested one (others unchanged).

    Game fields (``episode_length``, ``sigma``, ``p_signal``, ``allow_wait``,
    ``other_play``) move into ``game`` and policy sizes (``hidden``, ``attn_dim``) into
    ``policy``. ``interaction_rate`` is dropped from the config: it is the camp process's
    rate, which loaders of old checkpoints take into the :class:`CampProcess`.
    ``perc_start=1.0`` (the old "no curriculum") becomes ``None``.

    Examples
    --------
    >>> new = upgrade_train_config({"alphas": [1.0], "sigma": 2.0, "hidden": 16,
    ...                             "interaction_rate": None, "perc_start": 1.0})
    >>> new["game"]["sigma"], new["policy"]["hidden"], new["perc_start"]
    (2.0, 16, None)
    """
    if not isinstance(data, dict):
        raise ValueError(f"a training config must be a JSON object, got {type(data).__name__}")
    if "game" in data or "policy" in data:
        return dict(data)
    out = dict(data)
    game = {new: out.pop(old) for old, new in _FLAT_GAME.items() if old in out}
    policy = {new: out.pop(old) for old, new in _FLAT_POLICY.items() if old in out}
    out.pop("interaction_rate", None)
    game.setdefault("other_play", True)  # the old training default
    policy["num_actions"] = 3 if game.get("allow_wait", True) else 2
    if out.get("perc_start") == 1.0:
        out["perc_start"] = None
    out["game"] = game
    out["policy"] = policy
    return out
