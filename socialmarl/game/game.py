"""The batched consensus and truth-finding game (the README's "The game"), on any torch device.

``B`` environments of ``N`` agents on one :class:`~socialmarl.networks.Graph` advance
together as tensors. Every episode a hidden truth ``Psi`` in {0, 1} is drawn per
environment; agents receive noisy private signals, then for ``T`` steps all agents act at
once (guess 0, guess 1, or wait) and are rewarded for being right (truth) and for agreeing
with the neighbours they observe (conformity), weighted by ``alpha``.

Conventions chosen where the design is silent (see also the README's "The game" section):

* ``deg_i`` in the conformity reward counts the in-edges of ``i`` that are *active this
  step* (after percolation and camp dynamics), whether or not those neighbours wait. An
  agent that waits, or has no active neighbour, gets zero conformity reward.
* The per-step info ``accuracy``, ``entropy`` and ``agreement`` are the measures of
  :mod:`socialmarl.game.measures` (defined there once for the whole package). Accuracy
  counts a wait as wrong. Agreement is the share of the step's active edges whose two ends
  state the same guess (wait never agrees), and NaN in an environment with no active edge
  at that step (an edgeless graph, or percolation and the camp process leaving no pair
  interacting); average it over environments or steps with ``nanmean``. Entropy is the
  binary entropy, in bits, of the share of guesses that are 1 among agents that guess
  (1 bit when nobody guesses).
* The edges active at step ``t`` (percolation mask and camp interactions) are drawn when
  the step begins and are part of the step's observation, so agents see whom they
  interact with; rewards of step ``t`` use the same edges.
* Self loops carry nothing (an agent always observes itself): they are dropped with a
  warning. Agents with no in-edges play alone and earn only the truth reward.

Random streams. By default the game draws from one stream seeded ``seed`` (truths, signal
noise, who has a signal, percolation, and the camp process's initial states and steps) and
other-play flips from a separate flip stream seeded ``seed + 0x5EED`` (so switching
other-play leaves every episode unchanged); they are :attr:`ConsensusGame.generators` and
:attr:`ConsensusGame.flip_generators`, one each. With ``streams=[s_0, ..., s_{P-1}]`` the
``B`` environments form ``P`` equal groups of ``Bp = B / P`` consecutive environments,
group ``p`` being environments ``[p * Bp, (p + 1) * Bp)``, and every draw for group ``p``
comes from its own pair of streams (seeded ``s_p`` and ``s_p + 0x5EED``) in the order and
shapes a game of ``Bp`` environments with ``seed=s_p`` uses. So group ``p`` plays exactly
the episodes of that smaller game when it receives the same calls (``reset(mask)`` with
its slice of the mask, ``step`` with its slice of the actions, its slice of a
per-environment ``alpha``): ``P`` populations trained in one batch each see what they
would see trained alone.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch

from ..common.checks import as_bool, as_device, as_float, as_int, as_probability
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from . import measures
from .observation import GUESS_1, WAIT, Observation

__all__ = ["GameConfig", "ConsensusGame", "StepResult"]


@dataclass
class GameConfig:
    """Rules and sizes of the consensus game. Serialises to JSON with ``config_to_dict``."""

    num_envs: int = 1
    """Number of parallel environments ``B``."""
    episode_length: int = 20
    """Steps per episode ``T``; environments reset automatically after the last step."""
    alpha: float | list[float] = 1.0
    """Weight of the truth reward in [0, 1] (1 - alpha is conformity); one value, or one per
    environment (a list of length ``num_envs``) to sweep alpha in one batch."""
    sigma: float = 1.0
    """Standard deviation of the signal noise, ``x_i = Psi + sigma * eps_i`` (>= 0)."""
    p_signal: float | list[float] = 1.0
    """Probability that an agent receives a signal in an episode (others see 0.5); one
    value, or one per environment."""
    experts: list[int] = field(default_factory=list)
    """Ids of expert agents, who always see ``Psi`` exactly."""
    allow_wait: bool = True
    """Whether the wait action (code 2) is allowed."""
    p_perc: float = 1.0
    """Probability that each directed edge survives percolation at reset (1.0: all edges)."""
    other_play: bool = False
    """Draw an other-play flip bit per agent and environment at each reset."""
    reward_right: float = 0.1
    """Truth reward for a correct guess, and conformity reward per agreeing neighbour."""
    reward_wrong: float = -0.2
    """Truth reward for a wrong guess, and conformity reward per disagreeing neighbour."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and how to fix it.

        Also normalises the fields to plain Python values (NumPy and one-element torch
        scalars are accepted), so the config always serialises to JSON.
        """
        self.num_envs = as_int(self.num_envs, "num_envs", minimum=1)
        self.episode_length = as_int(self.episode_length, "episode_length", minimum=1)
        self.alpha = _per_env(self.alpha, "alpha", self.num_envs, _check_alpha)
        self.p_signal = _per_env(self.p_signal, "p_signal", self.num_envs, _check_p_signal)
        self.sigma = as_float(self.sigma, "sigma", minimum=0.0,
                              what="the signal noise standard deviation")
        self.p_perc = as_probability(self.p_perc, "p_perc")
        if not isinstance(self.experts, (list, tuple)):
            raise ValueError(f"experts={self.experts!r}: need a list of agent ids")
        self.experts = [as_int(e, "expert id", minimum=0) for e in self.experts]
        self.allow_wait = as_bool(self.allow_wait, "allow_wait")
        self.other_play = as_bool(self.other_play, "other_play")
        for name in ("reward_right", "reward_wrong"):
            setattr(self, name, as_float(getattr(self, name), name))


def _check_alpha(value: Any) -> float:
    """One alpha, checked as :class:`GameConfig` checks it."""
    return as_float(value, "alpha", minimum=0.0, maximum=1.0,
                    what="alpha weights truth (1) against conformity (0)")


def _check_p_signal(value: Any) -> float:
    """One signal probability, checked as :class:`GameConfig` checks it."""
    return as_probability(value, "p_signal")


def _size(x: Any) -> int:
    """Number of elements of an array-like (NumPy array or tensor)."""
    n = x.numel() if callable(getattr(x, "numel", None)) else getattr(x, "size", 1)
    return int(n)


def _per_env(value: Any, name: str, num_envs: int,
             check: Callable[[Any], float]) -> float | list[float]:
    """One value, or one per environment (a list of ``num_envs``), each through ``check``."""
    many = isinstance(value, (list, tuple)) or (
        len(getattr(value, "shape", ())) > 0 and _size(value) != 1
    )
    if not many:
        return check(value)
    values = [check(v) for v in list(value)]
    if len(values) != num_envs:
        raise ValueError(
            f"{name} has {len(values)} values for num_envs={num_envs}; give one value or "
            "one per environment"
        )
    return values


def _stream_seeds(streams: Any, num_envs: int) -> list[int]:
    """Validated per-population seeds; ``num_envs`` must split into equal groups."""
    try:
        if isinstance(streams, (str, bytes)):
            raise TypeError
        items = list(streams)
    except TypeError:
        raise ValueError(
            f"streams={streams!r}: need a list of seeds, one per population"
        ) from None
    seeds = [as_int(s, "stream seed") for s in items]
    if not seeds:
        raise ValueError("streams is empty; give one seed per population, or None")
    if num_envs % len(seeds):
        raise ValueError(
            f"num_envs={num_envs} does not split into {len(seeds)} equal groups (one per "
            "stream); make num_envs a multiple of the number of streams"
        )
    return seeds


@dataclass(frozen=True)
class StepResult:
    """What :meth:`ConsensusGame.step` returns.

    Attributes
    ----------
    obs : Observation
        The next observation (of the new episode where ``done``).
    reward : Tensor, shape (B, N)
        ``alpha * truth + (1 - alpha) * conformity`` per agent.
    done : Tensor, shape (B,), bool
        Environments whose episode ended with this step (and were reset).
    info : dict of Tensor
        Per-environment ``accuracy``, ``entropy``, ``agreement`` (shape (B,); agreement is
        NaN in an environment without an active edge), the
        ``truth`` (B,) of the episode the step belonged to, and the reward parts
        ``truth_reward`` and ``conformity_reward`` (B, N).
    """

    obs: Observation
    reward: torch.Tensor
    done: torch.Tensor
    info: dict[str, torch.Tensor]

    def __iter__(self):  # allows ``obs, reward, done, info = game.step(a)``
        return iter((self.obs, self.reward, self.done, self.info))


class ConsensusGame:
    """``B`` parallel consensus games of ``N`` agents on one graph.

    Parameters
    ----------
    graph : Graph
        Who observes whom (``edge_index`` row 0 sender, row 1 receiver).
    config : GameConfig, optional
        The rules; keyword arguments override its fields (``num_envs=64, alpha=0.5``).
    camp : CampProcess, optional
        The dynamic camp process (per-edge interaction probabilities ``q`` and switching
        rate ``r``) deciding which edges are active at each step; ``None``: static graph.
    device : str or torch.device
        Where every tensor lives (``"cpu"`` or ``"cuda"``).
    seed : int, optional
        Seed of the game's own random stream (truths, signals, percolation, interactions;
        flips from a second stream seeded ``seed + 0x5EED``). Same seed, same episodes.
        Default 0; not allowed together with ``streams``.
    streams : sequence of int, optional
        One seed per population ``p`` for ``P`` independent random streams: ``num_envs``
        must be a multiple of ``P``, and environments ``[p * Bp, (p + 1) * Bp)``
        (``Bp = num_envs // P``) draw everything from stream ``p``, exactly as a game of
        ``Bp`` environments with ``seed=streams[p]`` would (see the module docstring).
        ``None`` (default): one stream seeded ``seed``.
    check_actions : bool
        Validate action values in :meth:`step` (a device sync on CUDA; trainers turn it off).

    Examples
    --------
    >>> import torch, socialmarl as sm
    >>> game = sm.ConsensusGame(sm.karate_club(), num_envs=4, alpha=0.5, seed=0)
    >>> obs = game.reset()
    >>> obs.signal.shape, obs.edge_codes.shape
    (torch.Size([4, 34]), torch.Size([4, 156]))
    >>> guess = (obs.signal > 0.5).long()          # follow your own signal
    >>> obs, reward, done, info = game.step(guess)
    >>> reward.shape, info["accuracy"].shape
    (torch.Size([4, 34]), torch.Size([4]))

    Two populations in one batch, each playing the episodes of its own game:

    >>> both = sm.ConsensusGame(sm.karate_club(), num_envs=4, streams=[7, 8])
    >>> alone = sm.ConsensusGame(sm.karate_club(), num_envs=2, seed=8)
    >>> torch.equal(both.reset().signal[2:], alone.reset().signal)
    True
    """

    def __init__(
        self,
        graph: Graph,
        config: GameConfig | None = None,
        *,
        camp: CampProcess | None = None,
        device: str | torch.device = "cpu",
        seed: int | None = None,
        streams: Sequence[int] | None = None,
        check_actions: bool = True,
        **overrides: Any,
    ) -> None:
        if "q" in overrides or "interaction_rate" in overrides:
            raise TypeError(
                "the camp process is one argument now: pass camp=CampProcess(q, rate) "
                "(socialmarl.networks.dynamic) instead of q= and interaction_rate="
            )
        if camp is not None and not isinstance(camp, CampProcess):
            raise TypeError(
                f"camp must be a CampProcess(q, rate), got {type(camp).__name__}"
            )
        if not isinstance(graph, Graph):
            raise TypeError(
                f"graph must be a socialmarl Graph, got {type(graph).__name__}; convert "
                "networkx graphs with Graph.from_networkx"
            )
        cfg = config if config is not None else GameConfig()
        if overrides:
            cfg = replace(cfg, **overrides)
        else:
            cfg.validate()
        self.config = cfg
        self.device = as_device(device)
        if graph.has_self_loops():
            warnings.warn(
                "the graph has self loops; they are dropped because every agent always "
                "observes itself",
                stacklevel=2,
            )
            if camp is not None:
                camp = camp.edge_subset(graph.senders != graph.receivers)
            graph = graph.remove_self_loops()
        self.graph = graph.to(self.device)
        n = graph.num_nodes
        for e in cfg.experts:
            if not isinstance(e, int) or not (0 <= e < n):
                raise ValueError(f"expert id {e!r} is outside 0..{n - 1}")
        self.camp = camp
        self.interaction = None if camp is None else camp.simulator(self.graph)
        self.check_actions = check_actions
        if streams is None:
            seeds = [0 if seed is None else as_int(seed, "seed")]
        else:
            if seed is not None:
                raise ValueError(
                    f"seed={seed!r} and streams={streams!r} were both given; give seed for one "
                    "random stream or streams (one seed per population), not both"
                )
            seeds = _stream_seeds(streams, cfg.num_envs)
        # the seed of each population's stream (None: one stream), and the single seed
        self.streams: tuple[int, ...] | None = None if streams is None else tuple(seeds)
        self.seed: int | None = seeds[0] if streams is None else None
        # One generator per stream; group p's draws all come from generators[p]. Flip bits
        # come from their own streams, so switching other-play on or off leaves the truths,
        # signals and edges of every episode unchanged for the same seed.
        self.generators: list[torch.Generator] = [
            torch.Generator(device=self.device) for _ in seeds
        ]
        self.flip_generators: list[torch.Generator] = [
            torch.Generator(device=self.device) for _ in seeds
        ]
        for gen, flip, s in zip(self.generators, self.flip_generators, seeds):
            gen.manual_seed(s)
            flip.manual_seed(s + 0x5EED)
        self._build_structure()
        self.set_alpha(cfg.alpha)
        self.set_p_signal(cfg.p_signal)
        self.state: dict[str, torch.Tensor] = {}
        self._t_host: int | None = None

    # ------------------------------------------------------------------ structure
    def _build_structure(self) -> None:
        g, dev = self.graph, self.device
        n, e = g.num_nodes, g.num_edges
        self.src = g.senders
        self.dst = g.receivers
        self.in_degree = g.in_degree().to(dev, torch.float32)
        crow = torch.searchsorted(self.dst, torch.arange(n + 1, device=dev)).to(torch.int32)
        self._crow, self._col = crow, self.src.to(torch.int32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._adj = torch.sparse_csr_tensor(
                crow, self._col, torch.ones(e, device=dev), (n, n), device=dev
            )
        self._bd_cache: tuple[int, torch.Tensor, torch.Tensor] | None = None
        expert = torch.zeros(n, dtype=torch.bool, device=dev)
        if self.config.experts:
            expert[torch.tensor(self.config.experts, device=dev)] = True
        self.expert_mask = expert

    def _block_diag(self, b: int) -> tuple[torch.Tensor, torch.Tensor]:
        """CSR structure of ``b`` copies of the adjacency (for per-environment edge masks)."""
        if self._bd_cache is None or self._bd_cache[0] != b:
            n, e, dev = self.graph.num_nodes, self.graph.num_edges, self.device
            offs = torch.arange(b, device=dev, dtype=torch.int64)
            crow = (self._crow[:-1].long()[None, :] + offs[:, None] * e).reshape(-1)
            crow = torch.cat([crow, torch.tensor([b * e], device=dev)]).to(torch.int32)
            col = (self.src[None, :] + offs[:, None] * n).reshape(-1).to(torch.int32)
            self._bd_cache = (b, crow, col)
        return self._bd_cache[1], self._bd_cache[2]

    @property
    def num_envs(self) -> int:
        """Number of environments ``B``."""
        return self.config.num_envs

    @property
    def num_agents(self) -> int:
        """Number of agents ``N``."""
        return self.graph.num_nodes

    @property
    def num_actions(self) -> int:
        """3 with the wait action, else 2."""
        return 3 if self.config.allow_wait else 2

    @property
    def num_streams(self) -> int:
        """Number of random streams ``P`` (populations); 1 without ``streams``."""
        return len(self.generators)

    @property
    def generator(self) -> torch.Generator:
        """The random generator of a single-stream game (see :attr:`generators`)."""
        return self._single(self.generators, "generator")

    @property
    def flip_generator(self) -> torch.Generator:
        """The other-play flip generator of a single-stream game (see :attr:`flip_generators`)."""
        return self._single(self.flip_generators, "flip_generator")

    def _single(self, gens: list[torch.Generator], name: str) -> torch.Generator:
        if len(gens) != 1:
            raise AttributeError(
                f"this game has {len(gens)} random streams and no single {name}; use "
                f"{name}s[p] for population p"
            )
        return gens[0]

    def _per_stream(
        self, draw: Callable[[torch.Generator, int], torch.Tensor], b: int,
        gens: list[torch.Generator] | None = None,
    ) -> torch.Tensor:
        """One random draw for ``b`` environments, group by group.

        ``draw(generator, b)`` with one stream; with ``P`` streams ``draw(gens[p], b // P)``
        for each group, concatenated along dim 0. ``gens`` defaults to :attr:`generators`.
        """
        gens = self.generators if gens is None else gens
        if len(gens) == 1:
            return draw(gens[0], b)
        bp = b // len(gens)
        return torch.cat([draw(g, bp) for g in gens])

    # ------------------------------------------------------------------ parameters
    def set_alpha(self, alpha: float | list[float] | torch.Tensor) -> None:
        """Set alpha: one value or one per environment (takes effect immediately).

        Checked as :class:`GameConfig` checks it: numbers in [0, 1], bools refused.

        Examples
        --------
        >>> import socialmarl as sm
        >>> game = sm.ConsensusGame(sm.ring_graph(5), num_envs=2)
        >>> game.set_alpha([0.0, 0.5]); game.alpha.tolist()
        [0.0, 0.5]
        >>> game.set_alpha(2.0)
        Traceback (most recent call last):
        ...
        ValueError: alpha=2.0 is outside [0, 1]; alpha weights truth (1) against conformity (0)
        """
        a, given = self._env_values(alpha, "alpha", _check_alpha)
        if torch.isnan(a).any() or (a < 0).any() or (a > 1).any():
            raise ValueError(
                f"alpha={a.tolist()} has values outside [0, 1]; alpha weights truth (1) "
                "against conformity (0)"
            )
        self.alpha = a.expand(self.num_envs).to(self.device).contiguous()
        self._sync_config("alpha", given)

    def set_p_signal(self, p_signal: float | list[float] | torch.Tensor) -> None:
        """Set the signal probability: one value or one per environment (next reset).

        Checked as :class:`GameConfig` checks it: probabilities, bools refused.
        """
        p, given = self._env_values(p_signal, "p_signal", _check_p_signal)
        if torch.isnan(p).any() or (p < 0).any() or (p > 1).any():
            raise ValueError(
                f"p_signal={p.tolist()} is not a probability; choose values in [0, 1]"
            )
        self.p_signal = p.expand(self.num_envs).to(self.device).contiguous()
        self._sync_config("p_signal", given)

    def _env_values(self, values: Any, name: str,
                    check: Callable[[Any], float]) -> tuple[torch.Tensor, Any]:
        """``values`` (one, or one per environment) as a float32 tensor, and what to record.

        A scalar and every item of a list or tuple go through ``check`` (the config's own
        check, so ``True`` is refused with the config's message). A tensor or array of
        several values is checked in bulk (no per-value device sync): its dtype must be a
        real number type, not bool; the caller checks the range.
        """
        if isinstance(values, (list, tuple)):
            given: Any = [check(v) for v in values]
        elif _size(values) == 1 or not hasattr(values, "shape"):
            given = [check(values)]
        else:
            try:
                given = torch.as_tensor(values)
            except (TypeError, ValueError, RuntimeError):
                given = None
            if given is None or given.dtype == torch.bool or given.is_complex():
                if given is not None and given.numel():
                    check(given.reshape(-1)[0].item())  # the config's message for this value
                raise ValueError(f"{name}={values!r}: need real numbers, one per environment")
        a = torch.as_tensor(given, dtype=torch.float32).reshape(-1)
        if a.numel() not in (1, self.num_envs):
            raise ValueError(
                f"{name} has {a.numel()} values for num_envs={self.num_envs}; give one "
                "value or one per environment"
            )
        return a, given

    def _sync_config(self, name: str, values: Any) -> None:
        """Write a per-environment setting back to :attr:`config` (one value if all agree)."""
        vals = torch.as_tensor(values, dtype=torch.float64).reshape(-1).tolist()
        one = len(vals) == 1 or all(v == vals[0] for v in vals)
        value = float(vals[0]) if one else [float(v) for v in vals]
        if getattr(self.config, name) != value:
            self.config = replace(self.config, **{name: value})

    def set_params(self, **params: Any) -> None:
        """Change ``p_signal``, ``p_perc``, ``sigma`` or ``alpha`` (curricula); validated.

        Signal and percolation changes take effect at the next reset of each environment.
        :attr:`config` is updated too, so it always describes the game as it is.

        Examples
        --------
        >>> import socialmarl as sm
        >>> game = sm.ConsensusGame(sm.ring_graph(5))
        >>> game.set_params(p_perc=0.5)
        >>> game.set_params(p_perc=1.5)
        Traceback (most recent call last):
        ...
        ValueError: p_perc=1.5 is not a probability; choose a value in [0, 1]
        """
        allowed = {"p_signal", "p_perc", "sigma", "alpha"}
        bad = set(params) - allowed
        if bad:
            raise ValueError(
                f"cannot change {sorted(bad)} after construction; allowed: {sorted(allowed)}"
            )
        alpha = params.pop("alpha", None)
        p_signal = params.pop("p_signal", None)
        if params:
            self.config = replace(self.config, **params)
        if alpha is not None:
            self.set_alpha(alpha)
        if p_signal is not None:
            self.set_p_signal(p_signal)

    # ------------------------------------------------------------------ episodes
    def _draw_episode(self, b: int) -> dict[str, torch.Tensor]:
        # Every draw goes through _per_stream, so each stream sees the order and shapes of a
        # single-stream game of its group's size (truth, noise, has-signal, perc, camp).
        cfg, dev, per = self.config, self.device, self._per_stream
        n, e = self.num_agents, self.graph.num_edges
        truth = per(lambda g, k: torch.randint(0, 2, (k,), generator=g, device=dev), b)
        eps = per(lambda g, k: torch.randn(k, n, generator=g, device=dev), b)
        has = per(lambda g, k: torch.rand(k, n, generator=g, device=dev), b) < (
            self.p_signal[:, None])
        tf = truth.to(torch.float32)[:, None]
        signal = torch.where(has, tf + cfg.sigma * eps, torch.full_like(eps, 0.5))
        signal = torch.where(self.expert_mask, tf.expand(b, n), signal)
        if cfg.other_play:
            flips = per(lambda g, k: torch.rand(k, n, generator=g, device=dev), b,
                        self.flip_generators) < 0.5
        else:
            flips = torch.zeros(b, n, dtype=torch.bool, device=dev)
        ep = {
            "truth": truth,
            "signal": signal,
            "flips": flips,
            "own_output": torch.full((b, n), WAIT, dtype=torch.long, device=dev),
            "t": torch.zeros(b, dtype=torch.long, device=dev),
        }
        if cfg.p_perc < 1.0:
            ep["perc"] = per(lambda g, k: torch.rand(k, e, generator=g, device=dev), b) < (
                cfg.p_perc)
        if self.interaction is not None:
            ep["markov"] = per(lambda g, k: self.interaction.initial_state(k, g), b)
        return ep

    def _advance_edges(self) -> None:
        """Draw the edges active in the step about to be played."""
        s = self.state
        active = s.get("perc")
        if self.interaction is not None:
            gens = self.generators
            if len(gens) == 1:
                s["markov"], pair_active = self.interaction.step(s["markov"], gens[0])
            else:  # each group's chain steps with its own stream
                parts = [self.interaction.step(m, g) for m, g in
                         zip(s["markov"].split(s["markov"].shape[0] // len(gens)), gens)]
                s["markov"] = torch.cat([m for m, _ in parts])
                pair_active = torch.cat([a for _, a in parts])
            dyn = self.interaction.edge_mask(pair_active)
            active = dyn if active is None else active & dyn
        if active is None:
            s.pop("edge_active", None)
        else:
            s["edge_active"] = active

    def reset(self, mask: torch.Tensor | None = None) -> Observation:
        """Start new episodes in all environments, or in those where ``mask`` (B,) is true.

        Returns the observation of step 0 (every previous output reads ``WAIT``).
        """
        b = self.num_envs
        if mask is None or not self.state:
            if mask is not None and not self.state:
                mask = None
            self.state = self._draw_episode(b)
            self._t_host = 0
        else:
            mask = torch.as_tensor(mask, dtype=torch.bool, device=self.device).reshape(-1)
            if mask.numel() != b:
                raise ValueError(f"reset mask has {mask.numel()} entries for {b} environments")
            new = self._draw_episode(b)
            for k, v in new.items():
                m = mask.view(-1, *([1] * (v.dim() - 1)))
                self.state[k] = torch.where(m, v, self.state[k])
            self._t_host = None
        self._advance_edges()
        return self.observation()

    def observation(self) -> Observation:
        """The current observation (environment frame)."""
        s = self.state
        if not s:
            raise RuntimeError("call reset() before observation() or step()")
        return Observation(
            signal=s["signal"],
            own_output=s["own_output"],
            edge_active=s.get("edge_active"),
            t=s["t"],
            flips=s["flips"],
            edge_index=self.graph.edge_index,
        )

    @property
    def truth(self) -> torch.Tensor:
        """``(B,)`` hidden truth of the current episodes."""
        return self.state["truth"]

    # ------------------------------------------------------------------ dynamics
    def _validate_actions(self, actions: torch.Tensor) -> torch.Tensor:
        if not isinstance(actions, torch.Tensor):
            actions = torch.as_tensor(actions)
        shape = (self.num_envs, self.num_agents)
        if tuple(actions.shape) != shape:
            raise ValueError(
                f"actions have shape {tuple(actions.shape)}; expected (num_envs, num_agents) = "
                f"{shape}"
            )
        if actions.is_floating_point() or actions.dtype == torch.bool:
            raise TypeError(f"actions must be integer codes, got dtype {actions.dtype}")
        if actions.device != self.device:
            actions = actions.to(self.device)
        if self.check_actions:
            hi = self.num_actions - 1
            if bool(((actions < 0) | (actions > hi)).any()):
                bad = actions[(actions < 0) | (actions > hi)][0].item()
                allowed = "0, 1 or 2 (wait)" if self.config.allow_wait else "0 or 1 (wait is off)"
                raise ValueError(f"action {bad} is not allowed; actions must be {allowed}")
        return actions.long()

    def _neighbour_sums(self, x: torch.Tensor, active: torch.Tensor | None) -> torch.Tensor:
        """``(B, N, C)`` sums of ``x`` (B, N, C) over each agent's active in-edges."""
        b, n, c = x.shape
        if active is None:
            xt = x.permute(1, 0, 2).reshape(n, b * c)
            return (self._adj @ xt).reshape(n, b, c).permute(1, 0, 2)
        crow, col = self._block_diag(b)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = torch.sparse_csr_tensor(
                crow, col, active.reshape(-1).to(x.dtype), (b * n, b * n), device=self.device
            )
        return (m @ x.reshape(b * n, c)).reshape(b, n, c)

    def rewards(
        self, actions: torch.Tensor, truth: torch.Tensor, edge_active: torch.Tensor | None,
        alpha: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """Rewards and per-step statistics of one joint action, without changing state.

        Parameters
        ----------
        actions : Tensor, shape (B, N)
            Codes 0, 1 or 2 (wait), in the environment's labels.
        truth : Tensor, shape (B,)
        edge_active : Tensor (B, E) of bool, or None for all edges.
        alpha : Tensor (B,), optional; defaults to the game's.

        Returns
        -------
        dict
            ``reward``, ``truth_reward``, ``conformity_reward`` (B, N); ``accuracy``,
            ``entropy``, ``agreement`` (B,), float32, from :mod:`socialmarl.game.measures`
            (agreement NaN where no edge is active).
        """
        cfg = self.config
        right, wrong = cfg.reward_right, cfg.reward_wrong
        alpha = self.alpha if alpha is None else alpha
        guess = actions != WAIT
        s = torch.where(guess, 2.0 * (actions == GUESS_1).float() - 1.0, 0.0)  # +1/-1/0
        u = guess.float()
        if edge_active is None:
            x = torch.stack([s, u], dim=-1)
            sums = self._neighbour_sums(x, None)
            deg = self.in_degree.expand_as(s)
        else:
            x = torch.stack([s, u, torch.ones_like(s)], dim=-1)
            sums = self._neighbour_sums(x, edge_active)
            deg = sums[..., 2]
        s_sum, u_sum = sums[..., 0], sums[..., 1]
        same = torch.where(guess, 0.5 * (u_sum + s * s_sum), 0.0)
        diff = torch.where(guess, 0.5 * (u_sum - s * s_sum), 0.0)
        conf = (right * same + wrong * diff) / deg.clamp_min(1.0)
        correct = actions == truth[:, None]
        truth_r = torch.where(correct, right, torch.where(guess, wrong, 0.0))
        a = alpha[:, None]
        reward = a * truth_r + (1.0 - a) * conf
        return {
            "reward": reward,
            "truth_reward": truth_r,
            "conformity_reward": conf,
            "accuracy": measures.accuracy(actions, truth).float(),
            "entropy": measures.entropy(actions).float(),
            # the edges counted above: those whose ends agree, over all active ones
            "agreement": measures.agreement_from_counts(same.sum(1), deg.sum(1)).float(),
        }

    def step(self, actions: torch.Tensor) -> StepResult:
        """Play one step: all agents act at once.

        Parameters
        ----------
        actions : Tensor of int, shape (B, N)
            0 or 1 (guesses) or 2 (wait), in the environment's labels (map other-play
            actions back with :func:`~socialmarl.game.observation.to_env_actions`).

        Returns
        -------
        StepResult
            ``(obs, reward, done, info)``; environments whose episode ended are reset and
            ``obs`` is then the first observation of the next episode.
        """
        if not self.state:
            raise RuntimeError("call reset() before step()")
        actions = self._validate_actions(actions)
        s = self.state
        out = self.rewards(actions, s["truth"], s.get("edge_active"))
        info = {k: out[k] for k in ("accuracy", "entropy", "agreement", "truth_reward",
                                    "conformity_reward")}
        info["truth"] = s["truth"]
        s["own_output"] = actions
        s["t"] = s["t"] + 1
        T = self.config.episode_length
        if self._t_host is not None:
            self._t_host += 1
            ended = self._t_host >= T
            done = torch.full((self.num_envs,), ended, dtype=torch.bool, device=self.device)
            if ended:
                self.reset()
            else:
                self._advance_edges()
        else:
            done = s["t"] >= T
            self._partial_reset(done)
        return StepResult(self.observation(), out["reward"], done, info)

    def _partial_reset(self, done: torch.Tensor) -> None:
        new = self._draw_episode(self.num_envs)
        for k, v in new.items():
            m = done.view(-1, *([1] * (v.dim() - 1)))
            self.state[k] = torch.where(m, v, self.state[k])
        self._advance_edges()

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Tensors and generator state that fully determine what happens next.

        ``generator`` and ``flip_generator`` hold the single stream's states, or with
        ``streams`` a list of ``P`` states each (and ``streams`` the seeds).
        """
        if self.streams is None:
            gens: Any = self.generators[0].get_state()
            flips: Any = self.flip_generators[0].get_state()
        else:
            gens = [g.get_state() for g in self.generators]
            flips = [g.get_state() for g in self.flip_generators]
        sd = {
            "state": {k: v.clone() for k, v in self.state.items()},
            "generator": gens,
            "flip_generator": flips,
            "t_host": -1 if self._t_host is None else self._t_host,
            "alpha": self.alpha.clone(),
            "p_signal": self.p_signal.clone(),
            "p_perc": float(self.config.p_perc),
        }
        if self.streams is not None:
            sd["streams"] = list(self.streams)
        return sd

    def load_state_dict(self, sd: dict[str, Any], *, generator: bool = True) -> None:
        """Restore :meth:`state_dict` (tensors are moved to this game's device).

        ``generator=False`` keeps this game's random streams (needed when restoring a CPU
        game's state into a CUDA game, whose generators differ). With ``generator=True`` the
        saved game must have as many streams as this one (one, or ``P`` from ``streams``).
        """
        if generator:
            gens, flips = sd["generator"], sd["flip_generator"]
            if not isinstance(gens, (list, tuple)):
                gens, flips = [gens], [flips]
            if len(gens) != self.num_streams or len(flips) != len(gens):
                raise ValueError(
                    f"the saved game has {len(gens)} random stream(s) and this one "
                    f"{self.num_streams}; restore into a game built with as many streams, or "
                    "pass generator=False to keep this game's streams"
                )
        self.state = {k: v.to(self.device) for k, v in sd["state"].items()}
        if generator:
            for g, st in zip(self.generators, gens):
                g.set_state(st)
            for g, st in zip(self.flip_generators, flips):
                g.set_state(st)
        t = int(sd["t_host"])
        self._t_host = None if t < 0 else t
        self.set_alpha(sd["alpha"])
        self.set_p_signal(sd["p_signal"])
        self.config = replace(self.config, p_perc=sd["p_perc"])

    def __repr__(self) -> str:
        c = self.config
        streams = "" if self.streams is None else f", streams={list(self.streams)}"
        return (
            f"ConsensusGame(graph={self.graph.name!r}, N={self.num_agents}, B={c.num_envs}, "
            f"T={c.episode_length}, alpha={c.alpha}{streams}, device={self.device})"
        )
