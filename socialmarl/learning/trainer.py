"""Recurrent IPPO with parameter sharing, other-play and curricula.

(The README's "Training populations" describes the method.)

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

import csv
import io
import json
import math
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from ..common.checks import as_bool, as_device, as_float, as_int, as_probability
from ..common.config_io import config_from_dict, config_to_dict, save_json
from ..common.files import (
    append_text,
    atomic_write_text,
    check_writable_dir,
    remove_stale_temp_files,
)
from ..game.game import ConsensusGame, GameConfig
from ..game.observation import Observation, to_env_actions
from ..networks.graph import Graph
from .actions import sample_actions
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .curricula import schedule_values
from .policy import AttentionPlan, AttentionPolicy, PolicyConfig
from .ppo import compute_gae, ppo_losses

__all__ = [
    "TrainConfig", "Trainer", "train", "load_population", "graph_to_dict", "graph_from_dict",
    "RunExistsError", "TrainingDivergedError", "RUN_FILES", "check_resume_matches",
]

#: The files a training run writes into its folder (``eval/`` is written by evaluation).
RUN_FILES = ("config.json", "log.csv", "checkpoint.pt")
_CHECKPOINT_KEYS = ("config", "graph", "q", "update", "policies", "optimizers", "game",
                    "sample_gen", "perm_gen", "log")


class RunExistsError(FileExistsError):
    """The run folder already holds a training run, and replacing it was not asked for."""


class TrainingDivergedError(FloatingPointError):
    """A loss, gradient or weight became NaN or infinite: training stops."""


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
        for name in ("envs_per_alpha", "num_updates", "episode_length", "episodes_per_rollout",
                     "update_epochs", "num_minibatches", "hidden", "attn_dim",
                     "checkpoint_every"):
            setattr(self, name, as_int(getattr(self, name), name, minimum=1))
        self.seed = as_int(self.seed, "seed", minimum=0)
        if self.num_minibatches > self.envs_per_alpha:
            raise ValueError(
                f"num_minibatches={self.num_minibatches} exceeds envs_per_alpha="
                f"{self.envs_per_alpha}; minibatches keep environments whole"
            )
        for name in ("p_signal", "p_signal_start", "perc_start", "gamma", "gae_lambda",
                     "p_signal_decay_frac", "alpha0_signal_anneal_frac", "alpha0_shaping",
                     "alpha0_shaping_frac"):
            setattr(self, name, as_probability(getattr(self, name), name))
        if self.perc_start <= 0:
            raise ValueError("perc_start must be > 0 (some edges must survive)")
        self.sigma = as_float(self.sigma, "sigma", minimum=0.0,
                              what="the signal noise standard deviation")
        self.perc_midpoint = as_float(self.perc_midpoint, "perc_midpoint", minimum=0.0,
                                      maximum=1.0, what="a point of training progress")
        for name in ("lr", "clip_coef", "max_grad_norm", "perc_steepness"):
            setattr(self, name, as_float(getattr(self, name), name, positive=True))
        for name in ("ent_coef", "vf_coef", "belief_coef"):
            setattr(self, name, as_float(getattr(self, name), name, minimum=0.0,
                                         what="a loss coefficient"))
        if self.interaction_rate is not None:
            self.interaction_rate = as_float(
                self.interaction_rate, "interaction_rate", positive=True,
                what="the switching rate of the camp process")
        for name in ("allow_wait", "other_play", "anneal_lr", "clip_value"):
            setattr(self, name, as_bool(getattr(self, name), name))
        if not isinstance(self.device, str):
            self.device = str(as_device(self.device))
        try:
            torch.device(self.device)
        except RuntimeError as exc:
            raise ValueError(
                f"device={self.device!r} is not a device name; use 'cpu' or 'cuda'"
            ) from exc

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


def _existing_run_files(folder: Path) -> list[str]:
    """The run files (and ``eval/``) present in ``folder``."""
    found = [f for f in RUN_FILES if (folder / f).exists()]
    return found + (["eval/"] if (folder / "eval").is_dir() else [])


def _refuse_existing_run(folder: Path) -> None:
    found = _existing_run_files(folder)
    if found:
        resume = ("continue it with Trainer.from_checkpoint(folder) or `socialmarl train "
                  "--resume --out <folder>`, " if (folder / "checkpoint.pt").exists() else "")
        raise RunExistsError(
            f"{folder} already holds a training run ({', '.join(found)}); {resume}choose "
            "another folder, or replace it with overwrite=True (`--overwrite`)"
        )


def _log_csv(rows: list[dict[str, Any]], header: list[str], with_header: bool) -> str:
    """Log rows as CSV text in ``header``'s column order (the one format of ``log.csv``)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=header, extrasaction="ignore", lineterminator="\n")
    if with_header:
        writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


