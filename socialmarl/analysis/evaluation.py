"""Roll out trained populations into a tidy record (the README's "Analysis").

:func:`evaluate` plays a policy greedily or by sampling for many episodes, with or without
other-play flips, on its training graph or another graph with the same number of agents,
and returns an :class:`EvalRecord`: per-step outputs, beliefs, signals, truth, accuracy,
agreement, entropy, lying, and the mean attention per edge (dense on request).

Lying (the README's "Analysis"): agent ``i`` lies at a step when it states a definite guess ``a``
opposite to its own belief head ``b``, ``(b - 0.5)(a - 0.5) < 0``, both in its own frame.
A flip maps ``b -> 1 - b`` and ``a -> 1 - a``, so the sign, and so the lying flag, is the
same in the environment's labels.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..common.checks import as_device, as_int
from ..common.config_io import save_json
from ..common.files import (
    atomic_write_bytes,
    atomic_write_text,
    check_writable_dir,
    remove_stale_temp_files,
)
from ..game.game import ConsensusGame, GameConfig
from ..game.observation import WAIT, to_env_actions
from ..learning.actions import lies, sample_actions
from ..networks.graph import Graph

__all__ = ["EvalRecord", "evaluate", "evaluate_run"]


@dataclass
class EvalRecord:
    """Everything one evaluation measured; arrays are NumPy, episodes first.

    Attributes
    ----------
    outputs : ndarray of int8, shape (B, T, N)
        Stated outputs in the environment's labels (0, 1, 2 = wait).
    beliefs : ndarray of float32, shape (B, T, N)
        Belief heads as ``P(Psi = 1)`` in the environment's labels.
    lying : ndarray of bool, shape (B, T, N)
        Definite guess against the agent's own belief.
    rewards : ndarray of float32, shape (B, T, N)
        Reward of every agent at every step.
    signals : ndarray of float32, shape (B, N)
    truth : ndarray of int64, shape (B,)
    flips : ndarray of bool, shape (B, N)
    accuracy, agreement, entropy : ndarray of float32, shape (B, T)
    attention : ndarray of float64, shape (E,)
        Mean attention each receiver puts on each sender over all steps and episodes
        (aligned with ``graph.edge_index``).
    self_attention : ndarray of float64, shape (N,)
        Mean weight each agent puts on itself.
    edge_active : ndarray of bool, shape (B, T, E), or None
        The edges active at each step (dynamic camp networks and percolation); ``None``
        when every edge is always active. Pass it to :func:`~socialmarl.analysis.metrics.summarise`
        so edge metrics count only the pairs that interacted.
    graph : Graph
    alpha : float
    config : dict
        The game settings, policy origin and seed that produced the record.
    """

    outputs: np.ndarray
    beliefs: np.ndarray
    lying: np.ndarray
    rewards: np.ndarray
    signals: np.ndarray
    truth: np.ndarray
    flips: np.ndarray
    accuracy: np.ndarray
    agreement: np.ndarray
    entropy: np.ndarray
    attention: np.ndarray
    self_attention: np.ndarray
    graph: Graph
    alpha: float
    config: dict[str, Any] = field(default_factory=dict)
    edge_active: np.ndarray | None = None

    @property
    def num_episodes(self) -> int:
        """Number of evaluated episodes ``B``."""
        return int(self.outputs.shape[0])

    def attention_matrix(self) -> np.ndarray:
        """``(N, N)`` mean attention, rows = attending agent, diagonal = self-attention."""
        n = self.graph.num_nodes
        mat = np.zeros((n, n))
        src, dst = self.graph.edge_index.cpu().numpy()
        mat[dst, src] = self.attention
        mat[np.arange(n), np.arange(n)] = self.self_attention
        return mat

    def summary(self) -> dict[str, float]:
        """Headline numbers: mean and final-step accuracy, agreement, lying, waiting."""
        definite = self.outputs != WAIT
        return {
            "alpha": float(self.alpha),
            "episodes": self.num_episodes,
            "accuracy": float(self.accuracy.mean()),
            "final_accuracy": float(self.accuracy[:, -1].mean()),
            "agreement": float(self.agreement.mean()),
            "final_agreement": float(self.agreement[:, -1].mean()),
            "entropy": float(self.entropy.mean()),
            "lying_rate": float(self.lying.sum() / max(definite.sum(), 1)),
            "ever_lie_fraction": float(self.lying.any(axis=(0, 1)).mean()),
            "wait_rate": float((~definite).mean()),
            "mean_return": float(self.rewards.sum(1).mean()),
            "signal_accuracy": float(((self.signals > 0.5) == self.truth[:, None]).mean()),
        }

    def steps_frame(self) -> pd.DataFrame:
        """Tidy per-(episode, step) table of accuracy, agreement, entropy, lying and waits."""
        b, t, _ = self.outputs.shape
        definite = self.outputs != WAIT
        return pd.DataFrame(
            {
                "alpha": float(self.alpha),
                "episode": np.repeat(np.arange(b), t),
                "step": np.tile(np.arange(t), b),
                "accuracy": self.accuracy.reshape(-1),
                "agreement": self.agreement.reshape(-1),
                "entropy": self.entropy.reshape(-1),
                "lying_rate": (self.lying.sum(-1) / np.maximum(definite.sum(-1), 1)).reshape(-1),
                "wait_rate": (~definite).mean(-1).reshape(-1),
            }
        )

    def attention_frame(self) -> pd.DataFrame:
        """Tidy per-edge table: ``receiver`` (attending), ``sender`` (attended), ``attention``."""
        src, dst = self.graph.edge_index.cpu().numpy()
        n = self.graph.num_nodes
        return pd.DataFrame(
            {
                "receiver": np.concatenate([dst, np.arange(n)]),
                "sender": np.concatenate([src, np.arange(n)]),
                "attention": np.concatenate([self.attention, self.self_attention]),
                "self": np.concatenate([np.zeros(len(src), bool), np.ones(n, bool)]),
            }
        )

    def save(self, folder: str | os.PathLike) -> Path:
        """Write ``summary.json`` (with the config), ``steps.csv``, ``attention.csv`` and
        ``arrays.npz`` (plain arrays; load with ``np.load(..., allow_pickle=False)``)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_json(folder / "summary.json", {"summary": self.summary(), "config": self.config})
        atomic_write_text(folder / "steps.csv", self.steps_frame().to_csv(index=False))
        atomic_write_text(folder / "attention.csv", self.attention_frame().to_csv(index=False))
        buf = io.BytesIO()
        np.savez_compressed(
            buf, outputs=self.outputs, beliefs=self.beliefs, lying=self.lying,
            rewards=self.rewards,
            signals=self.signals, truth=self.truth, flips=self.flips, accuracy=self.accuracy,
            agreement=self.agreement, entropy=self.entropy, attention=self.attention,
            self_attention=self.self_attention,
            **({} if self.edge_active is None else {"edge_active": self.edge_active}),
        )
        atomic_write_bytes(folder / "arrays.npz", buf.getvalue())
        return folder


