"""The consensus game as a native batched TorchRL environment (``torchrl.envs.EnvBase``).

:class:`ConsensusTorchRLEnv` wraps one :class:`~socialmarl.game.game.ConsensusGame` of ``B``
environments and ``N`` agents without copying its rules: every reward, observation and
statistic is the game's own. It needs the optional extra (``pip install
"socialmarl[torchrl]"``); this module imports without it, and constructing the environment
then raises an ``ImportError`` that says so.

Conventions chosen (TorchRL's multi-agent layout, as in its VMAS and PettingZoo envs):

* **Batch and group.** ``env.batch_size == (B,)`` (``num_envs``); the agents form one group,
  ``"agents"``, of ``N`` (every per-agent entry is ``("agents", ...)`` with shape
  ``(B, N, ...)``). The agents share one reward function, so one group suffices.
* **Observation** ``("agents", "observation")``, float32 ``(B, N, 10)``, in each agent's own
  frame (other-play flips applied where ``other_play`` is on), the same 10 numbers at any
  ``N``: :data:`~socialmarl.adapters.features.FEATURES`, defined once in
  :mod:`socialmarl.adapters.features` for both adapters (the private signal; the agent's
  own previous output, one-hot; the *shares* of its in-neighbours whose previous output it
  sees as 0, as 1, as wait, or does not see at all; its in-degree; the progress ``t / T``).
  At ``t = 0`` every output reads wait. :func:`observation_features` computes it from a
  game :class:`~socialmarl.game.observation.Observation`.
* **Graph-aware policies** read ``"edge_codes"`` ``(B, E)`` (what each edge's receiver
  sees of its sender, in the receiver's frame; 3 = edge inactive, see
  :attr:`Observation.edge_codes`), ``"step"`` ``(B, 1)`` and the attribute
  :attr:`ConsensusTorchRLEnv.edge_index` ``(2, E)`` (row 0 sender, row 1 receiver).
* **Actions** ``("agents", "action")``: one categorical code per agent, int64 ``(B, N)``,
  in the agent's own frame: 0, 1, and 2 (wait) where ``allow_wait`` is on. The environment
  swaps flipped agents' guesses back (:func:`~socialmarl.game.observation.to_env_actions`).
* **Rewards** ``("agents", "reward")`` ``(B, N, 1)``: the game's reward per agent.
* **Done.** An episode ends after ``T = episode_length`` steps, a true end (``t`` is
  observed; nothing comes after it): ``"done"`` and ``"terminated"`` are true,
  ``"truncated"`` is always false. They are ``(B, 1)`` at the root and copied per agent as
  ``("agents", "done" | "terminated" | "truncated")`` ``(B, N, 1)``, so TorchRL's GAE and
  PPO loss take them with the per-agent reward unchanged.
* **Infos** (observation entries, zero after a reset): ``("info", "accuracy" | "entropy" |
  "agreement")`` float32 ``(B, 1)`` (agreement NaN where no edge was active) and
  ``("info", "truth")`` int64 ``(B, 1)``, the truth of the episode the step belonged to;
  per agent ``("agents", "info", "truth_reward" | "conformity_reward")`` ``(B, N, 1)``.
  They are the game's :class:`~socialmarl.game.game.StepResult` ``info``.
* **The end of an episode.** The game resets an environment itself when its episode ends
  (drawing the next episode at that step). The step's ``"next"`` observation is the
  *terminal* one (the outputs of the last step, ``t = T``, seen along the edges of that
  last step); the next episode's first observation comes from ``reset`` (TorchRL's
  collectors and ``rollout`` call it with ``"_reset"`` on the done environments). That
  reset hands out the episode the game already drew, so the adapter plays exactly the
  game's episodes for the same seed and actions. A reset of an environment in mid-episode
  (``"_reset"`` true where it is not done) starts a new episode there with the game's
  partial reset (:meth:`ConsensusGame.reset` with a mask); the others play on.
* **Seeds.** ``seed=`` is the game's seed. TorchRL's :meth:`set_seed` replaces
  :attr:`game` with the same game (its config as it stands) built with the new seed, and
  the next reset draws every environment's episode afresh from its streams.
* **Device.** Chosen at construction (``device="cuda"``), where the game and every tensor
  live; build another environment to change it.
"""

from __future__ import annotations

from typing import Any

import torch

