"""A learner from elsewhere: TorchRL's own collector and PPO loss on the consensus game.

:func:`train_torchrl_ppo` trains one shared per-agent policy (an MLP over the 10 features of
``("agents", "observation")``, see :mod:`socialmarl.adapters.torchrl_env`) and a shared
per-agent critic with TorchRL's parts only: its synchronous collector (``Collector``, named
``SyncDataCollector`` before torchrl 0.13), ``ClipPPOLoss`` with TorchRL's GAE value
estimator, on :class:`~socialmarl.adapters.torchrl_env.ConsensusTorchRLEnv`. Nothing of
socialmarl's own trainer is used; the point is that another library's learner plays the
game as it is.

Conventions chosen:

* The policy is memoryless (no GRU): it sees the last step's outputs through the
  neighbour shares, which is enough to beat the own-signal baseline (a hand-written
  "signal, then majority" rule reaches about 0.92 final accuracy on the karate club).
* Each collected batch is ``num_envs`` whole episodes (``frames_per_batch = num_envs *
  episode_length``); the episode's end is terminal (no bootstrap past ``T``).
* Evaluation plays fresh episodes (the environment seeded ``seed + 1``, training uses
  ``seed``) with the greedy action (arg-max of the logits) and reports the accuracy at the
  last step, beside the own-signal policy's on the same episodes.
* Seeds: parameters, action sampling and minibatch order come from torch's global stream
  seeded ``seed`` inside :func:`torch.random.fork_rng`, so the caller's global random state
  is left as it was, and the same seed gives the same run on the same machine.
"""

from __future__ import annotations

import inspect
import time
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from ..networks.graph import Graph
from ..networks.network import Network
from .torchrl_env import FEATURES, ConsensusTorchRLEnv, require_torchrl

__all__ = ["train_torchrl_ppo", "TorchRLPPOResult", "OWN_SIGNAL_BASELINE"]

#: Final-step accuracy of "follow your own signal" at sigma = 1: Phi(0.5).
OWN_SIGNAL_BASELINE = 0.69


@dataclass
class TorchRLPPOResult:
    """What :func:`train_torchrl_ppo` returns.

    Attributes
    ----------
    actor : torch.nn.Module
        The trained policy, a TorchRL ``ProbabilisticActor`` reading
        ``("agents", "observation")`` and writing ``("agents", "action")``.
    critic : torch.nn.Module
        The trained value module (writes ``("agents", "state_value")``).
    accuracy : float
        Final-step accuracy of the greedy policy on fresh evaluation episodes.
    baseline : float
        Final-step accuracy of following the own signal on the same episodes.
    seconds : float
        Wall time of training (collection and updates), without evaluation.
    frames : int
        Environment steps collected (each one step of ``N`` agents).
    history : list of dict
        Per iteration: ``iteration``, ``reward`` (mean per agent and step), ``accuracy``
        (mean final-step accuracy of the sampled actions in the batch).
    """

    actor: nn.Module
    critic: nn.Module
    accuracy: float
    baseline: float
    seconds: float
    frames: int
    history: list[dict[str, float]] = field(default_factory=list)


def _collector_class() -> Any:
    """TorchRL's single-process synchronous collector (renamed ``Collector`` in 0.13)."""
    import torchrl.collectors as collectors

    return getattr(collectors, "Collector", None) or collectors.SyncDataCollector


def _coeff_kwargs(loss_cls: Any, entropy: float) -> dict[str, float]:
    """The entropy coefficient under the name this torchrl's PPO loss uses."""
    params = inspect.signature(loss_cls.__init__).parameters
    name = "entropy_coeff" if "entropy_coeff" in params else "entropy_coef"
    return {name: entropy}


def _log_prob_key(td: Any) -> Any:
    """Where this torchrl's actor wrote the action's log-probability (the name changed
    between releases: ``sample_log_prob``, then ``("agents", "action_log_prob")``)."""
    keys = [k for k in td.keys(True, True)
            if (k[-1] if isinstance(k, tuple) else k).endswith("log_prob")]
    if len(keys) != 1:
        raise RuntimeError(f"expected one log-probability entry from the actor, found {keys}")
    return keys[0]


def _mlp(out: int, hidden: int, layers: int) -> nn.Sequential:
    mods: list[nn.Module] = []
    width = len(FEATURES)
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.Tanh()]
        width = hidden
    mods.append(nn.Linear(width, out))
    return nn.Sequential(*mods)