@torch.no_grad()
def evaluate(
    policy: torch.nn.Module,
    graph: Graph,
    *,
    alpha: float = 1.0,
    episodes: int = 64,
    batch_size: int | None = None,
    other_play: bool = True,
    greedy: bool = False,
    game_config: GameConfig | None = None,
    q: torch.Tensor | None = None,
    device: str | torch.device = "cpu",
    seed: int = 1234,
    **game_overrides: Any,
) -> EvalRecord:
    """Play ``episodes`` episodes with a trained policy and record everything.

    Parameters
    ----------
    policy : AttentionPolicy
        A trained population (shared parameters for all agents).
    graph : Graph
        The training graph or another with the same number of agents.
    alpha : float
        Truth weight of the evaluation game (used for the recorded rewards' context).
    episodes : int
        Number of episodes.
    batch_size : int, optional
        Environments played at once (default: all episodes at once, at most 256).
    other_play : bool
        Draw other-play flips (as in training) or play in the raw labels.
    greedy : bool
        Take the most likely action instead of sampling.
    game_config : GameConfig, optional
        Rules (sigma, p_signal, wait, episode length ...); ``p_perc`` defaults to 1.0.
    q : Tensor, optional
        Interaction probabilities for a dynamic camp network (with ``interaction_rate``).
    device : str
        Where to play.
    seed : int
        Seed of the evaluation games and of action sampling.
    **game_overrides
        Fields of :class:`GameConfig` to override.

    Returns
    -------
    EvalRecord

    Examples
    --------
    >>> import socialmarl as sm
    >>> g = sm.ring_graph(6)
    >>> rec = sm.evaluate(sm.AttentionPolicy(6), g, episodes=4, episode_length=5)
    >>> rec.outputs.shape, rec.attention.shape
    ((4, 5, 6), (12,))
    """
    if graph.num_nodes != getattr(policy, "num_agents", graph.num_nodes):
        raise ValueError(
            f"the graph has {graph.num_nodes} agents but the policy was trained for "
            f"{policy.num_agents}; evaluate on a graph of the same size"
        )
    episodes = as_int(episodes, "episodes", minimum=1)
    batch = (min(episodes, 256) if batch_size is None
             else as_int(batch_size, "batch_size", minimum=1))
    seed = as_int(seed, "seed", minimum=0)
    bad = [name for name, p in policy.named_parameters()
           if p.is_floating_point() and not bool(torch.isfinite(p).all())]
    if bad:
        raise ValueError(
            f"the policy has NaN or infinite weights ({', '.join(bad[:4])}); its numbers "
            "would mean nothing: the training run diverged (train it again with a lower lr)"
        )
    base = game_config if game_config is not None else GameConfig()
    overrides = {"p_perc": 1.0, **game_overrides}
    cfg_kwargs = {**base.__dict__, **overrides, "num_envs": batch, "alpha": float(alpha),
                  "other_play": other_play}
    cfg = GameConfig(**cfg_kwargs)
    pcfg = getattr(policy, "config", None)
    n_act = getattr(pcfg, "num_actions", None)
    if n_act is not None and n_act != (3 if cfg.allow_wait else 2):
        raise ValueError(
            f"the policy has {n_act} actions but the game has allow_wait={cfg.allow_wait} "
            f"({3 if cfg.allow_wait else 2} actions); evaluate with "
            f"allow_wait={n_act == 3}, the setting the population was trained with"
        )
    dev = as_device(device)
    policy = policy.to(dev)
    was_training = policy.training
    policy.eval()
    gen = torch.Generator(device=dev).manual_seed(seed + 1)
    chunks: dict[str, list[np.ndarray]] = {}
    att_sum = torch.zeros(graph.num_edges, dtype=torch.float64, device=dev)
    self_sum = torch.zeros(graph.num_nodes, dtype=torch.float64, device=dev)
    count = 0
    done_eps = 0
    chunk_id = 0
    while done_eps < episodes:
        game = ConsensusGame(graph, cfg, q=q, device=dev, seed=seed + 7919 * chunk_id,
                             check_actions=False)
        chunk_id += 1
        obs = game.reset()
        h = policy.initial_state(batch, dev)
        rec: dict[str, list[torch.Tensor]] = {k: [] for k in (
            "outputs", "beliefs", "lying", "rewards", "accuracy", "agreement", "entropy")}
        signals, truth, flips = obs.signal.clone(), game.truth.clone(), obs.flips.clone()
        active: list[torch.Tensor] = []
        for _ in range(cfg.episode_length):
            own = obs.to_agent_frame()
            if own.edge_active is not None:
                active.append(own.edge_active)
            out = policy(own, h)
            h = out.hidden
            actions = sample_actions(out.logits, gen, greedy=greedy)
            lying = lies(actions, out.belief)
            env_belief = torch.where(own.flips, 1.0 - out.belief, out.belief)
            att_sum += out.attention.double().sum(0)
            self_sum += out.self_attention.double().sum(0)
            count += batch
            env_actions = to_env_actions(actions, own.flips)
            obs, reward, _, info = game.step(env_actions)
            for k, v in (("outputs", env_actions.to(torch.int8)), ("beliefs", env_belief),
                         ("lying", lying), ("rewards", reward), ("accuracy", info["accuracy"]),
                         ("agreement", info["agreement"]), ("entropy", info["entropy"])):
                rec[k].append(v)
        take = min(batch, episodes - done_eps)
        for k, v in rec.items():
            chunks.setdefault(k, []).append(torch.stack(v, 1)[:take].cpu().numpy())
        for k, v in (("signals", signals), ("truth", truth), ("flips", flips)):
            chunks.setdefault(k, []).append(v[:take].cpu().numpy())
        if active:
            chunks.setdefault("edge_active", []).append(
                torch.stack(active, 1)[:take].bool().cpu().numpy())
        done_eps += take
    if was_training:
        policy.train()
    arrays = {k: np.concatenate(v) for k, v in chunks.items()}
    config = {
        "game": {k: v for k, v in cfg.__dict__.items()},
        "episodes": episodes,
        "greedy": greedy,
        "seed": seed,
        "graph": {"name": graph.name, **graph.summary()},
    }
    return EvalRecord(
        outputs=arrays["outputs"],
        beliefs=arrays["beliefs"].astype(np.float32),
        lying=arrays["lying"],
        rewards=arrays["rewards"].astype(np.float32),
        signals=arrays["signals"].astype(np.float32),
        truth=arrays["truth"].astype(np.int64),
        flips=arrays["flips"],
        accuracy=arrays["accuracy"].astype(np.float32),
        agreement=arrays["agreement"].astype(np.float32),
        entropy=arrays["entropy"].astype(np.float32),
        attention=(att_sum / max(count, 1)).cpu().numpy(),
        self_attention=(self_sum / max(count, 1)).cpu().numpy(),
        graph=graph,
        alpha=float(alpha),
        config=config,
        edge_active=arrays.get("edge_active"),
    )


