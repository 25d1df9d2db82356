"""The consensus game as a PettingZoo ``ParallelEnv``: one game, one named agent per node.

:class:`ConsensusParallelEnv` plays a single :class:`~socialmarl.game.ConsensusGame`
(``num_envs=1``) behind PettingZoo's parallel API, so that any PettingZoo learner (or an
LLM agent, or a hand-written player) can play it. It passes PettingZoo's own
``parallel_api_test`` and ``parallel_seed_test``. PettingZoo and Gymnasium are an optional
extra (``pip install "socialmarl[pettingzoo]"``): importing this module never fails, and
constructing the environment without them raises an ``ImportError`` that says so.

Conventions
-----------
* **Agents** are named, in node order, by the first of: ``agent_names`` (a list of ``N``
  unique strings, or the name of a node attribute), the graph's ``handle`` node attribute
  (a Bluesky crawl: ``"alice.bsky.social"``), its ``username`` attribute (Congress
  Twitter), else ``"agent_<node id>"``. An attribute is used only when its values are ``N``
  unique non-empty strings. :meth:`ConsensusParallelEnv.agent_index` maps a name back to the
  node id.
* **Observation** (fixed size, whatever an agent's degree): a flat ``float32`` vector of
  :data:`OBS_SIZE` = 10 entries, named in order by :data:`OBS_FIELDS`, the vector the
  TorchRL adapter gives too (:mod:`socialmarl.adapters.features`, its one definition):

  ====  ============  ============================================================
  0     signal        the private signal (``Psi + sigma * eps``; 0.5 without one)
  1-3   own_0/1/wait  one-hot of the agent's own previous output (wait at step 0)
  4-7   nbr_0/1/wait/ share of the agent's in-neighbours in the graph whose
        nbr_unseen    previous output it sees as guess 0 / guess 1 / wait, and the
                      share it does not observe this step (edge percolated away, or
                      no camp interaction); the four sum to 1 (all 0 with no
                      in-neighbour)
  8     in_degree     the number of in-neighbours in the graph (static)
  9     time          the step ``t / episode_length`` in [0, 1]
  ====  ============  ============================================================

  Shares rather than per-neighbour codes keep the vector the same size for an agent of
  degree 1 and a hub of degree 500 (the price: who said what is lost, only how many). A
  policy that needs the identities of its neighbours should use the game's own sparse
  :class:`~socialmarl.game.Observation` (``env.game.observation()``), as socialmarl's
  attention policy does. The agent's id is not in the vector: the agent's name is the key.
  :func:`observation_vectors` computes the vectors of every agent from an ``Observation``.
* **Other-play** (``other_play=True``): each agent sees the game in its own frame
  (:meth:`Observation.to_agent_frame`: signal ``1 - x`` and every observed guess swapped
  when its flip bit is set), and its action is read in that frame and swapped back before
  it reaches the game (:func:`~socialmarl.game.to_env_actions`). Without other-play the
  frames are the environment's.
* **Actions**: ``Discrete(3)`` (0 guess 0, 1 guess 1, 2 wait), or ``Discrete(2)`` with
  ``allow_wait=False``. Every live agent must act at every step.
* **Rewards** are the game's, per agent (``alpha * truth + (1 - alpha) * conformity``),
  as Python floats.
* **Episode end: termination, not truncation.** The game has ``episode_length`` steps by
  its own rules and the step is in the observation, so the state after the last step is a
  terminal state (there is nothing to bootstrap past it; socialmarl's own PPO does not
  either): every agent is *terminated* (``terminations[a] = True``,
  ``truncations[a] = False``) after the last step and ``env.agents`` is then empty until
  :meth:`~ConsensusParallelEnv.reset`. The final observation shows the last step's
  outputs over the edges that step used, with ``time = 1``.
* **Infos** at each step, per agent: the game's per-environment ``accuracy``, ``entropy``
  and ``agreement`` (``None`` instead of the game's NaN when no edge was active, so that
  equal infos compare equal), the episode's ``truth`` (for logging; a policy must not read
  it), and the agent's own ``truth_reward`` and ``conformity_reward``. Infos of
  :meth:`~ConsensusParallelEnv.reset` are empty dicts.
* **Seeds**: ``reset(seed=s)`` starts the game afresh exactly as ``ConsensusGame(...,
  seed=s)`` does (same truths, signals, edges and flips). ``reset()`` without a seed
  continues the game's random stream: after a finished episode it starts the episode the
  game itself has already drawn, so consecutive episodes through the adapter are the
  game's consecutive episodes. The first ``reset()`` uses the constructor's ``seed``
  (``None``: the game's default, 0). ``options`` is accepted and ignored.
* **Rendering**: ``render_mode="rgb_array"`` makes :meth:`~ConsensusParallelEnv.render`
  return an ``(H, W, 3)`` ``uint8`` picture of the network with nodes coloured by their
  current output (blue guess 0, vermilion guess 1, grey wait); ``"human"`` draws it in a
  matplotlib window, updated at every ``reset`` and ``step``. matplotlib is imported on
  the first render only; the layout (a spring layout, seed 0) is computed then, once per
  environment (a few seconds for 1000 nodes).

Examples
--------
>>> import socialmarl as sm
>>> from socialmarl.adapters.pettingzoo_env import ConsensusParallelEnv
>>> env = ConsensusParallelEnv(sm.karate_club(), episode_length=3, alpha=0.5, seed=0)
>>> obs, infos = env.reset(seed=1)
>>> env.agents[:2], obs["agent_0"].shape, env.action_space("agent_0")
(['agent_0', 'agent_1'], (10,), Discrete(3))
>>> while env.agents:
...     actions = {a: int(obs[a][0] > 0.5) for a in env.agents}  # follow your own signal
...     obs, rewards, terminations, truncations, infos = env.step(actions)
>>> all(terminations.values()), 0.0 <= infos["agent_0"]["accuracy"] <= 1.0
(True, True)
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from ..game.game import ConsensusGame, GameConfig
from ..game.observation import Observation, to_env_actions
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from ..networks.network import Network
from .features import FEATURES, agent_features

try:  # the optional extra; the class below stands without it and says what to install
    import gymnasium
    from pettingzoo import ParallelEnv as _ParallelEnvBase
except ImportError as _exc:  # pragma: no cover - exercised by a test that hides the extra
    gymnasium = None  # type: ignore[assignment]
    _ParallelEnvBase = object  # type: ignore[assignment,misc]
    _IMPORT_ERROR: ImportError | None = _exc
else:
    _IMPORT_ERROR = None

__all__ = [
    "ConsensusParallelEnv",
    "UnknownAgentError",
    "observation_vectors",
    "OBS_FIELDS",
    "OBS_SIZE",
    "INSTALL_HINT",
]

#: Names of the entries of an agent's observation vector, in order (one definition:
#: :mod:`socialmarl.adapters.features`).
OBS_FIELDS: tuple[str, ...] = FEATURES
#: Length of an agent's observation vector.
OBS_SIZE = len(OBS_FIELDS)
#: What to run when PettingZoo or Gymnasium is missing.
INSTALL_HINT = 'pip install "socialmarl[pettingzoo]"'

#: node attributes that name agents, in order of preference
_NAME_ATTRS = ("handle", "username")
#: colours of the codes 0, 1, 2 (as in socialmarl.analysis.plots.OPINION_COLOURS)
_COLOURS = {0: "#0072B2", 1: "#D55E00", 2: "#BBBBBB"}
_CODE_NAMES = {0: "guess 0", 1: "guess 1", 2: "wait"}


class UnknownAgentError(KeyError, ValueError):
    """An agent name that is not one of the environment's (a ``KeyError`` and a ``ValueError``)."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0]) if self.args else ""