def _final_accuracy(env: ConsensusTorchRLEnv, policy: Any) -> float:
    """Mean final-step accuracy of one episode per environment under ``policy``."""
    with torch.no_grad():
        data = env.rollout(env.episode_length, policy=policy, break_when_any_done=False)
    return float(data["next", "info", "accuracy"][:, -1].mean())


def train_torchrl_ppo(
    graph: Graph | Network | None = None,
    *,
    alpha: float = 1.0,
    allow_wait: bool = False,
    num_envs: int = 16,
    episode_length: int = 10,
    iterations: int = 20,
    epochs: int = 4,
    minibatches: int = 4,
    hidden: int = 64,
    layers: int = 2,
    lr: float = 3e-3,
    gamma: float = 0.99,
    lmbda: float = 0.95,
    clip_epsilon: float = 0.2,
    entropy_coeff: float = 0.01,
    max_grad_norm: float = 1.0,
    eval_envs: int = 256,
    seed: int = 0,
    device: str | torch.device = "cpu",
    threads: int | None = 1,
    verbose: bool = False,
    **game_overrides: Any,
) -> TorchRLPPOResult:
    """Train a shared per-agent MLP policy with TorchRL's collector, GAE and clipped PPO loss.

    Parameters
    ----------
    graph : Graph or Network, optional
        The network; default the karate club (34 agents).
    alpha : float
        Weight of the truth reward (1: pure truth-seekers).
    allow_wait : bool
        Whether agents may wait.
    num_envs : int
        Environments per batch; each iteration collects one episode in each.
    episode_length : int
        Steps per episode ``T``.
    iterations : int
        Collection and update rounds.
    epochs, minibatches : int
        PPO passes over each batch and minibatches per pass (minibatches split the
        ``num_envs * episode_length`` environment steps, all agents of a step together).
    hidden, layers : int
        Width and depth of the actor's and the critic's MLPs.
    lr, gamma, lmbda, clip_epsilon, entropy_coeff, max_grad_norm : float
        Adam step size, discount, GAE lambda, PPO clip, entropy bonus, gradient clip.
    eval_envs : int
        Fresh episodes for the final evaluation.
    seed : int
        Seed of everything random (see the module docstring).
    device : str or torch.device
        Where the game, the networks and the batches live.
    threads : int or None
        torch's intra-op CPU threads during the call (restored after). Tensors this small
        run fastest on one thread: on a busy 2-core machine two threads made training 15x
        slower. ``None`` keeps torch's setting.
    verbose : bool
        Print one line per iteration.
    **game_overrides
        Further :class:`~socialmarl.game.game.GameConfig` fields (``sigma``, ``p_signal``,
        ``other_play`` ...).

    Returns
    -------
    TorchRLPPOResult
        The trained modules, the greedy policy's final-step accuracy on fresh episodes, the
        own-signal baseline on the same episodes, the training time and history.

    Examples
    --------
    >>> from socialmarl.adapters import train_torchrl_ppo
    >>> out = train_torchrl_ppo(iterations=1, num_envs=2, episode_length=3, eval_envs=4)
    >>> 0.0 <= out.accuracy <= 1.0, out.frames
    (True, 6)
    """
    require_torchrl()
    if graph is None:
        from ..networks.generators import karate_club

        graph = karate_club()
    if iterations < 1 or epochs < 1 or minibatches < 1:
        raise ValueError(
            f"iterations={iterations}, epochs={epochs}, minibatches={minibatches}: each "
            "must be at least 1"
        )
    if minibatches > num_envs * episode_length:
        raise ValueError(
            f"minibatches={minibatches} is more than the {num_envs * episode_length} steps "
            "of a batch; use fewer minibatches or more environments"
        )
    if threads is not None and (not isinstance(threads, int) or threads < 1):
        raise ValueError(f"threads={threads!r}: give a positive number of threads, or None")
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _train(graph, alpha=alpha, allow_wait=allow_wait, num_envs=num_envs,
                      episode_length=episode_length, iterations=iterations, epochs=epochs,
                      minibatches=minibatches, hidden=hidden, layers=layers, lr=lr,
                      gamma=gamma, lmbda=lmbda, clip_epsilon=clip_epsilon,
                      entropy_coeff=entropy_coeff, max_grad_norm=max_grad_norm,
                      eval_envs=eval_envs, seed=seed, device=device, verbose=verbose,
                      game_overrides=game_overrides)
    finally:
        torch.set_num_threads(old_threads)


