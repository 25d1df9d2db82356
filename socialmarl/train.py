"""Recurrent IPPO with parameter sharing, other-play and curricula (DESIGN sections 2-4).

One :class:`TrainConfig` holds every knob, each with a docstring. :class:`Trainer` runs the
loop, readable top to bottom in :meth:`Trainer.train_update`:

1. apply the curricula (signal probability, percolation, alpha = 0 shaping);
2. roll out whole episodes of all environments with the current policies (no host sync);
3. compute GAE advantages per agent;
4. for ``update_epochs`` epochs, over minibatches of *environments* (all agents of an
   environment stay together), re-run the recurrent policy over the rollout and take an
   Adam step on the clipped PPO loss + value loss - entropy bonus + belief loss;
5. log a row per population (returns, accuracy, entropy, losses, agent-steps per second).

An alpha sweep trains one population (its own parameters and optimiser) per alpha in the
same batched game: environments ``[p * envs_per_alpha, (p + 1) * envs_per_alpha)`` belong
to population ``p``. Checkpoints are written atomically and hold everything (parameters,
optimiser state, game state and random generators), so a resumed run continues exactly as
an uninterrupted one would on CPU.
"""

from __future__ import annotations

import io
import json
import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from .config import (
    atomic_write_bytes,
    atomic_write_text,
    config_from_dict,
    config_to_dict,
    save_json,
)
from .curricula import schedule_values
from .game import ConsensusGame, GameConfig
from .networks.graph import Graph
from .observation import Observation, to_env_actions
from .policy import AttentionPlan, AttentionPolicy, PolicyConfig
from .ppo import compute_gae, ppo_losses

__all__ = ["TrainConfig", "Trainer", "train", "load_population", "graph_to_dict", "graph_from_dict"]