class Trainer:
    """Trains one population per alpha on a graph with recurrent IPPO.

    Parameters
    ----------
    graph : Graph
        The social network (its edges define who observes whom).
    config : TrainConfig, optional
        The run; keyword arguments override its fields.
    out_dir : str or Path, optional
        Run folder: ``config.json`` (written when training starts), ``log.csv`` (a row per
        update and population, appended as each update finishes) and ``checkpoint.pt``
        (every ``checkpoint_every`` updates and at the end). ``None`` keeps everything in
        memory. The folder is checked for writability at once. A folder that already
        holds a run is refused (:class:`RunExistsError`) unless ``overwrite=True``;
        continue a stopped run with :meth:`from_checkpoint` instead.
    q : Tensor, shape (E,), optional
        Interaction probabilities for the dynamic camp process (with ``interaction_rate``).
    progress : bool
        Show a tqdm progress bar.
    overwrite : bool
        Replace a run already in ``out_dir``: when training starts, its ``config.json``,
        ``log.csv``, ``checkpoint.pt`` and ``eval/`` are deleted (other files stay).

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
        overwrite: bool = False,
        **overrides: Any,
    ) -> None:
        cfg = config if config is not None else TrainConfig()
        if overrides:
            cfg = replace(cfg, **overrides)
        self.config = cfg
        self.device = as_device(cfg.device)
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.overwrite = as_bool(overwrite, "overwrite")
        if self.out_dir is not None:
            check_writable_dir(self.out_dir, "run folder")
            if not self.overwrite:
                _refuse_existing_run(self.out_dir)
        # True once config.json / log.csv of this run are in place (see _start_run_files)
        self._files_ready = False
        self._resumed = False
        self._log_header: list[str] | None = None
        #: SHA-256 of the checkpoint this trainer was loaded from (None for a new run)
        self.checkpoint_checksum: str | None = None
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
                actions = sample_actions(logits, self.sample_gen)
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
        self._check_finite(rows)
        self.log_rows.extend(rows)
        if self.out_dir is not None:
            self._append_log(rows)
        return rows

    def _check_finite(self, rows: list[dict[str, Any]]) -> None:
        """Stop with :class:`TrainingDivergedError` if a loss or a weight is not finite.

        One host sync per update (the log's numbers are synced already).
        """
        finite = torch.stack([
            torch.isfinite(torch.cat([w.detach().reshape(-1) for w in pol.parameters()])).all()
            for pol in self.policies
        ]).tolist()
        for row, weights_ok in zip(rows, finite):
            bad = {k: v for k, v in row.items()
                   if isinstance(v, float) and not math.isfinite(v) and k not in ("sps",)}
            if bad or not weights_ok:
                what = (", ".join(f"{k}={v}" for k, v in bad.items()) if bad
                        else "weights")
                where = ""
                if self.out_dir is not None:
                    where = (f"; the last checkpoint in {self.out_dir} is intact"
                             if (self.out_dir / "checkpoint.pt").exists()
                             else "; no checkpoint was written")
                cfg = self.config
                raise TrainingDivergedError(
                    f"training diverged at update {row['update']} (population alpha="
                    f"{row['alpha']:g}): non-finite {what}{where}. Lower lr (now {cfg.lr:g}) "
                    f"or max_grad_norm (now {cfg.max_grad_norm:g}), or check the loss "
                    f"coefficients (vf_coef={cfg.vf_coef:g}, ent_coef={cfg.ent_coef:g}, "
                    f"belief_coef={cfg.belief_coef:g})"
                )

    # ------------------------------------------------------------------ run folder
    def _start_run_files(self) -> None:
        """Put ``config.json`` and ``log.csv`` in place when this process starts training.

        A new run first removes the files of the run it replaces (only with ``overwrite``:
        the constructor refused otherwise). A resumed run rewrites ``log.csv`` from the
        checkpoint's log, dropping rows of updates after the checkpoint (they will be
        trained again), so the file never holds a row twice or misses one.
        """
        out = self.out_dir
        check_writable_dir(out, "run folder")
        remove_stale_temp_files(out)
        if not self._resumed:
            if self.overwrite:
                for name in RUN_FILES:
                    (out / name).unlink(missing_ok=True)
                shutil.rmtree(out / "eval", ignore_errors=True)
            else:
                _refuse_existing_run(out)  # created since the constructor checked?
        self._write_config()
        self._log_header = list(self.log_rows[0]) if self.log_rows else None
        if self._resumed:  # the checkpoint's rows, nothing after them
            text = _log_csv(self.log_rows, self._log_header, True) if self.log_rows else ""
            atomic_write_text(out / "log.csv", text)
        self._files_ready = True

    def _append_log(self, rows: list[dict[str, Any]]) -> None:
        if not self._files_ready:
            self._start_run_files()
        first = self._log_header is None
        if first:
            self._log_header = list(rows[0])
        append_text(self.out_dir / "log.csv", _log_csv(rows, self._log_header, first))

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

        With ``out_dir`` set: writes ``config.json`` at the start, appends each update's
        rows to ``log.csv`` as the update finishes, and writes ``checkpoint.pt`` every
        ``checkpoint_every`` updates and at the end. Stops with
        :class:`TrainingDivergedError` when a loss or weight becomes NaN or infinite.
        """
        cfg = self.config
        target = cfg.num_updates if num_updates is None else min(num_updates, cfg.num_updates)
        if self.out_dir is not None and not self._files_ready:
            self._start_run_files()
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=target, initial=self.update, desc="training", unit="update")
        try:
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
        finally:
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
        """Write the checkpoint atomically, with its checksum; returns its path.

        The checkpoint carries the whole log; ``log.csv`` in ``out_dir`` is kept up to date
        by training itself, one update at a time.
        """
        if path is None:
            if self.out_dir is None:
                raise ValueError("no out_dir was given; pass a path to save_checkpoint")
            path = self.out_dir / "checkpoint.pt"
        return save_checkpoint(self.state_dict(), path)

    @classmethod
    def from_checkpoint(
        cls, path: str | os.PathLike, *, out_dir: str | os.PathLike | None = None,
        progress: bool = True, device: str | None = None,
    ) -> Trainer:
        """Rebuild a trainer from a checkpoint file or a run folder, ready to continue.

        Loads with ``torch.load(..., weights_only=True)`` (a checkpoint is data, not code)
        and verifies the checkpoint's checksum, its shapes and that its weights are finite;
        anything wrong is a ``ValueError`` naming the file (see
        :func:`socialmarl.learning.checkpoint.load_checkpoint`). Training continues in the
        checkpoint's folder, or in ``out_dir`` (which must not hold another run).
        """
        path = Path(path)
        if path.is_dir():
            path = path / "checkpoint.pt"
        if not path.exists():
            hint = ("the run stopped before its first checkpoint: start it again with "
                    "overwrite=True (`--overwrite`)"
                    if (path.parent / "config.json").exists() else "train with out_dir first")
            raise FileNotFoundError(f"{path}: no checkpoint here; {hint}")
        sd = load_checkpoint(path, required=_CHECKPOINT_KEYS)
        try:
            cfg = config_from_dict(TrainConfig, json.loads(sd["config"]))
            graph = graph_from_dict(sd["graph"])
        except (TypeError, KeyError, json.JSONDecodeError, ValueError) as exc:
            raise CheckpointError(f"{path}: its config or graph is unusable ({exc})") from exc
        if device is not None:
            cfg = replace(cfg, device=device)
        trainer = cls(graph, cfg, q=sd["q"], progress=progress)
        trainer.load_state_dict(sd, source=path)
        trainer.out_dir = path.parent if out_dir is None else Path(out_dir)
        if out_dir is not None and trainer.out_dir.resolve() != path.parent.resolve():
            _refuse_existing_run(trainer.out_dir)
        trainer._resumed = True
        trainer.checkpoint_checksum = sd.get("checksum")
        return trainer

    def load_state_dict(self, sd: dict[str, Any], *, source: str | os.PathLike = "state") -> None:
        """Restore :meth:`state_dict`, checking that it fits this trainer.

        Raises ``ValueError`` (naming ``source``) when the number of populations, a
        parameter's shape or the game state does not match, or a weight is not finite.
        """
        npop = len(self.policies)
        for key in ("policies", "optimizers"):
            if not isinstance(sd[key], (list, tuple)) or len(sd[key]) != npop:
                got = len(sd[key]) if isinstance(sd[key], (list, tuple)) else type(sd[key])
                raise CheckpointError(
                    f"{source}: holds {got} {key} for {npop} alphas {self.config.alphas}; "
                    "the file is incomplete or belongs to another run"
                )
        try:
            for alpha, pol, psd in zip(self.config.alphas, self.policies, sd["policies"]):
                pol.load_state_dict(psd)
                bad = [k for k, v in psd.items() if v.is_floating_point()
                       and not bool(torch.isfinite(v).all())]
                if bad:
                    raise CheckpointError(
                        f"{source}: the population alpha={alpha:g} has NaN or infinite "
                        f"weights ({', '.join(bad)}); the run diverged before this checkpoint "
                        "or the file was altered, so its numbers would mean nothing; train it "
                        "again (lower lr)"
                    )
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
        except CheckpointError:
            raise
        except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(
                f"{source}: does not fit this run ({type(exc).__name__}: {first}); the file "
                "is damaged or was written by an incompatible socialmarl version"
            ) from exc


