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

The trainer is closed: what it starts from (``policies``) and which agents learn
(``learners``) are constructor arguments, and any policy module that follows the
:class:`~socialmarl.learning.policy.AttentionPolicy` protocol (``initial_state``,
``attention_plan``, ``forward(obs, h, plan=)``, ``forward_sequence(obs, steps, plan=)``)
can be trained. The run's files go through :mod:`socialmarl.learning.runs`; the episodes
are played by :func:`socialmarl.learning.rollout.rollout`, as in evaluation.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from ..common.checks import as_bool, as_device
from ..common.config_io import config_to_dict
from ..common.files import check_writable_dir, remove_stale_temp_files
from ..game.game import ConsensusGame
from ..game.observation import Observation
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from . import runs
from .checkpoint import CheckpointError, save_checkpoint
from .config import TrainConfig
from .curricula import schedule_values
from .policy import AttentionPlan, AttentionPolicy
from .population import STACKED_PARAMETERS, StackedPolicy
from .ppo import compute_gae, ppo_losses
from .rollout import rollout
from .runs import RUN_FILES, RunExistsError, refuse_existing_run

__all__ = [
    "TrainConfig", "Trainer", "train", "load_population", "RunExistsError",
    "TrainingDivergedError", "RUN_FILES", "check_resume_matches",
]

#: Log columns whose non-finite value means training diverged.
_MUST_BE_FINITE = ("episode_return", "policy_loss", "value_loss", "entropy_loss",
                   "belief_loss", "approx_kl", "clipfrac", "grad_norm")


class TrainingDivergedError(FloatingPointError):
    """A loss, gradient or weight became NaN or infinite: training stops."""


def _stacked_requires_grad(policies: Sequence[AttentionPolicy]) -> list[bool]:
    """Which stacked parameters train: the same parameters must be frozen in every policy."""
    flags = []
    for _, name in STACKED_PARAMETERS:
        try:
            seen = {p.get_parameter(name).requires_grad for p in policies}
        except AttributeError:  # query / key of the no-attention ablation
            continue
        if len(seen) > 1:
            raise ValueError(
                f"{name} is frozen in some starting policies and not in others; populations "
                "trained as one model freeze the same parameters"
            )
        flags.append(seen.pop())
    return flags


def _learner_mask(learners: Any, n: int) -> torch.Tensor | None:
    """``learners`` (agent ids or an (N,) bool mask) as an (N,) bool mask; None for all."""
    if learners is None:
        return None
    x = torch.as_tensor(learners)
    if x.dtype == torch.bool:
        if x.shape != (n,):
            raise ValueError(f"learners mask has shape {tuple(x.shape)}; expected ({n},)")
        mask = x.clone()
    else:
        ids = x.long().reshape(-1)
        if ids.numel() and ((ids < 0) | (ids >= n)).any():
            raise ValueError(f"learner ids must lie in 0..{n - 1}, got {ids.tolist()}")
        mask = torch.zeros(n, dtype=torch.bool)
        mask[ids] = True
    if not bool(mask.any()):
        raise ValueError("learners is empty; name at least one agent that learns")
    return mask