def _require_pettingzoo() -> None:
    if _IMPORT_ERROR is not None or gymnasium is None:
        raise ImportError(
            "ConsensusParallelEnv needs PettingZoo and Gymnasium, which are not installed "
            f"({_IMPORT_ERROR}); install the extra with: {INSTALL_HINT}"
        )


def observation_vectors(
    obs: Observation, episode_length: int, in_degree: torch.Tensor | None = None
) -> torch.Tensor:
    """Every agent's fixed-size observation vector, ``(B, N, OBS_SIZE)`` float32.

    The layout is :data:`OBS_FIELDS` (see the module docstring). The vectors are read in
    the frame ``obs`` is in: pass ``obs.to_agent_frame()`` for what agents see under
    other-play (the environment does).

    Parameters
    ----------
    obs : Observation
        The game's observation (``ConsensusGame.observation()`` or a ``step`` result).
    episode_length : int
        ``T``, to scale the step to ``t / T``.
    in_degree : Tensor, shape (N,), optional
        Each agent's in-degree in the graph (counted from ``obs.edge_index`` if omitted;
        the environment passes its own, computed once).

    Returns
    -------
    Tensor, shape (B, N, OBS_SIZE), float32, on the observation's device.

    Examples
    --------
    >>> import socialmarl as sm
    >>> game = sm.ConsensusGame(sm.ring_graph(4), episode_length=5, seed=0)
    >>> v = observation_vectors(game.reset(), 5)
    >>> v.shape, v[0, 0, 1:].tolist()   # step 0: own output wait, both neighbours wait
    (torch.Size([1, 4, 10]), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0])
    """
    return agent_features(obs, episode_length, in_degree)