def train(
    graph: Graph,
    config: TrainConfig | None = None,
    *,
    out_dir: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    q: torch.Tensor | None = None,
    progress: bool = True,
    **overrides: Any,
) -> Trainer:
    """Train a run, or with ``resume=True`` continue the one stopped in ``out_dir``.

    Parameters
    ----------
    graph : Graph
        The social network.
    config : TrainConfig, optional
        The run; keyword ``overrides`` change its fields.
    out_dir : str or Path, optional
        Run folder (see :class:`Trainer`).
    resume : bool
        Continue the run whose checkpoint is in ``out_dir``. Refused when there is no
        checkpoint, when ``graph`` is not the run's graph, or when ``config`` /
        ``overrides`` set a field to another value than the saved run has (``device``
        may differ).
    overwrite : bool
        Replace a run already in ``out_dir`` (refused otherwise).
    q : Tensor, optional
        Interaction probabilities of a dynamic camp.
    progress : bool
        Show a progress bar.

    Returns
    -------
    Trainer
        Its ``log`` holds the per-update table and its ``policies`` the trained
        populations (one per alpha).

    Examples
    --------
    >>> import socialmarl as sm
    >>> tr = sm.train(sm.ring_graph(6), num_updates=1, envs_per_alpha=2, num_minibatches=1,
    ...               episode_length=4, progress=False)
    >>> tr.update
    1
    """
    if not resume:
        trainer = Trainer(graph, config, out_dir=out_dir, q=q, progress=progress,
                          overwrite=overwrite, **overrides)
    else:
        if out_dir is None:
            raise ValueError("resume=True needs out_dir, the folder of the run to continue")
        if overwrite:
            raise ValueError("resume=True and overwrite=True contradict each other; choose one")
        full = config_to_dict(replace(config or TrainConfig(), **overrides))
        given = full if config is not None else {k: full[k] for k in overrides}
        trainer = Trainer.from_checkpoint(out_dir, progress=progress,
                                          device=given.pop("device", None))
        check_resume_matches(trainer, given, graph)
    trainer.train()
    return trainer