def _train(graph: Graph | Network, *, alpha: float, allow_wait: bool, num_envs: int,
           episode_length: int, iterations: int, epochs: int, minibatches: int, hidden: int,
           layers: int, lr: float, gamma: float, lmbda: float, clip_epsilon: float,
           entropy_coeff: float, max_grad_norm: float, eval_envs: int, seed: int,
           device: str | torch.device, verbose: bool,
           game_overrides: dict[str, Any]) -> TorchRLPPOResult:
    """The body of :func:`train_torchrl_ppo` (arguments checked there)."""
    from tensordict.nn import TensorDictModule, TensorDictSequential
    from torchrl.modules import ProbabilisticActor
    from torchrl.objectives import ClipPPOLoss, ValueEstimators

    game_kw = dict(alpha=alpha, allow_wait=allow_wait, episode_length=episode_length,
                   **game_overrides)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        env = ConsensusTorchRLEnv(graph, num_envs=num_envs, seed=seed, device=device,
                                  **game_kw)
        n_act = env.num_actions
        obs_key, logits_key = ("agents", "observation"), ("agents", "logits")
        net = TensorDictModule(_mlp(n_act, hidden, layers).to(env.device),
                               in_keys=[obs_key], out_keys=[logits_key])
        actor = ProbabilisticActor(
            net, in_keys={"logits": logits_key}, out_keys=[("agents", "action")],
            distribution_class=torch.distributions.Categorical, return_log_prob=True,
        )
        critic = TensorDictModule(_mlp(1, hidden, layers).to(env.device), in_keys=[obs_key],
                                  out_keys=[("agents", "state_value")])
        log_prob_key = _log_prob_key(actor(env.reset()))
        loss = ClipPPOLoss(actor, critic, clip_epsilon=clip_epsilon,
                           **_coeff_kwargs(ClipPPOLoss, entropy_coeff))
        loss.set_keys(
            action=("agents", "action"), sample_log_prob=log_prob_key,
            value=("agents", "state_value"), reward=("agents", "reward"),
            done=("agents", "done"), terminated=("agents", "terminated"),
        )
        loss.make_value_estimator(ValueEstimators.GAE, gamma=gamma, lmbda=lmbda)
        optim = torch.optim.Adam(loss.parameters(), lr=lr)
        frames_per_batch = num_envs * episode_length
        collector_cls = _collector_class()
        extra = {}
        if "auto_register_policy_transforms" in inspect.signature(collector_cls).parameters:
            extra["auto_register_policy_transforms"] = False  # a memoryless policy: none
        collector = collector_cls(
            env, actor, frames_per_batch=frames_per_batch,
            total_frames=frames_per_batch * iterations, device=env.device, **extra,
        )
        history: list[dict[str, float]] = []
        frames = 0
        start = time.perf_counter()
        for it, data in enumerate(collector):
            frames += data.numel()
            with torch.no_grad():
                loss.value_estimator(data, params=loss.critic_network_params,
                                     target_params=loss.target_critic_network_params)
            flat = data.reshape(-1)
            size = flat.shape[0] // minibatches
            for _ in range(epochs):
                order = torch.randperm(flat.shape[0], device=flat.device)
                for k in range(minibatches):
                    batch = flat[order[k * size:(k + 1) * size]]
                    parts = loss(batch)
                    total = parts["loss_objective"] + parts["loss_critic"]
                    if "loss_entropy" in parts.keys():
                        total = total + parts["loss_entropy"]
                    optim.zero_grad()
                    total.backward()
                    nn.utils.clip_grad_norm_(loss.parameters(), max_grad_norm)
                    optim.step()
            collector.update_policy_weights_()
            row = {
                "iteration": float(it),
                "reward": float(data["next", "agents", "reward"].mean()),
                "accuracy": float(data["next", "info", "accuracy"][:, -1].mean()),
            }
            history.append(row)
            if verbose:
                print(f"iteration {it:3d}  reward {row['reward']:+.4f}  "
                      f"final accuracy (sampled) {row['accuracy']:.3f}")
        seconds = time.perf_counter() - start
        collector.shutdown()

        greedy = TensorDictSequential(
            net, TensorDictModule(lambda logits: logits.argmax(-1), in_keys=[logits_key],
                                  out_keys=[("agents", "action")]),
        )
        own_signal = TensorDictModule(
            lambda obs: (obs[..., 0] > 0.5).long(), in_keys=[obs_key],
            out_keys=[("agents", "action")],
        )
        evals = []
        for policy in (greedy, own_signal):
            eval_env = ConsensusTorchRLEnv(graph, num_envs=eval_envs, seed=seed + 1,
                                           device=device, **game_kw)
            evals.append(_final_accuracy(eval_env, policy))
    return TorchRLPPOResult(actor=actor, critic=critic, accuracy=evals[0], baseline=evals[1],
                            seconds=seconds, frames=frames, history=history)