def _attr_names(graph: Graph, attr: str) -> list[str] | None:
    """The node attribute ``attr`` as ``N`` unique non-empty strings, else ``None``."""
    values = graph.node_attrs.get(attr)
    if values is None:
        return None
    names = list(values)
    if len(names) != graph.num_nodes or not all(isinstance(v, str) and v for v in names):
        return None
    return names if len(set(names)) == len(names) else None


def _agent_names(graph: Graph, agent_names: str | Sequence[str] | None) -> list[str]:
    """The agents' names in node order (see the module docstring)."""
    n = graph.num_nodes
    if isinstance(agent_names, str):
        if agent_names not in graph.node_attrs:
            raise ValueError(
                f"agent_names={agent_names!r} is not a node attribute of the graph (it has "
                f"{sorted(graph.node_attrs)}); give one of those, a list of {n} names, or None "
                "for 'agent_<id>'"
            )
        names = _attr_names(graph, agent_names)
        if names is None:
            raise ValueError(
                f"agent_names={agent_names!r}: the node attribute is not {n} unique non-empty "
                "strings; give a list of names, or None for 'agent_<id>'"
            )
        return names
    if agent_names is not None:
        names = list(agent_names)
        if len(names) != n:
            raise ValueError(
                f"agent_names has {len(names)} names for {n} agents; give one per node"
            )
        bad = [v for v in names if not (isinstance(v, str) and v)]
        if bad:
            raise ValueError(
                f"agent_names must be non-empty strings; got {bad[0]!r}"
            )
        if len(set(names)) != n:
            dup = next(v for v in names if names.count(v) > 1)
            raise ValueError(f"agent_names must be unique; {dup!r} appears more than once")
        return names
    for attr in _NAME_ATTRS:
        names = _attr_names(graph, attr)
        if names is not None:
            return names
    return [f"agent_{i}" for i in range(n)]