def check_resume_matches(trainer: Trainer, given: dict[str, Any], graph: Graph | None) -> None:
    """Refuse to resume ``trainer`` with settings or a graph other than its own.

    Examples
    --------
    >>> import socialmarl as sm
    >>> tr = sm.Trainer(sm.ring_graph(6), num_updates=1, envs_per_alpha=2, num_minibatches=1,
    ...                 episode_length=4, progress=False)
    >>> check_resume_matches(tr, {"lr": 0.1}, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: resuming continues the saved run, ...: lr (saved 0.0005, given 0.1); ...
    """
    saved = config_to_dict(trainer.config)
    differ = [f"{k} (saved {saved[k]!r}, given {v!r})" for k, v in given.items()
              if k != "device" and k in saved and saved[k] != v]
    if differ:
        raise ValueError(
            "resuming continues the saved run, whose settings differ from the ones given: "
            f"{', '.join(differ)}; drop them, or start a new run (overwrite=True / --overwrite)"
        )
    if graph is not None:
        mine = trainer.graph
        same = (graph.num_nodes == mine.num_nodes and graph.num_edges == mine.num_edges
                and torch.equal(graph.edge_index.cpu(), mine.edge_index.cpu()))
        if not same:
            raise ValueError(
                f"resuming continues the saved run on its own graph ({mine.num_nodes} agents, "
                f"{mine.num_edges} edges), not the {graph.num_nodes}-agent graph given; pass "
                "that graph, or start a new run (overwrite=True / --overwrite)"
            )


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