class Trainer:
    """Trains one population per alpha on a graph with recurrent IPPO.

    Parameters
    ----------
    graph : Graph
        The social network (its edges define who observes whom).
    config : TrainConfig, optional
        The run; keyword arguments override its fields, including the game's and the
        policy's by name (``experts=[0]``, ``hidden=16``; see :meth:`TrainConfig.updated`).
    out_dir : str or Path, optional
        Run folder (:mod:`socialmarl.learning.runs`): ``config.json`` (written when
        training starts), ``log.csv`` (a row per update and population, appended as each
        update finishes) and ``checkpoint.pt`` (every ``checkpoint_every`` updates and at
        the end). ``None`` keeps everything in memory. The folder is checked for
        writability at once. A folder that already holds a run is refused
        (:class:`RunExistsError`) unless ``overwrite=True``; continue a stopped run with
        :meth:`from_checkpoint` instead.
    camp : CampProcess, optional
        The dynamic camp process of the network (interaction probabilities and rate).
    policies : sequence of nn.Module, optional
        The policies to start from, one per alpha (default: new
        :class:`AttentionPolicy` of ``config.policy``). Parameters with
        ``requires_grad=False`` stay frozen.
    learners : sequence of int or Tensor (N,) of bool, optional
        The agents whose experience trains the policies (default: all). The others keep
        playing, and their outputs stay in everyone's observations.
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
        camp: CampProcess | None = None,
        policies: Sequence[nn.Module] | None = None,
        learners: Any = None,
        progress: bool = True,
        overwrite: bool = False,
        **overrides: Any,
    ) -> None:
        cfg = config if config is not None else TrainConfig()
        if overrides:
            cfg = cfg.updated(**overrides)
        else:
            cfg.validate()
        self.config = cfg
        self.device = as_device(cfg.device)
        self.out_dir = None if out_dir is None else Path(out_dir)
        self.overwrite = as_bool(overwrite, "overwrite")
        if self.out_dir is not None:
            check_writable_dir(self.out_dir, "run folder")
            if not self.overwrite:
                refuse_existing_run(self.out_dir)
        # True once config.json / log.csv of this run are in place (see _start_run_files)
        self._files_ready = False
        self._resumed = False
        self._log_header: list[str] | None = None
        #: SHA-256 of the checkpoint this trainer was loaded from (None for a new run)
        self.checkpoint_checksum: str | None = None
        self.progress = progress
        #: every (alpha, seed) trained; population p plays environments slices[p]
        self.populations = cfg.populations
        seeds = [s for _, s in self.populations]
        # Each population plays its own episodes (a game stream per seed) and draws its own
        # actions and minibatches: exactly what a run of it alone with seed=s would do.
        self.game = ConsensusGame(
            graph, cfg.game_config(), camp=camp, device=self.device, streams=seeds,
            check_actions=False,
        )
        self.graph = self.game.graph  # without self loops, as played
        self.camp = self.game.camp  # on the graph as played
        n = self.graph.num_nodes
        #: the one module that plays every population's environments: a StackedPolicy
        #: (parameters with a leading population axis), or one given policy for one population
        self.model = self._build_model(policies, n)
        self._stacked = isinstance(self.model, StackedPolicy)
        self.optimizer = torch.optim.Adam(self._trainable(), lr=cfg.lr, eps=1e-5)
        self.sample_gens = [torch.Generator(device=self.device).manual_seed(s + 1)
                            for s in seeds]
        self.perm_gens = [torch.Generator().manual_seed(s + 2) for s in seeds]
        self.update = 0
        #: (N,) bool: the agents whose losses train the policies (None: all)
        self.learners = _learner_mask(learners, n)
        if self.learners is not None:
            self.learners = self.learners.to(self.device)
        self.log_rows: list[dict[str, Any]] = []
        self.obs = self.game.reset()
        self.slices = [
            slice(p * cfg.envs_per_alpha, (p + 1) * cfg.envs_per_alpha)
            for p in range(len(self.populations))
        ]

    def _build_model(self, policies: Sequence[nn.Module] | None, n: int) -> nn.Module:
        """One StackedPolicy of every population (each initialised from its own seed), or
        the single given policy of a one-population run."""
        cfg = self.config
        pops = cfg.populations
        if policies is None:
            fresh = []
            for _, seed in pops:  # each population's parameters from its own seed
                torch.manual_seed(seed)
                fresh.append(AttentionPolicy(n, cfg.policy))
            return StackedPolicy.from_policies(fresh).to(self.device)
        policies = list(policies)
        if len(policies) != len(pops):
            raise ValueError(
                f"policies has {len(policies)} modules for {len(pops)} populations (alpha, "
                f"seed) {pops}; give one policy per population"
            )
        for (alpha, _), p in zip(pops, policies):
            if not any(w.requires_grad for w in p.parameters()):
                raise ValueError(
                    f"the policy for alpha={alpha:g} has no trainable parameters, so "
                    "training would not change it; unfreeze some (requires_grad=True)"
                )
            if getattr(p, "num_agents", n) != n:
                raise ValueError(
                    f"a policy was built for {p.num_agents} agents but the graph has {n}"
                )
            n_act = getattr(getattr(p, "config", None), "num_actions", cfg.policy.num_actions)
            if n_act != cfg.policy.num_actions:
                raise ValueError(
                    f"a policy has {n_act} actions but the game has allow_wait="
                    f"{cfg.game.allow_wait}; set allow_wait={n_act == 3}"
                )
        if len(policies) == 1 and not isinstance(policies[0], AttentionPolicy):
            return policies[0].to(self.device)  # any policy module plays one population
        if not all(isinstance(p, AttentionPolicy) for p in policies):
            raise ValueError(
                "several populations train as one stacked model, so each starting policy "
                "must be an AttentionPolicy; a custom policy module trains one population"
            )
        model = StackedPolicy.from_policies([p.to(self.device) for p in policies])
        for (mine, theirs) in zip(model.parameters(), _stacked_requires_grad(policies)):
            mine.requires_grad_(theirs)
        return model

    def _trainable(self) -> list[torch.Tensor]:
        return [w for w in self.model.parameters() if w.requires_grad]

    @property
    def policies(self) -> list[nn.Module]:
        """Each population's policy, in ``populations`` order (copies for a stacked run)."""
        if not self._stacked:
            return [self.model]
        return [self.model.population(p) for p in range(self.model.num_populations)]

    def _by_population(self, w: torch.Tensor) -> torch.Tensor:
        """A parameter (or its gradient) as ``(P, -1)``: one row per population."""
        return w.reshape(len(self.populations) if self._stacked else 1, -1)

    def _act(self, plans: list[AttentionPlan]):
        """The rollout's policy function: the model on every environment, one pass.

        The attention's index tensors of every step are built once and kept in ``plans``:
        the PPO epochs reuse them (they depend on the observations only).
        """

        def act(own: Observation, h: torch.Tensor):
            plan = self.model.attention_plan(own)
            plans.append(plan)
            return self.model(own, h, plan=plan)

        return act

    def _apply_curricula(self, progress: float) -> dict[str, float]:
        cfg = self.config
        alphas, p_sig = [], []
        for a, _ in self.populations:
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
        for group in self.optimizer.param_groups:
            group["lr"] = lr_now

        # ---- 2. rollout: whole episodes, no host sync
        steps = cfg.episode_length * cfg.episodes_per_rollout
        b, n = game.num_envs, game.num_agents
        dev = self.device
        plans: list[AttentionPlan] = []
        played = rollout(
            game, self._act(plans), steps,
            hidden=self.model.initial_state(b, dev), generator=self.sample_gens,
            obs=self.obs, record=("signal", "own_output", "flips", "edge_active", "actions",
                                  "logp", "value", "reward", "done", "truth", "accuracy",
                                  "agreement", "entropy"),
        )
        self.obs = played.obs
        data = {k: v for k, v in played.steps.items() if k != "edge_active"}
        edge_active = played.steps["edge_active"]
        # (k T, B, E + N) per plan tensor
        data["plan"] = AttentionPlan(torch.stack([q.score_index for q in plans]),
                                     torch.stack([q.value_col for q in plans]))

        # ---- 3. advantages (the rollout ends with an episode: no bootstrap needed)
        adv, ret = compute_gae(
            data["reward"], data["value"], data["done"], torch.zeros(b, n, device=dev),
            cfg.gamma, cfg.gae_lambda,
        )

        # ---- 4. PPO epochs over minibatches of whole environments, all populations at once
        rows = self._update_populations(data, edge_active, adv, ret)

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
                alpha=float(self.populations[p][0]),
                seed=int(self.populations[p][1]),
                agent_steps=self.update * steps * b * n,
                episode_return=float(ep_ret),
                accuracy=float(data["accuracy"][:, sl].mean()),
                final_accuracy=float(final),
                agreement=float(data["agreement"][:, sl].nanmean()),
                entropy=float(data["entropy"][:, sl].mean()),
                p_signal=float(game.p_signal[sl][0]),
                p_perc=sched["p_perc"],
                effective_alpha=float(game.alpha[sl][0]),
                lr=lr_now,
                sps=sps,
                seconds=elapsed,
            )
        order = ["update", "alpha", "seed", "agent_steps", "episode_return", "accuracy",
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
        finite = torch.cat([self._by_population(w.detach()) for w in self.model.parameters()],
                           1).isfinite().all(1).tolist()
        for row, weights_ok in zip(rows, finite):
            bad = {k: row[k] for k in _MUST_BE_FINITE
                   if k in row and not math.isfinite(row[k])}
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
                    f"{row['alpha']:g}, seed {row['seed']}): non-finite {what}{where}. Lower lr "
                    f"(now {cfg.lr:g}) or max_grad_norm (now {cfg.max_grad_norm:g}), or check "
                    f"the loss coefficients (vf_coef={cfg.vf_coef:g}, ent_coef={cfg.ent_coef:g}, "
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
                runs.clear_run(out)
            else:
                refuse_existing_run(out)  # created since the constructor checked?
        runs.write_run_config(out, self.run_info())
        self._log_header = list(self.log_rows[0]) if self.log_rows else None
        if self._resumed:  # the checkpoint's rows, nothing after them
            runs.rewrite_log(out, self.log_rows)
        self._files_ready = True

    def _append_log(self, rows: list[dict[str, Any]]) -> None:
        if not self._files_ready:
            self._start_run_files()
        first = self._log_header is None
        if first:
            self._log_header = list(rows[0])
        runs.append_log(self.out_dir, rows, self._log_header, with_header=first)

    def _update_populations(self, data, edge_active, adv_all, ret_all) -> list[dict[str, Any]]:
        """PPO epochs for every population at once; one log-stats dict per population.

        A minibatch takes the same number of whole environments of every population, each
        population choosing its own with its own generator; the loss is the sum of the
        populations' losses (each a mean over its own entries, advantages normalised within
        the population), so each population's parameters get exactly the gradient of its
        own loss, and its gradient norm is clipped on its own. Adam works element by
        element, so one step for all equals a step per population.
        """
        cfg = self.config
        num_p, e = len(self.populations), cfg.envs_per_alpha
        mb = e // cfg.num_minibatches
        t_len, k = cfg.episode_length, cfg.episodes_per_rollout
        b = num_p * e
        envs = torch.arange(b, device=self.device)
        full = self._stack_steps(data, edge_active, envs)
        plan = data["plan"].map(lambda x: self._seq(x, envs))
        offsets = torch.arange(num_p)[:, None] * e
        sums = torch.zeros(7, num_p, device=self.device)
        count = 0

        def take(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:  # (T k B, ...)
            x = x.view(t_len * k, b, *x.shape[1:]).index_select(1, idx)
            return x.view(-1, *x.shape[2:])

        def per_pop(x: torch.Tensor) -> torch.Tensor:  # (kT, P mb, N, ...) -> (P, kT, mb, ...)
            return x.view(x.shape[0], num_p, mb, *x.shape[2:]).transpose(0, 1)

        for _epoch in range(cfg.update_epochs):
            perms = torch.stack([torch.randperm(e, generator=g) for g in self.perm_gens])
            for m in range(cfg.num_minibatches):
                idx = (perms[:, m * mb: (m + 1) * mb] + offsets).reshape(-1).to(self.device)
                obs = Observation(
                    signal=take(full.signal, idx), own_output=take(full.own_output, idx),
                    edge_active=None if full.edge_active is None
                    else take(full.edge_active, idx),
                    t=full.t[: t_len * k * len(idx)], flips=take(full.flips, idx),
                    edge_index=full.edge_index, in_agent_frame=True,
                )
                out = self.model.forward_sequence(
                    obs, t_len, plan=plan.map(lambda x, i=idx: take(x, i)))
                mask = self.learners

                def pick(x: torch.Tensor, mask=mask) -> torch.Tensor:  # (kT, P mb, N, ...)
                    x = per_pop(x)
                    return x if mask is None else x[:, :, :, mask]

                logp_all = pick(torch.log_softmax(self._unstack(out.logits, k), -1))
                actions = pick(data["actions"][:, idx])
                new_logp = logp_all.gather(-1, actions[..., None])[..., 0]
                entropy = -(logp_all.exp() * logp_all).sum(-1).reshape(num_p, -1).mean(1)
                adv = pick(adv_all[:, idx])
                flat = adv.reshape(num_p, -1)
                adv = ((flat - flat.mean(1, keepdim=True))
                       / (flat.std(1, keepdim=True) + 1e-8)).view_as(adv)
                losses = ppo_losses(
                    new_logp, pick(data["logp"][:, idx]), adv,
                    pick(self._unstack(out.value, k)), pick(data["value"][:, idx]),
                    pick(ret_all[:, idx]), cfg.clip_coef, cfg.clip_value, per=0,
                )
                err = (pick(self._unstack(out.belief, k))
                       - pick(data["truth"][:, idx]).to(out.belief.dtype))
                belief_loss = (err**2).reshape(num_p, -1).mean(1)
                loss = (losses["policy"] + cfg.vf_coef * losses["value"]
                        - cfg.ent_coef * entropy + cfg.belief_coef * belief_loss)  # (P,)
                self.optimizer.zero_grad(set_to_none=True)
                loss.sum().backward()
                grad_norm = self._clip_per_population(cfg.max_grad_norm)
                self.optimizer.step()
                sums += torch.stack([losses["policy"], losses["value"], entropy, belief_loss,
                                     losses["approx_kl"], losses["clipfrac"],
                                     grad_norm]).detach().to(sums.dtype)
                count += 1
        names = ("policy_loss", "value_loss", "entropy_loss", "belief_loss", "approx_kl",
                 "clipfrac", "grad_norm")
        means = (sums / count).tolist()
        return [{name: means[i][p] for i, name in enumerate(names)} for p in range(num_p)]

    def _clip_per_population(self, max_norm: float) -> torch.Tensor:
        """Clip each population's gradient to ``max_norm`` on its own; returns the norms (P,).

        The same rule as ``torch.nn.utils.clip_grad_norm_`` for each population alone.
        """
        grads = [w.grad for w in self._trainable() if w.grad is not None]
        norms = torch.cat([self._by_population(g).pow(2).sum(1, keepdim=True)
                           for g in grads], 1).sum(1).sqrt()  # (P,)
        coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
        for g in grads:
            self._by_population(g).mul_(coef[:, None].to(g.dtype))
        return norms

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
        camp = self.camp
        return {
            "train_config": self.config.to_dict(),
            "game_config": config_to_dict(self.game.config),
            "graph": {"name": self.graph.name, **self.graph.summary()},
            "camp": None if camp is None else {"rate": camp.rate, "edges": int(camp.q.numel())},
            "torch": torch.__version__,
        }

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue the run exactly (plain tensors and strings)."""
        return {
            "config": json.dumps(self.config.to_dict()),
            "graph": self.graph.to_dict(),
            "camp": None if self.camp is None else self.camp.to_dict(),
            "update": self.update,
            "policies": [p.state_dict() for p in self.policies],
            "optimizer": self.optimizer.state_dict(),
            "game": self.game.state_dict(),
            "sample_gen": [g.get_state() for g in self.sample_gens],
            "perm_gen": [g.get_state() for g in self.perm_gens],
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
        :func:`socialmarl.learning.runs.read_checkpoint`). Training continues in the
        checkpoint's folder, or in ``out_dir`` (which must not hold another run).
        """
        path = runs.checkpoint_file(path)
        sd, cfg, graph, camp = runs.read_checkpoint(path)
        if device is not None:
            cfg = dataclasses.replace(cfg, device=device)
        trainer = cls(graph, cfg, camp=camp, progress=progress)
        trainer.load_state_dict(sd, source=path)
        trainer.out_dir = path.parent if out_dir is None else Path(out_dir)
        if out_dir is not None and trainer.out_dir.resolve() != path.parent.resolve():
            refuse_existing_run(trainer.out_dir)
        trainer._resumed = True
        trainer.checkpoint_checksum = sd.get("checksum")
        return trainer

    def load_state_dict(self, sd: dict[str, Any], *, source: str | os.PathLike = "state") -> None:
        """Restore :meth:`state_dict`, checking that it fits this trainer.

        Raises ``ValueError`` (naming ``source``) when the number of populations, a
        parameter's shape or the game state does not match, or a weight is not finite.
        """
        restored = self.policies
        runs.restore_policies(restored, sd["policies"], self.populations, source)
        for key in ("sample_gen", "perm_gen"):
            if not isinstance(sd[key], (list, tuple)) or len(sd[key]) != len(self.populations):
                raise CheckpointError(
                    f"{source}: its random streams ({key}) do not match the run's "
                    f"{len(self.populations)} populations; a checkpoint of a socialmarl "
                    "version before per-population streams cannot be resumed exactly: "
                    "evaluate it (sm.load_run), or train it again"
                )
        if "optimizer" not in sd:
            raise CheckpointError(
                f"{source}: written before populations were one model (no 'optimizer'); it "
                "cannot be resumed exactly: evaluate it (sm.load_run), or train it again"
            )
        try:
            if self._stacked:
                with torch.no_grad():
                    fresh = StackedPolicy.from_policies(restored)
                    for mine, theirs in zip(self.model.parameters(), fresh.parameters()):
                        mine.copy_(theirs)
            self.optimizer.load_state_dict(sd["optimizer"])
            same_device = self.device.type == "cpu"
            self.game.load_state_dict(sd["game"], generator=same_device)
            if same_device:
                for g, state in zip(self.sample_gens, sd["sample_gen"]):
                    g.set_state(state)
            for g, state in zip(self.perm_gens, sd["perm_gen"]):
                g.set_state(state)
            self.update = int(sd["update"])
            self.log_rows = json.loads(sd["log"])
            self.obs = self.game.observation()
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
    camp: CampProcess | None = None,
    progress: bool = True,
    **overrides: Any,
) -> Trainer:
    """Train a run, or with ``resume=True`` continue the one stopped in ``out_dir``.

    Parameters
    ----------
    graph : Graph
        The social network.
    config : TrainConfig, optional
        The run; keyword ``overrides`` change its fields (game and policy fields by name).
    out_dir : str or Path, optional
        Run folder (see :class:`Trainer`).
    resume : bool
        Continue the run whose checkpoint is in ``out_dir``. Refused when there is no
        checkpoint, when ``graph`` is not the run's graph, or when ``config`` /
        ``overrides`` set a field to another value than the saved run has (``device``
        may differ).
    overwrite : bool
        Replace a run already in ``out_dir`` (refused otherwise).
    camp : CampProcess, optional
        The dynamic camp process of the network.
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
        trainer = Trainer(graph, config, out_dir=out_dir, camp=camp, progress=progress,
                          overwrite=overwrite, **overrides)
    else:
        if out_dir is None:
            raise ValueError("resume=True needs out_dir, the folder of the run to continue")
        if overwrite:
            raise ValueError("resume=True and overwrite=True contradict each other; choose one")
        device = overrides.pop("device", None)
        if config is not None and device is None:
            device = config.device
        trainer = Trainer.from_checkpoint(out_dir, progress=progress, device=device)
        check_resume_matches(trainer, config, overrides, graph)
    trainer.train()
    return trainer


def _flat(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A nested config dict as ``{"game.sigma": 1.0, ...}``."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def check_resume_matches(
    trainer: Trainer, config: TrainConfig | None, overrides: dict[str, Any],
    graph: Graph | None,
) -> None:
    """Refuse to resume ``trainer`` with settings or a graph other than its own.

    ``config`` (a whole config, or None) and ``overrides`` (fields by name) are what the
    caller asked for; ``device`` may differ from the saved run.

    Examples
    --------
    >>> import socialmarl as sm
    >>> tr = sm.Trainer(sm.ring_graph(6), num_updates=1, envs_per_alpha=2, num_minibatches=1,
    ...                 episode_length=4, progress=False)
    >>> check_resume_matches(tr, None, {"lr": 0.1, "sigma": 2.0}, None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: resuming continues the saved run, ...: game.sigma (saved 1.0, given 2.0), lr ...
    """
    saved_cfg = trainer.config
    wanted = (config if config is not None else saved_cfg).updated(
        **{k: v for k, v in overrides.items() if k != "device"})
    saved = _flat(saved_cfg.to_dict())
    given = _flat(wanted.to_dict())
    differ = [f"{k} (saved {saved[k]!r}, given {given[k]!r})" for k in sorted(saved)
              if k != "device" and saved[k] != given.get(k)]
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

    A shorthand for :func:`socialmarl.learning.runs.load_run` (which also gives the camp
    process, the update and the checksum).

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
    run = runs.load_run(path, device=device)
    return run.policies, run.config, run.graph