class ConsensusParallelEnv(_ParallelEnvBase):  # type: ignore[misc,valid-type]
    """The consensus game on one network as a PettingZoo ``ParallelEnv``.

    Parameters
    ----------
    graph : Graph or Network
        Who observes whom. A :class:`~socialmarl.networks.Network` (``sm.load_network``)
        brings its camp process along when ``camp`` is not given.
    config : GameConfig, optional
        The rules; keyword arguments override its fields (``alpha=0.5,
        allow_wait=False``). ``num_envs`` must be 1: this is one game (use
        :class:`~socialmarl.game.ConsensusGame` or the TorchRL adapter for batches).
    camp : CampProcess, optional
        The dynamic camp process; ``None``: a static graph (or the Network's camp).
    seed : int, optional
        Seed of the first ``reset()`` without a seed (``None``: the game's default, 0).
    render_mode : {None, "rgb_array", "human"}
        What :meth:`render` does (see the module docstring).
    agent_names : str or sequence of str, optional
        A node attribute holding the names, or ``N`` unique names in node order; default
        the ``handle`` / ``username`` attribute if the graph has one, else ``"agent_<id>"``.
    **overrides
        Fields of :class:`~socialmarl.game.GameConfig`.

    Attributes
    ----------
    possible_agents : list of str
        Every agent's name, in node order.
    agents : list of str
        The agents still playing: all of them during an episode, none after it ends.
    game : ConsensusGame
        The game being played (one environment; replaced by ``reset(seed=...)``).

    Examples
    --------
    >>> import socialmarl as sm
    >>> env = ConsensusParallelEnv(sm.load_network("camp_sample"), allow_wait=False)
    >>> obs, infos = env.reset(seed=0)
    >>> env.action_space(env.possible_agents[0]), env.observation_space("agent_0").shape
    (Discrete(2), (10,))
    >>> obs, rewards, terms, truncs, infos = env.step({a: 1 for a in env.agents})
    >>> sorted(infos["agent_0"])
    ['accuracy', 'agreement', 'conformity_reward', 'entropy', 'truth', 'truth_reward']
    """

    metadata: dict[str, Any] = {
        "name": "socialmarl_consensus_v0",
        "render_modes": ["human", "rgb_array"],
        "render_fps": 4,
        "is_parallelizable": True,
    }

    def __init__(
        self,
        graph: Graph | Network,
        config: GameConfig | None = None,
        *,
        camp: CampProcess | None = None,
        seed: int | None = None,
        render_mode: str | None = None,
        agent_names: str | Sequence[str] | None = None,
        **overrides: Any,
    ) -> None:
        _require_pettingzoo()
        if isinstance(graph, Network):
            camp = graph.camp if camp is None else camp
            graph = graph.graph
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode={render_mode!r} is not supported; choose None, 'rgb_array' or "
                "'human'"
            )
        self._graph, self._camp, self._seed = graph, camp, seed
        self.game = ConsensusGame(graph, config, camp=camp, seed=seed, **overrides)
        if self.game.num_envs != 1:
            raise ValueError(
                f"num_envs={self.game.num_envs}: ConsensusParallelEnv plays one game; leave "
                "num_envs at 1 (use ConsensusGame or the TorchRL adapter for batches)"
            )
        self._in_degree = self.game.graph.in_degree()  # static: computed once
        self.render_mode = render_mode
        self.possible_agents: list[str] = _agent_names(graph, agent_names)
        self.agents: list[str] = []
        self._index = {a: i for i, a in enumerate(self.possible_agents)}
        n_actions = self.game.num_actions
        max_degree = float(self._in_degree.max()) if graph.num_nodes else 0.0
        low = np.zeros(OBS_SIZE, dtype=np.float32)
        high = np.ones(OBS_SIZE, dtype=np.float32)
        low[0], high[0] = -np.inf, np.inf  # the signal is Gaussian
        high[OBS_FIELDS.index("in_degree")] = max(max_degree, 1.0)
        self._obs_spaces = {
            a: gymnasium.spaces.Box(low, high, dtype=np.float32) for a in self.possible_agents
        }
        self._act_spaces = {
            a: gymnasium.spaces.Discrete(n_actions) for a in self.possible_agents
        }
        self._started = False      # reset() has been called once
        self._game_reset = False   # the game auto-started a new episode at the last step
        self._obs: Observation | None = None  # the current observation (environment frame)
        self._truth = 0                        # the current episode's truth (for render)
        self._state_space: Any = None
        self._fig: Any = None
        self._pos: np.ndarray | None = None

    # ------------------------------------------------------------------ spaces and names
    def observation_space(self, agent: str) -> Any:
        """The (cached) ``Box(OBS_SIZE,)`` observation space of ``agent``."""
        return self._obs_spaces[self._check_agent(agent)]

    def action_space(self, agent: str) -> Any:
        """The (cached) ``Discrete(3)`` (``Discrete(2)`` without wait) action space."""
        return self._act_spaces[self._check_agent(agent)]

    @property
    def observation_spaces(self) -> dict[str, Any]:
        """Every agent's observation space, by name."""
        return dict(self._obs_spaces)

    @property
    def action_spaces(self) -> dict[str, Any]:
        """Every agent's action space, by name."""
        return dict(self._act_spaces)

    def agent_index(self, agent: str) -> int:
        """The node id of the agent called ``agent``.

        Examples
        --------
        >>> import socialmarl as sm
        >>> ConsensusParallelEnv(sm.ring_graph(5)).agent_index("agent_3")
        3
        """
        return self._index[self._check_agent(agent)]

    def _check_agent(self, agent: Any) -> str:
        if agent not in self._index:
            first = ", ".join(repr(a) for a in self.possible_agents[:3])
            raise UnknownAgentError(
                f"unknown agent {agent!r}; this environment's {len(self.possible_agents)} "
                f"agents are named like {first} (see env.possible_agents)"
            )
        return agent

    # ------------------------------------------------------------------ episodes
    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """Start an episode; returns ``(observations, infos)`` keyed by agent name.

        Parameters
        ----------
        seed : int, optional
            Start the game afresh with this seed (as ``ConsensusGame(..., seed=seed)``);
            ``None`` continues the game's random stream (see the module docstring).
        options : dict, optional
            Accepted for the PettingZoo API and ignored.
        """
        if seed is not None:
            self.game = ConsensusGame(self._graph, self.game.config, camp=self._camp,
                                      seed=seed)
            obs = self.game.reset()
        elif self._game_reset:
            obs = self.game.observation()  # the episode the game drew at the last step
        else:
            obs = self.game.reset()
        self._started, self._game_reset = True, False
        self._obs, self._truth = obs, int(self.game.truth[0])
        self.agents = list(self.possible_agents)
        observations = self._observations(obs)
        if self.render_mode == "human":
            self.render()
        return observations, {a: {} for a in self.agents}

    def step(self, actions: Mapping[str, Any]) -> tuple[
        dict[str, np.ndarray], dict[str, float], dict[str, bool], dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Play one step with every live agent's action.

        Parameters
        ----------
        actions : dict
            ``{agent name: action}`` for every agent in :attr:`agents`; an action is an
            integer in the agent's action space (0, 1, or 2 for wait), in the agent's own
            frame under other-play.

        Returns
        -------
        tuple of dict
            ``(observations, rewards, terminations, truncations, infos)`` keyed by agent.
        """
        if not self._started:
            raise RuntimeError("call env.reset() before env.step()")
        if not self.agents:
            raise RuntimeError(
                "the episode is over (every agent terminated); call env.reset() to start "
                "the next one"
            )
        prev = self._obs
        assert prev is not None
        own = self._action_tensor(actions)
        env_actions = to_env_actions(own[None, :], prev.flips)
        step_edges = prev.edge_active
        result = self.game.step(env_actions)
        ended = bool(result.done[0])
        if ended:
            # the game has already started its next episode; show the terminal state
            obs = replace(prev, own_output=env_actions, t=prev.t + 1, edge_active=step_edges)
        else:
            obs = result.obs
        self._obs, self._game_reset = obs, ended
        agents = self.agents
        observations = self._observations(obs)
        rewards = dict(zip(agents, result.reward[0].tolist()))
        infos = self._infos(result.info)
        terminations = dict.fromkeys(agents, ended)
        truncations = dict.fromkeys(agents, False)
        if ended:
            self.agents = []
        if self.render_mode == "human":
            self.render()
        return observations, rewards, terminations, truncations, infos

    def _action_tensor(self, actions: Mapping[str, Any]) -> torch.Tensor:
        """``(N,)`` int64 actions in node order, after checking names and values."""
        if not isinstance(actions, Mapping):
            raise TypeError(
                f"actions must be a dict {{agent name: action}}, got {type(actions).__name__}"
            )
        for name in actions:
            if name not in self._index:
                self._check_agent(name)
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise ValueError(
                f"no action for {len(missing)} live agent(s), e.g. {missing[0]!r}; every "
                "agent in env.agents must act at every step"
            )
        n_actions = self.game.num_actions
        codes = []
        for name in self.agents:
            a = actions[name]
            if isinstance(a, np.ndarray) and a.shape == ():
                a = a.item()
            elif isinstance(a, torch.Tensor) and a.numel() == 1 and not a.is_floating_point():
                a = a.item()
            if isinstance(a, bool) or not isinstance(a, numbers.Integral):
                raise TypeError(
                    f"action of {name!r} is {a!r} ({type(a).__name__}); give an integer "
                    f"in 0..{n_actions - 1}"
                )
            if not 0 <= int(a) < n_actions:
                allowed = "0, 1 or 2 (wait)" if n_actions == 3 else "0 or 1 (wait is off)"
                raise ValueError(
                    f"action {int(a)} of {name!r} is outside its action space "
                    f"Discrete({n_actions}); give {allowed}"
                )
            codes.append(int(a))
        return torch.tensor(codes, dtype=torch.long, device=self.game.device)

    def _observations(self, obs: Observation) -> dict[str, np.ndarray]:
        vectors = observation_vectors(obs.to_agent_frame(), self.game.config.episode_length,
                                      self._in_degree)
        arr = vectors[0].cpu().numpy()
        return {a: arr[i] for i, a in enumerate(self.agents)}

    def _infos(self, info: Mapping[str, torch.Tensor]) -> dict[str, dict[str, Any]]:
        agreement = float(info["agreement"][0])
        shared = {
            "accuracy": float(info["accuracy"][0]),
            "entropy": float(info["entropy"][0]),
            "agreement": None if math.isnan(agreement) else agreement,
            "truth": int(info["truth"][0]),
        }
        truth_r = info["truth_reward"][0].tolist()
        conf_r = info["conformity_reward"][0].tolist()
        return {
            a: {**shared, "truth_reward": truth_r[i], "conformity_reward": conf_r[i]}
            for i, a in enumerate(self.agents)
        }

    def state(self) -> np.ndarray:
        """Every agent's observation vector in the environment's frame, flat ``(N * OBS_SIZE,)``.

        A global state for centralised critics (other-play flips undone).
        """
        if self._obs is None:
            raise RuntimeError("call env.reset() before env.state()")
        v = observation_vectors(self._obs, self.game.config.episode_length, self._in_degree)
        return v[0].reshape(-1).cpu().numpy()

    @property
    def state_space(self) -> Any:
        """The ``Box`` of :meth:`state`."""
        if self._state_space is None:
            one, n = self._obs_spaces[self.possible_agents[0]], len(self.possible_agents)
            self._state_space = gymnasium.spaces.Box(
                np.tile(one.low, n), np.tile(one.high, n), dtype=np.float32)
        return self._state_space

    # ------------------------------------------------------------------ rendering
    def render(self) -> np.ndarray | None:
        """Draw the network coloured by the current outputs.

        Returns an ``(H, W, 3)`` ``uint8`` array with ``render_mode="rgb_array"``; shows a
        matplotlib window with ``"human"`` (returns ``None``). Without a render mode it
        warns and returns ``None``, as Gymnasium environments do.
        """
        if self.render_mode is None:
            warnings.warn(
                "render() was called without a render_mode; pass render_mode='rgb_array' "
                "or 'human' to ConsensusParallelEnv",
                stacklevel=2,
            )
            return None
        if self._obs is None:
            raise RuntimeError("call env.reset() before env.render()")
        if self.render_mode == "rgb_array":
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            if self._fig is None:
                self._fig = Figure(figsize=(5, 5), dpi=80)
                FigureCanvasAgg(self._fig)
            self._draw(self._fig)
            self._fig.canvas.draw()
            return np.asarray(self._fig.canvas.buffer_rgba())[..., :3].copy()
        import matplotlib.pyplot as plt

        if self._fig is None or not plt.fignum_exists(self._fig.number):
            self._fig = plt.figure(figsize=(6, 6))
        self._draw(self._fig)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*non-interactive.*")
            plt.show(block=False)
            plt.pause(1.0 / self.metadata["render_fps"])
        return None

    def _layout(self) -> np.ndarray:
        if self._pos is None:
            import networkx as nx

            g = self.game.graph.to("cpu").to_networkx()
            # fewer iterations on big graphs: a 1000-node layout takes ~3 s instead of ~9 s
            pos = nx.spring_layout(g, seed=0, iterations=50 if g.number_of_nodes() <= 300 else 20)
            self._pos = np.array([pos[i] for i in range(self.game.num_agents)], dtype=float)
        return self._pos

    def _draw(self, fig: Any) -> None:
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D

        obs = self._obs
        assert obs is not None
        pos = self._layout()
        fig.clear()
        ax = fig.add_subplot(1, 1, 1)
        src, dst = self.game.graph.edge_index.cpu().numpy()
        if obs.edge_active is not None:
            keep = obs.edge_active[0].cpu().numpy()
            src, dst = src[keep], dst[keep]
        ax.add_collection(LineCollection(
            np.stack([pos[src], pos[dst]], axis=1), colors="#999999", linewidths=0.4,
            alpha=0.5, zorder=1,
        ))
        outputs = obs.own_output[0].cpu().numpy()
        ax.scatter(pos[:, 0], pos[:, 1], c=[_COLOURS[int(o)] for o in outputs], s=60,
                   edgecolors="black", linewidths=0.4, zorder=2)
        counts = np.bincount(outputs, minlength=3)
        ax.legend(
            handles=[Line2D([], [], marker="o", ls="", color=_COLOURS[c],
                            label=f"{_CODE_NAMES[c]} ({counts[c]})") for c in range(3)],
            loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=3, frameon=False,
        )
        t, T = int(obs.t[0]), self.game.config.episode_length
        ax.set_title(f"{self.game.graph.name}: step {t}/{T}, truth {self._truth}")
        ax.set_axis_off()
        ax.autoscale_view()

    def close(self) -> None:
        """Close the render figure, if any."""
        if self._fig is not None:
            if self.render_mode == "human":
                import matplotlib.pyplot as plt

                plt.close(self._fig)
            self._fig = None

    def __repr__(self) -> str:
        c = self.game.config
        return (
            f"ConsensusParallelEnv(graph={self.game.graph.name!r}, "
            f"agents={len(self.possible_agents)}, T={c.episode_length}, alpha={c.alpha}, "
            f"allow_wait={c.allow_wait}, other_play={c.other_play}, "
            f"dynamic={self._camp is not None})"
        )
