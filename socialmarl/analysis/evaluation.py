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

import dataclasses
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..common.checks import as_bool, as_device, as_float, as_int
from ..common.config_io import config_to_dict, save_json
from ..common.files import (
    atomic_write_bytes,
    atomic_write_text,
    check_writable_dir,
    remove_stale_temp_files,
)
from ..game import measures
from ..game.game import ConsensusGame, GameConfig
from ..game.measures import lies
from ..learning.rollout import rollout
from ..learning.runs import load_run
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from ..networks.network import Network

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
        The game's per-step info (:mod:`socialmarl.game.measures`); agreement is NaN at a
        step without an active edge. :meth:`summary` and :meth:`steps_frame` recompute
        them from ``outputs`` in float64.
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
    seed: int | None = None

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

    def _per_step(self) -> dict[str, torch.Tensor]:
        """``(B, T)`` float64 measures of every step, from :mod:`socialmarl.game.measures`."""
        o = torch.as_tensor(self.outputs).long()
        lying = torch.as_tensor(self.lying)
        active = None if self.edge_active is None else torch.as_tensor(self.edge_active)
        return {
            "accuracy": measures.accuracy(o, torch.as_tensor(self.truth)[:, None]),
            "agreement": measures.agreement(o, self.graph.edge_index.cpu(), active),
            "entropy": measures.entropy(o),
            # one step as a one-step episode: lies / definite guesses, NaN with no guess
            "lying_rate": measures.lying_rate(lying[..., None, :], o[..., None, :]),
            "wait_rate": measures.wait_rate(o),
        }

    def summary(self) -> dict[str, float]:
        """Headline numbers: mean and final-step accuracy, agreement, lying, waiting.

        Every number is a mean over episodes of a per-episode value (episodes where it is
        NaN left out), the same numbers as :func:`socialmarl.analysis.metrics.summarise`
        under other names: ``accuracy`` and ``entropy`` are the means over steps
        (``accuracy_mean``, ``entropy_mean``), ``final_*`` the last step's value,
        ``agreement`` the mean over the steps with an active edge (``agreement_mean``),
        ``lying_rate`` the episode's lies / definite guesses, ``ever_lied`` the share of
        agents that lie at least once in the episode, ``wait_rate`` the share of waits,
        ``mean_return`` an agent's summed reward averaged over agents and
        ``signal_accuracy`` the share of signals on the truth's side of 0.5.

        The belief head's quality, which every lying number is read against (an
        uninformative head makes "lying" meaningless), at the last step:
        ``belief_accuracy`` the share of agents whose belief leans to the truth,
        ``(b - 0.5)(Psi - 0.5) > 0`` (a belief of exactly 0.5 counts as wrong;
        ``belief_accuracy_final`` in ``summarise``), and ``belief_brier`` the mean over
        agents of ``(b - Psi)^2`` (0 perfect, 0.25 a coin flip; ``belief_brier_final``).
        Their own-signal baselines are ``signal_accuracy`` and ``signal_brier``, the Brier
        score of the posterior ``P(Psi = 1 | own signal)`` for the game's
        ``sigma`` (``config["game"]["sigma"]``); ``signal_brier`` is NaN when the config
        has no sigma or sigma is 0 (exact signals, no Gaussian posterior). See
        :mod:`socialmarl.game.measures`.
        """
        per = self._per_step()
        o = torch.as_tensor(self.outputs).long()
        lying = torch.as_tensor(self.lying)
        truth = torch.as_tensor(self.truth)
        beliefs = torch.as_tensor(self.beliefs)
        per_episode = {
            "accuracy": per["accuracy"].mean(-1),
            "final_accuracy": per["accuracy"][:, -1],
            "agreement": per["agreement"].nanmean(-1),
            "final_agreement": per["agreement"][:, -1],
            "entropy": per["entropy"].mean(-1),
            "lying_rate": measures.lying_rate(lying, o),
            "ever_lied": measures.ever_lied(lying),
            "wait_rate": per["wait_rate"].mean(-1),
            "mean_return": measures.mean_return(torch.as_tensor(self.rewards)),
            "signal_accuracy": measures.signal_accuracy(torch.as_tensor(self.signals), truth),
            "belief_accuracy": measures.belief_accuracy(beliefs[:, -1], truth),
            "belief_brier": measures.belief_brier(beliefs[:, -1], truth),
            "signal_brier": self._signal_brier(truth),
        }
        return {
            "alpha": float(self.alpha),
            **({} if self.seed is None else {"seed": int(self.seed)}),
            "episodes": self.num_episodes,
            **{k: float(v.nanmean()) for k, v in per_episode.items()},
        }

    def _signal_brier(self, truth: torch.Tensor) -> torch.Tensor:
        """Per-episode :func:`~socialmarl.game.measures.signal_brier` at the config's sigma.

        NaN (one per episode) without ``config["game"]["sigma"]`` or with sigma 0.
        """
        sigma = (self.config.get("game") or {}).get("sigma")
        if sigma is None or float(sigma) == 0.0:
            return torch.full((self.num_episodes,), float("nan"), dtype=torch.float64)
        return measures.signal_brier(torch.as_tensor(self.signals), torch.as_tensor(self.truth),
                                     sigma)

    def steps_frame(self) -> pd.DataFrame:
        """Tidy per-(episode, step) table of accuracy, agreement, entropy, lying and waits.

        From :mod:`socialmarl.game.measures`: ``agreement`` is NaN at a step without an
        active edge and ``lying_rate`` (lies / definite guesses at the step) NaN at a step
        where nobody guesses.
        """
        b, t, _ = self.outputs.shape
        per = self._per_step()
        return pd.DataFrame(
            {
                "alpha": float(self.alpha),
                **({} if self.seed is None else {"seed": int(self.seed)}),
                "episode": np.repeat(np.arange(b), t),
                "step": np.tile(np.arange(t), b),
                **{k: v.reshape(-1).numpy() for k, v in per.items()},
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
    camp: CampProcess | None = None,
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
    camp : CampProcess, optional
        The dynamic camp process of the network (interaction probabilities and rate).
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
    alpha = as_float(alpha, "alpha", minimum=0.0, maximum=1.0,
                     what="alpha weights truth (1) against conformity (0)")
    greedy = as_bool(greedy, "greedy")
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
    if "q" in game_overrides or "interaction_rate" in game_overrides:
        raise TypeError("pass the camp process as camp=CampProcess(q, rate) instead of q= "
                        "and interaction_rate=")
    cfg = dataclasses.replace(base, **game_overrides, num_envs=batch, alpha=alpha,
                              other_play=other_play)
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
    names = {"env_actions": "outputs", "env_belief": "beliefs", "reward": "rewards",
             "accuracy": "accuracy", "agreement": "agreement", "entropy": "entropy"}
    while done_eps < episodes:
        game = ConsensusGame(graph, cfg, camp=camp, device=dev, seed=seed + 7919 * chunk_id,
                             check_actions=False)
        chunk_id += 1
        obs = game.reset()
        signals, truth, flips = obs.signal.clone(), game.truth.clone(), obs.flips.clone()
        played = rollout(game, policy, cfg.episode_length, obs=obs, generator=gen,
                         hidden=policy.initial_state(batch, dev), greedy=greedy,
                         record=(*names, "actions", "belief", "edge_active"),
                         sum_attention=True)
        att_sum += played.attention
        self_sum += played.self_attention
        count += played.count
        st = played.steps
        per_step = {new: st[old] for old, new in names.items()}
        per_step["outputs"] = per_step["outputs"].to(torch.int8)
        per_step["lying"] = lies(st["actions"], st["belief"])
        if st["edge_active"] is not None:
            per_step["edge_active"] = st["edge_active"].bool()
        take = min(batch, episodes - done_eps)
        for k, v in per_step.items():  # (T, B, ...) -> (B, T, ...)
            chunks.setdefault(k, []).append(v.transpose(0, 1)[:take].cpu().numpy())
        for k, v in (("signals", signals), ("truth", truth), ("flips", flips)):
            chunks.setdefault(k, []).append(v[:take].cpu().numpy())
        done_eps += take
    if was_training:
        policy.train()
    arrays = {k: np.concatenate(v) for k, v in chunks.items()}
    config = {
        "game": config_to_dict(cfg),
        "camp": None if camp is None else {"rate": camp.rate},
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
    graph: Graph | Network | None = None,
    episodes: int = 64,
    other_play: bool = True,
    out_dir: str | os.PathLike | None = None,
    device: str = "cpu",
    seed: int = 1234,
    camp_rate: float | None = None,
    **game_overrides: Any,
) -> dict[float, EvalRecord]:
    """Evaluate every population (one per alpha) of a training run folder.

    The run is read with :func:`socialmarl.learning.runs.load_run`; each population plays
    the run's own game (``config.game``: its rules at the curricula's end), on its graph
    with its camp process unless ``graph`` is given; ``game_overrides`` change the rules.

    Parameters
    ----------
    run : path
        A run folder (with ``checkpoint.pt``) or a checkpoint file.
    graph : Graph or Network, optional
        Evaluate on another graph of the same size (default: the training graph). A
        :class:`~socialmarl.networks.network.Network` (what ``load_network`` returns) brings
        its camp process with it; a bare ``Graph`` is played as a static network.
    out_dir : path, optional
        Write each record to ``out_dir/alpha_<alpha>/`` and a ``summary.csv``.
    camp_rate : float, optional
        Play the camp process at this switching rate instead of the run's (the graph's
        edge weights are its ``q``).
    **game_overrides
        Game rules to change (``experts=[0]``, ``p_perc=0.5``, ``reward_right=0.2`` ...).

    Returns
    -------
    dict
        alpha -> :class:`EvalRecord` for a run of one seed per alpha; ``(alpha, seed)`` ->
        :class:`EvalRecord` when the run trained several seeds (``TrainConfig.seeds``).
        Each record's ``seed`` is its population's training seed.
    """
    loaded = load_run(run, device=device)
    out = None if out_dir is None else check_writable_dir(out_dir, "evaluation folder")
    if isinstance(graph, Network):
        g, camp = graph.graph, graph.camp
    else:
        g = loaded.graph if graph is None else graph
        camp = loaded.camp if graph is None else None
    if camp_rate is not None:
        camp = CampProcess.from_graph(g, camp_rate) if camp is None else CampProcess(
            camp.q, camp_rate)
    records: dict[Any, EvalRecord] = {}
    several = len(loaded.config.population_seeds) > 1
    for (alpha, pop_seed), policy in zip(loaded.populations, loaded.policies):
        rec = evaluate(policy, g, alpha=alpha, episodes=episodes, other_play=other_play,
                       game_config=loaded.config.game, camp=camp, device=device, seed=seed,
                       **game_overrides)
        rec.seed = int(pop_seed)
        rec.config["run"] = str(run)
        rec.config["population"] = {"alpha": float(alpha), "seed": int(pop_seed)}
        rec.config["checkpoint"] = {"update": loaded.update, "checksum": loaded.checksum}
        records[(float(alpha), int(pop_seed)) if several else float(alpha)] = rec
    if out is not None:
        remove_stale_temp_files(out, recursive=True)
        for rec in records.values():
            name = f"alpha_{rec.alpha:g}" + (f"_seed_{rec.seed}" if several else "")
            rec.save(out / name)
        rows = [rec.summary() for rec in records.values()]
        atomic_write_text(out / "summary.csv", pd.DataFrame(rows).to_csv(index=False))
    return records