@dataclass
class TrainConfig:
    """Everything that defines a training run (saved with every run as ``config.json``)."""

    alphas: list[float] = field(default_factory=lambda: [1.0])
    """One population is trained per alpha (truth weight in [0, 1]), all in one batched game."""
    envs_per_alpha: int = 16
    """Parallel environments per population."""
    num_updates: int = 200
    """PPO updates (each one rollout of ``episodes_per_rollout`` whole episodes)."""
    episode_length: int = 20
    """Steps per episode ``T``."""
    episodes_per_rollout: int = 1
    """Whole episodes per rollout; rollouts always end at an episode boundary."""
    sigma: float = 1.0
    """Signal noise standard deviation."""
    p_signal: float = 1.0
    """Target probability that an agent receives a signal."""
    p_signal_start: float = 1.0
    """Signal probability at the start of training (decays linearly to ``p_signal``)."""
    p_signal_decay_frac: float = 0.5
    """Fraction of training over which ``p_signal`` decays to its target."""
    perc_start: float = 1.0
    """Edge survival probability at the start; rises to 1.0 on a sigmoid (1.0: no curriculum)."""
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
    allow_wait: bool = True
    """Whether agents may wait instead of guessing."""
    other_play: bool = True
    """Train with other-play flips (label symmetry broken per agent and episode)."""
    interaction_rate: float | None = None
    """Switching rate r of the dynamic camp process (needs ``q`` for the trainer)."""
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
    hidden: int = 50
    """Trunk and GRU width."""
    attn_dim: int = 8
    """Attention width d."""
    seed: int = 0
    """Seed for parameters, the game and action sampling."""
    device: str = "cpu"
    """``cpu`` or ``cuda``."""
    checkpoint_every: int = 50
    """Write a checkpoint every this many updates (and at the end), when a folder is given."""

    def __post_init__(self) -> None:
        if not self.alphas:
            raise ValueError("alphas is empty; give at least one alpha in [0, 1]")
        for a in self.alphas:
            if not isinstance(a, (int, float)) or math.isnan(a) or not 0 <= a <= 1:
                raise ValueError(f"alpha={a!r} is outside [0, 1]")
        if len(set(self.alphas)) != len(self.alphas):
            raise ValueError(f"alphas {self.alphas} repeat a value; give each alpha once")
        for name in ("envs_per_alpha", "num_updates", "episode_length", "episodes_per_rollout",
                     "update_epochs", "num_minibatches", "hidden", "attn_dim"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name}={v!r}: need an integer >= 1")
        if self.num_minibatches > self.envs_per_alpha:
            raise ValueError(
                f"num_minibatches={self.num_minibatches} exceeds envs_per_alpha="
                f"{self.envs_per_alpha}; minibatches keep environments whole"
            )
        for name in ("p_signal", "p_signal_start", "perc_start", "gamma", "gae_lambda",
                     "p_signal_decay_frac", "alpha0_signal_anneal_frac", "alpha0_shaping",
                     "alpha0_shaping_frac"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or math.isnan(v) or not 0 <= v <= 1:
                raise ValueError(f"{name}={v!r} must lie in [0, 1]")
        if self.perc_start <= 0:
            raise ValueError("perc_start must be > 0 (some edges must survive)")
        for name in ("lr", "clip_coef", "max_grad_norm"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or not v > 0:
                raise ValueError(f"{name}={v!r} must be > 0")

    @property
    def num_envs(self) -> int:
        """Total environments ``len(alphas) * envs_per_alpha``."""
        return len(self.alphas) * self.envs_per_alpha

    def game_config(self) -> GameConfig:
        """The game this run plays (alpha per environment)."""
        return GameConfig(
            num_envs=self.num_envs,
            episode_length=self.episode_length,
            alpha=[float(a) for a in self.alphas for _ in range(self.envs_per_alpha)],
            sigma=self.sigma,
            p_signal=self.p_signal_start,
            allow_wait=self.allow_wait,
            p_perc=self.perc_start,
            other_play=self.other_play,
            interaction_rate=self.interaction_rate,
        )

    def policy_config(self) -> PolicyConfig:
        """The policy architecture of every population."""
        return PolicyConfig(
            hidden=self.hidden, attn_dim=self.attn_dim, num_actions=3 if self.allow_wait else 2
        )


def graph_to_dict(graph: Graph) -> dict[str, Any]:
    """A graph as plain tensors and strings (safe for ``torch.load(weights_only=True)``)."""
    return {
        "num_nodes": graph.num_nodes,
        "edge_index": graph.edge_index.cpu(),
        "edge_weight": None if graph.edge_weight is None else graph.edge_weight.cpu(),
        "name": graph.name,
        "directed": graph.directed,
        "node_attrs": json.dumps(graph.node_attrs, default=str),
    }


def graph_from_dict(d: dict[str, Any]) -> Graph:
    """Inverse of :func:`graph_to_dict`."""
    return Graph(
        d["num_nodes"], d["edge_index"], d["edge_weight"], json.loads(d["node_attrs"]),
        d["name"], d["directed"],
    )


def _slice_obs(obs: Observation, sl: slice) -> Observation:
    return Observation(
        signal=obs.signal[sl],
        own_output=obs.own_output[sl],
        edge_active=None if obs.edge_active is None else obs.edge_active[sl],
        t=obs.t[sl],
        flips=obs.flips[sl],
        edge_index=obs.edge_index,
        in_agent_frame=obs.in_agent_frame,
    )


def _atomic_torch_save(obj: Any, path: Path) -> None:
    buf = io.BytesIO()
    torch.save(obj, buf)
    atomic_write_bytes(path, buf.getvalue())


class Trainer:
    """Trains one population per alpha on a graph with recurrent IPPO.

    Parameters
    ----------
    graph : Graph
        The social network (its edges define who observes whom).
    config : TrainConfig, optional
        The run; keyword arguments override its fields.
    out_dir : str or Path, optional
        Results folder: ``config.json``, ``log.csv``, ``checkpoint.pt``. ``None`` keeps
        everything in memory.
    q : Tensor, shape (E,), optional
        Interaction probabilities for the dynamic camp process (with ``interaction_rate``).
    progress : bool
        Show a tqdm progress bar.

    Examples
    --------
    >>> import socialmarl as sm
    >>> tr = sm.Trainer(sm.ring_graph(8), num_updates=2, envs_per_alpha=4, num_minibatches=2,
    ...                 episode_length=5, progress=False)
    >>> log = tr.train()
    >>> list(log["update"])
    [1, 2]
    """

    def __init__(
        self,
        graph: Graph,
        config: TrainConfig | None = None,
        *,
        out_dir: str | os.PathLike | None = None,
        q: torch.Tensor | None = None,
        progress: bool = True,
        **overrides: Any,
    ) -> None:
        cfg = config if config is not None else TrainConfig()
        if overrides:
            cfg = replace(cfg, **overrides)
        self.config = cfg
        self.device = torch.device(cfg.device)
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.progress = progress
        self.q = None if q is None else torch.as_tensor(q, dtype=torch.float64).cpu()
        torch.manual_seed(cfg.seed)
        self.game = ConsensusGame(
            graph, cfg.game_config(), q=self.q, device=self.device, seed=cfg.seed,
            check_actions=False,
        )
        self.graph = self.game.graph
        n = self.graph.num_nodes
        pcfg = cfg.policy_config()
        self.policies = nn.ModuleList(
            [AttentionPolicy(n, pcfg).to(self.device) for _ in cfg.alphas]
        )
        self.optimizers = [
            torch.optim.Adam(p.parameters(), lr=cfg.lr, eps=1e-5) for p in self.policies
        ]
        self.sample_gen = torch.Generator(device=self.device).manual_seed(cfg.seed + 1)
        self.perm_gen = torch.Generator().manual_seed(cfg.seed + 2)
        self.update = 0
        # Optional (N,) bool: only these agents' losses train (the local-Nash check).
        self.agent_mask: torch.Tensor | None = None
        self.log_rows: list[dict[str, Any]] = []
        self.obs = self.game.reset()
        self.slices = [
            slice(p * cfg.envs_per_alpha, (p + 1) * cfg.envs_per_alpha)
            for p in range(len(cfg.alphas))
        ]

    # ------------------------------------------------------------------ helpers
    def _plans_shared(self) -> bool:
        """True when every population is an AttentionPolicy (one plan serves them all)."""
        return all(isinstance(p, AttentionPolicy) for p in self.policies)

    def _forward(self, obs: Observation, h: torch.Tensor, plan: AttentionPlan | None = None):
        """Run each population's policy on its environments (a list, one per population)."""

        def run(pol, o, hh, pl):  # a wrapper such as nash.MixedPolicy takes no plan
            return pol(o, hh) if pl is None else pol(o, hh, plan=pl)

        if len(self.policies) == 1:
            return [run(self.policies[0], obs, h, plan)]
        return [run(pol, _slice_obs(obs, sl), h[sl],
                    None if plan is None else plan.map(lambda x, s=sl: x[s]))
                for pol, sl in zip(self.policies, self.slices)]

    def _apply_curricula(self, progress: float) -> dict[str, float]:
        cfg = self.config
        alphas, p_sig = [], []
        for a in cfg.alphas:
            vals = schedule_values(cfg, progress, float(a))
            alphas += [vals["alpha"]] * cfg.envs_per_alpha
            p_sig += [vals["p_signal"]] * cfg.envs_per_alpha
        self.game.set_params(alpha=alphas, p_signal=p_sig, p_perc=vals["p_perc"])
        return {"p_perc": vals["p_perc"]}

    # ------------------------------------------------------------------ one update
    def train_update(self) -> list[dict[str, Any]]:
        """One rollout and PPO update of every population; returns the log rows."""
        cfg, game = self.config, self.game
        start = time.perf_counter()
        progress = self.update / cfg.num_updates
        sched = self._apply_curricula(progress)
        lr_now = cfg.lr * (1.0 - progress) if cfg.anneal_lr else cfg.lr
        for opt in self.optimizers:
            for group in opt.param_groups:
                group["lr"] = lr_now

        # ---- 2. rollout: whole episodes, no host sync
        steps = cfg.episode_length * cfg.episodes_per_rollout
        b, n = game.num_envs, game.num_agents
        dev = self.device
        buf: dict[str, list[torch.Tensor]] = {k: [] for k in (
            "signal", "own_output", "flips", "edge_active", "actions", "logp", "value",
            "reward", "done", "truth", "accuracy", "agreement", "entropy")}
        h = torch.zeros(b, n, cfg.hidden, device=dev)
        obs = self.obs
        # The attention's index tensors of every step, built once: the rollout uses them,
        # and the PPO epochs reuse them (they depend on the observations only).
        plans: list[AttentionPlan] | None = [] if self._plans_shared() else None
        with torch.no_grad():
            for _ in range(steps):
                own = obs.to_agent_frame()
                plan = None
                if plans is not None:
                    plan = self.policies[0].attention_plan(own)
                    plans.append(plan)
                outs = self._forward(own, h, plan)
                logits = torch.cat([o.logits for o in outs]) if len(outs) > 1 else outs[0].logits
                value = torch.cat([o.value for o in outs]) if len(outs) > 1 else outs[0].value
                h = torch.cat([o.hidden for o in outs]) if len(outs) > 1 else outs[0].hidden
                u = torch.rand(logits.shape, generator=self.sample_gen, device=dev)
                actions = torch.argmax(logits - torch.log(-torch.log(u.clamp_min(1e-20))), -1)
                logp = torch.log_softmax(logits, -1).gather(-1, actions[..., None])[..., 0]
                truth_own = game.truth[:, None].expand(b, n) ^ own.flips.long()
                obs, reward, done, info = game.step(to_env_actions(actions, own.flips))
                for k, v in (("signal", own.signal), ("own_output", own.own_output),
                             ("flips", own.flips), ("actions", actions), ("logp", logp),
                             ("value", value), ("reward", reward), ("done", done),
                             ("truth", truth_own), ("accuracy", info["accuracy"]),
                             ("agreement", info["agreement"]), ("entropy", info["entropy"])):
                    buf[k].append(v)
                buf["edge_active"].append(own.edge_active)
                h = h * (~done).to(h.dtype)[:, None, None]
        self.obs = obs
        data = {k: torch.stack(v) for k, v in buf.items() if k != "edge_active"}
        edge_active = None if buf["edge_active"][0] is None else torch.stack(buf["edge_active"])
        if plans is not None:  # (k T, B, E + N) per plan tensor
            data["plan"] = AttentionPlan(torch.stack([q.score_index for q in plans]),
                                         torch.stack([q.value_col for q in plans]))

        # ---- 3. advantages (the rollout ends with an episode: no bootstrap needed)
        adv, ret = compute_gae(
            data["reward"], data["value"], data["done"], torch.zeros(b, n, device=dev),
            cfg.gamma, cfg.gae_lambda,
        )

        # ---- 4. PPO epochs over minibatches of whole environments, per population
        rows = []
        for p, sl in enumerate(self.slices):
            stats = self._update_population(p, sl, data, edge_active, adv, ret)
            rows.append(stats)

        # ---- 5. log
        elapsed = time.perf_counter() - start
        sps = steps * b * n / elapsed
        self.update += 1
        t_len = cfg.episode_length
        for p, (sl, stats) in enumerate(zip(self.slices, rows)):
            ep_ret = data["reward"][:, sl].sum(0).mean() / cfg.episodes_per_rollout
            final = data["accuracy"][t_len - 1 :: t_len, sl].mean()
            stats.update(
                update=self.update,
                alpha=float(cfg.alphas[p]),
                agent_steps=self.update * steps * b * n,
                episode_return=float(ep_ret),
                accuracy=float(data["accuracy"][:, sl].mean()),
                final_accuracy=float(final),
                agreement=float(data["agreement"][:, sl].mean()),
                entropy=float(data["entropy"][:, sl].mean()),
                p_signal=float(game.p_signal[sl][0]),
                p_perc=sched["p_perc"],
                effective_alpha=float(game.alpha[sl][0]),
                lr=lr_now,
                sps=sps,
                seconds=elapsed,
            )
        order = ["update", "alpha", "agent_steps", "episode_return", "accuracy",
                 "final_accuracy", "agreement", "entropy"]
        rows = [{k: r[k] for k in order} | {k: v for k, v in r.items() if k not in order}
                for r in rows]
        self.log_rows.extend(rows)
        return rows

    def _update_population(self, p, sl, data, edge_active, adv_all, ret_all) -> dict[str, Any]:
        cfg = self.config
        policy, opt = self.policies[p], self.optimizers[p]
        envs = torch.arange(sl.start, sl.stop)
        mb_size = len(envs) // cfg.num_minibatches
        t_len, k = cfg.episode_length, cfg.episodes_per_rollout
        sums: dict[str, torch.Tensor] = {}
        count = 0
        # The population's observations, stacked time-major once, and the attention's
        # index tensors built once for all epochs; a minibatch takes its environments.
        envs_dev = envs.to(self.device)
        full = self._stack_steps(data, edge_active, envs_dev)
        # (a wrapper such as nash.MixedPolicy builds its own)
        plan = None
        if isinstance(policy, AttentionPolicy):
            plan = data.get("plan")
            if plan is None:
                plan = policy.attention_plan(full)
            else:
                plan = plan.map(lambda x: self._seq(x, envs_dev))
        nb = len(envs)

        def take(x: torch.Tensor, local: torch.Tensor) -> torch.Tensor:  # (T k B, ...)
            x = x.view(t_len * k, nb, *x.shape[1:]).index_select(1, local)
            return x.view(-1, *x.shape[2:])

        for _epoch in range(cfg.update_epochs):
            perm = envs[torch.randperm(len(envs), generator=self.perm_gen)]
            for m in range(cfg.num_minibatches):
                idx = perm[m * mb_size : (m + 1) * mb_size].to(self.device)
                local = idx - sl.start
                obs = Observation(
                    signal=take(full.signal, local),
                    own_output=take(full.own_output, local),
                    edge_active=None if full.edge_active is None
                    else take(full.edge_active, local),
                    t=full.t[: t_len * k * len(idx)],
                    flips=take(full.flips, local),
                    edge_index=full.edge_index,
                    in_agent_frame=True,
                )
                if plan is None:
                    out = policy.forward_sequence(obs, t_len)
                else:
                    out = policy.forward_sequence(
                        obs, t_len, plan=plan.map(lambda x, loc=local: take(x, loc))
                    )
                logits = self._unstack(out.logits, k)
                values = self._unstack(out.value, k)
                beliefs = self._unstack(out.belief, k)
                mask = self.agent_mask

                def pick(x: torch.Tensor, mask=mask) -> torch.Tensor:  # (T, b, N, ...)
                    return x if mask is None else x[:, :, mask]

                logp_all = pick(torch.log_softmax(logits, -1))
                actions = pick(data["actions"][:, idx])
                new_logp = logp_all.gather(-1, actions[..., None])[..., 0]
                entropy = -(logp_all.exp() * logp_all).sum(-1).mean()
                adv = pick(adv_all[:, idx])
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                losses = ppo_losses(
                    new_logp, pick(data["logp"][:, idx]), adv, pick(values),
                    pick(data["value"][:, idx]), pick(ret_all[:, idx]), cfg.clip_coef,
                    cfg.clip_value,
                )
                err = pick(beliefs) - pick(data["truth"][:, idx]).float()
                belief_loss = (err**2).mean()
                loss = (losses["policy"] + cfg.vf_coef * losses["value"]
                        - cfg.ent_coef * entropy + cfg.belief_coef * belief_loss)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                grad_norm = nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm)
                opt.step()
                for name, v in (("policy_loss", losses["policy"]),
                                ("value_loss", losses["value"]), ("entropy_loss", entropy),
                                ("belief_loss", belief_loss), ("approx_kl", losses["approx_kl"]),
                                ("clipfrac", losses["clipfrac"]), ("grad_norm", grad_norm)):
                    sums[name] = sums.get(name, 0.0) + v.detach()
                count += 1
        return {k: float(v) / count for k, v in sums.items()}

    def _stack_steps(self, data, edge_active, idx) -> Observation:
        """The rollout's observations of environments ``idx`` as one time-major batch.

        A rollout of ``k`` episodes of ``T`` steps becomes ``T`` steps of ``k * b``
        independent episodes (each starts from the zero GRU state), stacked as entry
        ``t * (k b) + e`` for :meth:`AttentionPolicy.forward_sequence`.
        """
        t_len, k = self.config.episode_length, self.config.episodes_per_rollout

        def seq(x: torch.Tensor) -> torch.Tensor:  # (k T, b, ...) -> (T k b, ...)
            return self._seq(x, idx)

        return Observation(
            signal=seq(data["signal"]),
            own_output=seq(data["own_output"]),
            edge_active=None if edge_active is None else seq(edge_active),
            t=torch.zeros(t_len * k * len(idx), dtype=torch.long, device=self.device),
            flips=seq(data["flips"]),
            edge_index=self.graph.edge_index,
            in_agent_frame=True,
        )

    def _seq(self, x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """Rollout tensor ``(k T, B, ...)`` of environments ``idx`` -> ``(T k b, ...)``."""
        t_len, k = self.config.episode_length, self.config.episodes_per_rollout
        x = x[:, idx]
        x = x.reshape(k, t_len, *x.shape[1:]).transpose(0, 1)
        return x.reshape(t_len * k * x.shape[2], *x.shape[3:])

    @staticmethod
    def _unstack(x: torch.Tensor, k: int) -> torch.Tensor:
        """Inverse of the stacking: ``(T, k b, ...) -> (k T, b, ...)``."""
        t_len, kb = x.shape[:2]
        x = x.reshape(t_len, k, kb // k, *x.shape[2:]).transpose(0, 1)
        return x.reshape(k * t_len, kb // k, *x.shape[3:])

    # ------------------------------------------------------------------ driver
    def train(self, num_updates: int | None = None) -> pd.DataFrame:
        """Run until ``num_updates`` updates in total (default: the config's); returns the log.

        Writes ``config.json`` at the start, ``log.csv`` and ``checkpoint.pt`` every
        ``checkpoint_every`` updates and at the end when ``out_dir`` is set.
        """
        cfg = self.config
        target = cfg.num_updates if num_updates is None else min(num_updates, cfg.num_updates)
        if self.out_dir is not None:
            self._write_config()
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=target, initial=self.update, desc="training", unit="update")
        while self.update < target:
            rows = self.train_update()
            if bar is not None:
                bar.update(1)
                bar.set_postfix(
                    acc=f"{sum(r['final_accuracy'] for r in rows) / len(rows):.3f}",
                    ret=f"{sum(r['episode_return'] for r in rows) / len(rows):.3f}",
                    sps=f"{rows[0]['sps']:.2e}",
                )
            if self.out_dir is not None and (
                self.update % cfg.checkpoint_every == 0 or self.update == target
            ):
                self.save_checkpoint()
        if bar is not None:
            bar.close()
        return self.log

    @property
    def log(self) -> pd.DataFrame:
        """The per-update, per-population log as a DataFrame."""
        return pd.DataFrame(self.log_rows)

    def run_info(self) -> dict[str, Any]:
        """The configs and graph summary that make this run reproducible."""
        return {
            "train_config": config_to_dict(self.config),
            "game_config": config_to_dict(self.game.config),
            "policy_config": config_to_dict(self.config.policy_config()),
            "graph": {"name": self.graph.name, **self.graph.summary()},
            "dynamic": self.q is not None,
            "torch": torch.__version__,
        }

    def _write_config(self) -> None:
        save_json(self.out_dir / "config.json", self.run_info())

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the run exactly (plain tensors and strings)."""
        return {
            "format": "socialmarl-checkpoint-1",
            "config": json.dumps(config_to_dict(self.config)),
            "graph": graph_to_dict(self.graph),
            "q": self.q,
            "update": self.update,
            "policies": [p.state_dict() for p in self.policies],
            "optimizers": [o.state_dict() for o in self.optimizers],
            "game": self.game.state_dict(),
            "sample_gen": self.sample_gen.get_state(),
            "perm_gen": self.perm_gen.get_state(),
            "log": json.dumps(self.log_rows),
        }

    def save_checkpoint(self, path: str | os.PathLike | None = None) -> Path:
        """Write the checkpoint (atomically) and the log CSV; returns the checkpoint path."""
        if path is None:
            if self.out_dir is None:
                raise ValueError("no out_dir was given; pass a path to save_checkpoint")
            path = self.out_dir / "checkpoint.pt"
        path = Path(path)
        _atomic_torch_save(self.state_dict(), path)
        if self.log_rows:
            atomic_write_text(path.parent / "log.csv", self.log.to_csv(index=False))
        return path

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike, *, out_dir: str | os.PathLike | None = None,
        progress: bool = True, device: str | None = None,
    ) -> Trainer:
        """Rebuild a trainer from a checkpoint file or a run folder, ready to continue.

        Loads with ``torch.load(..., weights_only=True)``: a checkpoint is data, not code.
        """
        path = Path(path)
        if path.is_dir():
            path = path / "checkpoint.pt"
        if not path.exists():
            raise FileNotFoundError(f"{path}: no checkpoint here; train with out_dir first")
        sd = torch.load(path, map_location="cpu", weights_only=True)
        if sd.get("format") != "socialmarl-checkpoint-1":
            raise ValueError(f"{path}: not a socialmarl checkpoint")
        cfg = config_from_dict(TrainConfig, json.loads(sd["config"]))
        if device is not None:
            cfg = replace(cfg, device=device)
        trainer = cls(
            graph_from_dict(sd["graph"]), cfg, out_dir=path.parent if out_dir is None else out_dir,
            q=sd["q"], progress=progress,
        )
        trainer.load_state_dict(sd)
        return trainer

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        for pol, psd in zip(self.policies, sd["policies"]):
            pol.load_state_dict(psd)
        for opt, osd in zip(self.optimizers, sd["optimizers"]):
            opt.load_state_dict(osd)
        same_device = self.device.type == "cpu"
        self.game.load_state_dict(sd["game"], generator=same_device)
        if same_device:
            self.sample_gen.set_state(sd["sample_gen"])
        self.perm_gen.set_state(sd["perm_gen"])
        self.update = int(sd["update"])
        self.log_rows = json.loads(sd["log"])
        self.obs = self.game.observation()


def train(
    graph: Graph,
    config: TrainConfig | None = None,
    *,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    q: torch.Tensor | None = None,
    progress: bool = True,
    **overrides: Any,
) -> Trainer:
    """Train (or, with ``resume=True`` and an existing checkpoint, continue) a run.

    Returns the :class:`Trainer`; its ``log`` holds the per-update table and its
    ``policies`` the trained populations (one per alpha).

    Examples
    --------
    >>> import socialmarl as sm
    >>> tr = sm.train(sm.ring_graph(6), num_updates=1, envs_per_alpha=2, num_minibatches=1,
    ...               episode_length=4, progress=False)
    >>> tr.update
    1
    """
    if resume and out_dir is not None and (Path(out_dir) / "checkpoint.pt").exists():
        trainer = Trainer.from_checkpoint(out_dir, progress=progress)
    else:
        trainer = Trainer(graph, config, out_dir=out_dir, q=q, progress=progress, **overrides)
    trainer.train()
    return trainer


def load_population(
    path: str | os.PathLike, device: str = "cpu"
) -> tuple[list[AttentionPolicy], TrainConfig, Graph]:
    """Load the trained policies, config and graph of a run folder or checkpoint.

    Examples
    --------
    >>> import socialmarl as sm, tempfile
    >>> d = tempfile.mkdtemp()
    >>> _ = sm.train(sm.ring_graph(6), num_updates=1, envs_per_alpha=2, num_minibatches=1,
    ...              episode_length=4, progress=False, out_dir=d)
    >>> policies, cfg, graph = sm.load_population(d)
    >>> len(policies), graph.num_nodes
    (1, 6)
    """
    tr = Trainer.from_checkpoint(path, progress=False, device=device)
    for p in tr.policies:
        p.eval()
    return list(tr.policies), tr.config, tr.graph