from ..common.checks import as_int
from ..game.game import ConsensusGame, GameConfig
from ..game.observation import NUM_CODES, Observation, to_env_actions
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from ..networks.network import Network
from .features import FEATURES, agent_features

try:  # the optional extra; without it the class below cannot be constructed
    from tensordict import TensorDict, TensorDictBase
    from torchrl.data import Bounded, Categorical, Composite, Unbounded
    from torchrl.envs import EnvBase
except ImportError as _err:  # pragma: no cover - exercised in a test by hiding torchrl
    _TORCHRL_ERROR: ImportError | None = _err
    EnvBase = object  # type: ignore[assignment,misc]
else:
    _TORCHRL_ERROR = None

__all__ = ["ConsensusTorchRLEnv", "observation_features", "FEATURES", "require_torchrl"]

INSTALL_HINT = 'pip install "socialmarl[torchrl]"'


def require_torchrl() -> None:
    """Raise an ``ImportError`` naming the extra to install when TorchRL is missing.

    Examples
    --------
    >>> require_torchrl()  # silent where torchrl and tensordict are installed
    """
    if _TORCHRL_ERROR is not None:
        raise ImportError(
            "the TorchRL adapter needs torchrl and tensordict, which are not installed "
            f"({_TORCHRL_ERROR}); install the extra: {INSTALL_HINT}"
        ) from _TORCHRL_ERROR


def observation_features(
    obs: Observation, episode_length: int, in_degree: torch.Tensor | None = None
) -> torch.Tensor:
    """The ``(B, N, 10)`` per-agent :data:`FEATURES` of a game observation, agents' frames.

    :func:`socialmarl.adapters.features.agent_features` of ``obs.to_agent_frame()`` (or of
    ``obs`` when it is already in the agents' frames).

    Parameters
    ----------
    obs : Observation
        What :meth:`ConsensusGame.reset` or :meth:`~ConsensusGame.step` returned, in the
        environment's frame or already in the agents' frames.
    episode_length : int
        ``T``, to scale the step to ``t / T``.
    in_degree : Tensor, shape (N,), optional
        In-degree of each agent in the graph (computed from ``obs.edge_index`` if omitted).

    Returns
    -------
    Tensor, float32, shape (B, N, 10)

    Examples
    --------
    >>> import socialmarl as sm
    >>> game = sm.ConsensusGame(sm.ring_graph(5), num_envs=2, seed=0)
    >>> x = observation_features(game.reset(), episode_length=20)
    >>> x.shape, x[0, 0, 1:].tolist()      # at t = 0 every output reads wait
    (torch.Size([2, 5, 10]), [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 2.0, 0.0])
    """
    own = obs if obs.in_agent_frame else obs.to_agent_frame()
    return agent_features(own, episode_length, in_degree)