def evaluate_run(
    run: str | os.PathLike,
    *,
    graph: Graph | None = None,
    episodes: int = 64,
    other_play: bool = True,
    out_dir: str | os.PathLike | None = None,
    device: str = "cpu",
    seed: int = 1234,
    **game_overrides: Any,
) -> dict[float, EvalRecord]:
    """Evaluate every population (one per alpha) of a training run folder.

    Parameters
    ----------
    run : path
        A run folder (with ``checkpoint.pt``) or a checkpoint file.
    graph : Graph, optional
        Evaluate on another graph of the same size (default: the training graph).
    out_dir : path, optional
        Write each record to ``out_dir/alpha_<alpha>/`` and a ``summary.csv``.

    Returns
    -------
    dict
        alpha -> :class:`EvalRecord`.
    """
    from ..learning.trainer import Trainer

    tr = Trainer.from_checkpoint(run, progress=False, device=device)
    out = None if out_dir is None else check_writable_dir(out_dir, "evaluation folder")
    g = tr.graph if graph is None else graph
    q = tr.q if graph is None else None
    base = tr.game.config
    records = {}
    for alpha, policy in zip(tr.config.alphas, tr.policies):
        kwargs = dict(
            sigma=base.sigma, p_signal=tr.config.p_signal, allow_wait=base.allow_wait,
            episode_length=base.episode_length,
            interaction_rate=base.interaction_rate if q is not None else None,
        )
        kwargs.update(game_overrides)
        rec = evaluate(policy, g, alpha=alpha, episodes=episodes, other_play=other_play,
                       q=q, device=device, seed=seed, **kwargs)
        rec.config["run"] = str(run)
        rec.config["checkpoint"] = {"update": tr.update, "checksum": tr.checkpoint_checksum}
        records[float(alpha)] = rec
    if out is not None:
        remove_stale_temp_files(out, recursive=True)
        for alpha, rec in records.items():
            rec.save(out / f"alpha_{alpha:g}")
        rows = [rec.summary() for rec in records.values()]
        atomic_write_text(out / "summary.csv", pd.DataFrame(rows).to_csv(index=False))
    return records