class ConsensusTorchRLEnv(EnvBase):
    """``B`` consensus games as one batched TorchRL environment with an agent group of ``N``.

    The conventions (keys, shapes, frames, the end of an episode) are in the module
    docstring of :mod:`socialmarl.adapters.torchrl_env`.

    Parameters
    ----------
    graph : Graph or Network
        Who observes whom. A :class:`~socialmarl.networks.network.Network` brings its camp
        process (``sm.load_network("camp_sample")``).
    config : GameConfig, optional
        The rules; keyword arguments override its fields (``num_envs=8, alpha=1.0``), as
        for :class:`~socialmarl.game.game.ConsensusGame`.
    camp : CampProcess, optional
        The dynamic camp process (overrides a Network's); ``None``: static graph.
    device : str or torch.device
        Where the game and every tensor live.
    seed : int
        Seed of the game's random streams (:meth:`set_seed` changes it later).
    check_actions : bool
        Validate action codes at every step (a device sync on CUDA).

    Attributes
    ----------
    game : ConsensusGame
        The game played.
    edge_index : Tensor, shape (2, E)
        The game's edges (sender row 0, receiver row 1), for graph-aware policies.
    in_degree : Tensor, shape (N,)
        Each agent's in-degree in the graph (turns shares back into counts).

    Examples
    --------
    >>> import socialmarl as sm
    >>> from socialmarl.adapters import ConsensusTorchRLEnv
    >>> env = ConsensusTorchRLEnv(sm.karate_club(), num_envs=4, episode_length=5, seed=0)
    >>> td = env.reset()
    >>> td["agents", "observation"].shape, env.edge_index.shape
    (torch.Size([4, 34, 10]), torch.Size([2, 156]))
    >>> rollout = env.rollout(5)             # random actions from the action spec
    >>> rollout["next", "agents", "reward"].shape
    torch.Size([4, 5, 34, 1])
    >>> rollout["next", "done"][:, -1].all().item()
    True
    """

    def __init__(
        self,
        graph: Graph | Network,
        config: GameConfig | None = None,
        *,
        camp: CampProcess | None = None,
        device: str | torch.device = "cpu",
        seed: int = 0,
        check_actions: bool = True,
        **overrides: Any,
    ) -> None:
        require_torchrl()
        if isinstance(graph, Network):
            camp = graph.camp if camp is None else camp
            graph = graph.graph
        game = ConsensusGame(graph, config, camp=camp, device=device, seed=seed,
                             check_actions=check_actions, **overrides)
        super().__init__(device=game.device, batch_size=torch.Size([game.num_envs]))
        self.game = game
        self.edge_index = game.graph.edge_index
        self.in_degree = game.graph.in_degree()
        self.episode_length = game.config.episode_length
        # environments whose episode ended at the last step: the game already drew their
        # next episode, which the next reset hands out instead of drawing another
        self._pending = torch.zeros(game.num_envs, dtype=torch.bool, device=game.device)
        self._fresh_streams = True  # the next reset draws every environment afresh
        self._make_specs()

    # ------------------------------------------------------------------ sizes
    @property
    def num_agents(self) -> int:
        """Number of agents ``N``."""
        return self.game.num_agents

    @property
    def num_actions(self) -> int:
        """3 with the wait action, else 2."""
        return self.game.num_actions

    # ------------------------------------------------------------------ specs
    def _make_specs(self) -> None:
        b, n, e = self.game.num_envs, self.num_agents, self.edge_index.shape[1]
        dev, f32 = self.device, torch.float32

        def per_env(dtype: torch.dtype = f32) -> Unbounded:
            return Unbounded(shape=(b, 1), dtype=dtype, device=dev)

        def per_agent() -> Unbounded:
            return Unbounded(shape=(b, n, 1), dtype=f32, device=dev)

        def flags(*shape: int) -> Categorical:
            return Categorical(n=2, shape=shape, dtype=torch.bool, device=dev)

        self.observation_spec = Composite(
            agents=Composite(
                observation=Unbounded(shape=(b, n, len(FEATURES)), dtype=f32, device=dev),
                info=Composite(truth_reward=per_agent(), conformity_reward=per_agent(),
                               shape=(b, n), device=dev),
                shape=(b, n), device=dev,
            ),
            edge_codes=Categorical(n=NUM_CODES, shape=(b, e), dtype=torch.int64, device=dev),
            step=Bounded(low=0, high=self.episode_length, shape=(b, 1), dtype=torch.int64,
                         device=dev),
            info=Composite(
                accuracy=per_env(), entropy=per_env(), agreement=per_env(),
                truth=Categorical(n=2, shape=(b, 1), dtype=torch.int64, device=dev),
                shape=(b,), device=dev,
            ),
            shape=(b,), device=dev,
        )
        self.full_action_spec = Composite(
            agents=Composite(
                action=Categorical(n=self.num_actions, shape=(b, n), dtype=torch.int64,
                                   device=dev),
                shape=(b, n), device=dev,
            ),
            shape=(b,), device=dev,
        )
        self.full_reward_spec = Composite(
            agents=Composite(reward=per_agent(), shape=(b, n), device=dev),
            shape=(b,), device=dev,
        )
        self.full_done_spec = Composite(
            done=flags(b, 1), terminated=flags(b, 1), truncated=flags(b, 1),
            agents=Composite(done=flags(b, n, 1), terminated=flags(b, n, 1),
                             truncated=flags(b, n, 1), shape=(b, n), device=dev),
            shape=(b,), device=dev,
        )

    # ------------------------------------------------------------------ output
    def _observation_td(self, obs: Observation) -> dict[str, Any]:
        own = obs.to_agent_frame()
        return {
            "observation": observation_features(own, self.episode_length, self.in_degree),
            "edge_codes": own.edge_codes,
            "step": own.t[:, None],
        }

    def _output(self, obs: Observation, done: torch.Tensor, info: dict[str, torch.Tensor],
                reward: torch.Tensor | None) -> TensorDictBase:
        b, n = self.game.num_envs, self.num_agents
        parts = self._observation_td(obs)
        flag = done[:, None]
        agent_flag = flag[:, None, :].expand(b, n, 1)
        agents = {
            "observation": parts["observation"],
            "info": {"truth_reward": info["truth_reward"][..., None].to(torch.float32),
                     "conformity_reward": info["conformity_reward"][..., None].to(torch.float32)},
            "done": agent_flag.clone(),
            "terminated": agent_flag.clone(),
            "truncated": torch.zeros_like(agent_flag),
        }
        if reward is not None:
            agents["reward"] = reward[..., None].to(torch.float32)
        source = {
            "agents": TensorDict(agents, batch_size=(b, n), device=self.device),
            "edge_codes": parts["edge_codes"],
            "step": parts["step"],
            "info": {key: info[key][:, None].to(torch.float32)
                     for key in ("accuracy", "entropy", "agreement")}
                    | {"truth": info["truth"][:, None].to(torch.int64)},
            "done": flag.clone(),
            "terminated": flag.clone(),
            "truncated": torch.zeros_like(flag),
        }
        return TensorDict(source, batch_size=(b,), device=self.device)

    # ------------------------------------------------------------------ EnvBase
    def _reset_mask(self, tensordict: TensorDictBase | None) -> torch.Tensor | None:
        """``(B,)`` environments to reset, or ``None`` for all of them."""
        if tensordict is None:
            return None
        mask = tensordict.get("_reset", None)
        if mask is None:
            per_agent = tensordict.get(("agents", "_reset"), None)
            if per_agent is None:
                return None
            mask = per_agent.reshape(self.game.num_envs, -1).any(-1)
        return mask.reshape(-1).to(device=self.device, dtype=torch.bool)

    def _reset(self, tensordict: TensorDictBase | None = None, **kwargs: Any) -> TensorDictBase:
        mask = self._reset_mask(tensordict)
        game = self.game
        if self._fresh_streams or not game.state:
            game.reset()
            self._pending.zero_()
            self._fresh_streams = False
        else:
            wanted = torch.ones_like(self._pending) if mask is None else mask
            fresh = wanted & ~self._pending  # pending ones: the game drew them already
            if bool(fresh.all()):
                game.reset()
            elif bool(fresh.any()):
                game.reset(fresh)
            self._pending &= ~wanted
        b, n = game.num_envs, self.num_agents
        zeros_env = torch.zeros(b, dtype=torch.float32, device=self.device)
        zeros_agent = torch.zeros(b, n, dtype=torch.float32, device=self.device)
        info = {"accuracy": zeros_env, "entropy": zeros_env, "agreement": zeros_env,
                "truth": game.truth, "truth_reward": zeros_agent,
                "conformity_reward": zeros_agent}
        done = torch.zeros(b, dtype=torch.bool, device=self.device)
        return self._output(game.observation(), done, info, reward=None)

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        game = self.game
        before = game.observation()
        actions = tensordict.get(("agents", "action"))
        env_actions = to_env_actions(actions.long(), before.flips)
        result = game.step(env_actions)
        done = result.done
        after = result.obs
        # the terminal view where an episode ended: the old episode's signal and flips, the
        # outputs just played, the edges of the step just played (the game has moved on)
        edge_active = after.edge_active
        if before.edge_active is not None and edge_active is not None:
            edge_active = torch.where(done[:, None], before.edge_active, edge_active)
        view = Observation(
            signal=before.signal, own_output=env_actions.long(), edge_active=edge_active,
            t=before.t + 1, flips=before.flips, edge_index=before.edge_index,
        )
        self._pending = done.clone()
        return self._output(view, done, result.info, reward=result.reward)

    def _set_seed(self, seed: int | None) -> None:
        if seed is None:
            return
        # the same game (its config as it is now, after any set_params) seeded anew, so the
        # streams are exactly those of ConsensusGame(..., seed=seed)
        old = self.game
        self.game = ConsensusGame(old.graph, old.config, camp=old.camp, device=old.device,
                                  seed=as_int(seed, "seed"), check_actions=old.check_actions)
        self._fresh_streams = True

    def to(self, device: Any) -> ConsensusTorchRLEnv:
        """The environment itself when ``device`` is its own; moving it is refused."""
        if torch.device(device) == self.device or (
            torch.device(device).type == self.device.type
            and torch.device(device).index is None
        ):
            return self
        raise ValueError(
            f"this environment lives on {self.device}; the device is chosen at construction: "
            f"build another with ConsensusTorchRLEnv(..., device={str(device)!r})"
        )
