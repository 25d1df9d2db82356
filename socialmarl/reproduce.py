"""The main job: re-create the paper's claims on bundled data, end to end.

:func:`reproduce` trains one population per alpha on a social-media-like network (the
bundled Bluesky-like sample, or a connected piece of it) and on a small dynamic
hunter-gatherer camp (the bundled camp sample with its Markov interaction process),
evaluates every population on fresh episodes, fits the learned attention against the
human like-importance weights of the Bluesky-like sample, and writes a results folder:

* ``conformity.png``: final-step accuracy, lying rate and edge disagreement against
  conformity ``1 - alpha`` on both networks, with bootstrap confidence bands;
* ``attention_fit.png``: per-agent rank correlation of learned attention with human
  weights against conformity, with the uniform-attention baseline;
* ``numbers.csv``: every number behind the figures (network, alpha, metric, value, CI);
* ``attention_fit.csv``: the full fit table (models, baselines, p-values);
* ``summary.txt``: a short text summary; ``config.json``: the preset that made it all;
* ``runs/<network>/``: each training run (config, log, checkpoint).

Presets: ``smoke`` (seconds, for tests), ``quick`` (a few minutes on a 2-core CPU) and
``paper`` (full scale, for a GPU). Choices where the paper is silent: the wait action is
off in these presets, because with it pure conformists learn to wait forever (a
disagreement costs twice what an agreement earns) and the lying and accuracy curves then
measure silence; ``quick`` trains on the 200 best-connected accounts of the sample (a
breadth-first piece around the most-followed account) so that it learns in minutes.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from .config import atomic_write_bytes, atomic_write_text, save_json
from .datasets import load_bluesky_sample, load_camp_sample
from .evaluate import EvalRecord, evaluate
from .importance import AttentionFit
from .metrics import summarise, sweep_table
from .networks.graph import Graph
from .train import Trainer

__all__ = ["ReproducePreset", "PRESETS", "reproduce", "bfs_subgraph"]


@dataclass
class ReproducePreset:
    """Sizes of one reproduction run (saved in ``config.json``)."""

    name: str
    """Preset name."""
    alphas: list[float] = field(default_factory=lambda: [0.0, 0.25, 0.5, 0.75, 1.0])
    """Truth weights; one population per alpha and network."""
    social_nodes: int = 200
    """Accounts of the Bluesky-like sample to train on (1000 = all of it)."""
    social_updates: int = 40
    """PPO updates on the social network."""
    camp_updates: int = 60
    """PPO updates on the camp network."""
    envs_per_alpha: int = 8
    """Parallel environments per population."""
    num_minibatches: int = 4
    """PPO minibatches per epoch."""
    lr: float = 1e-3
    """Adam learning rate."""
    eval_episodes: int = 64
    """Evaluation episodes per population."""
    n_boot: int = 500
    """Bootstrap replicates for confidence intervals."""
    allow_wait: bool = False
    """Whether agents may wait (see the module docstring)."""
    seed: int = 0
    """Seed of everything."""


PRESETS: dict[str, ReproducePreset] = {
    "smoke": ReproducePreset("smoke", alphas=[0.0, 1.0], social_nodes=40, social_updates=2,
                             camp_updates=2, envs_per_alpha=2, num_minibatches=1,
                             eval_episodes=8, n_boot=50),
    "quick": ReproducePreset("quick"),
    "paper": ReproducePreset("paper", alphas=[i / 10 for i in range(11)], social_nodes=1000,
                             social_updates=1000, camp_updates=1000, envs_per_alpha=32,
                             lr=5e-4, eval_episodes=512, n_boot=2000),
}


def bfs_subgraph(graph: Graph, size: int, *, root: int | None = None) -> Graph:
    """The first ``size`` agents reached breadth-first (either edge direction) from ``root``.

    ``root`` defaults to the agent with the largest audience (out-degree). Edge weights are
    kept and re-normalised over each receiver's remaining in-edges when the graph's weights
    were normalised that way; node attributes are kept and ``"original_id"`` is added.

    Examples
    --------
    >>> import socialmarl as sm
    >>> bfs_subgraph(sm.ring_graph(10), 4, root=0).node_attrs["original_id"]
    [0, 1, 9, 2]
    """
    n = graph.num_nodes
    if not 1 <= size <= n:
        raise ValueError(f"size={size} must lie in 1..{n}")
    src, dst = (t.cpu().numpy() for t in graph.edge_index)
    if root is None:
        root = int(np.argmax(np.bincount(src, minlength=n)))
    nbrs: list[list[int]] = [[] for _ in range(n)]
    for a, b in zip(src.tolist(), dst.tolist()):
        nbrs[a].append(b)
        nbrs[b].append(a)
    order, seen, frontier = [root], {root}, [root]
    while frontier and len(order) < size:
        nxt = []
        for u in frontier:
            for v in sorted(nbrs[u]):
                if v not in seen and len(order) < size:
                    seen.add(v)
                    order.append(v)
                    nxt.append(v)
        frontier = nxt
    new_id = np.full(n, -1)
    new_id[order] = np.arange(len(order))
    keep = (new_id[src] >= 0) & (new_id[dst] >= 0) & (src != dst)
    w = None
    if graph.edge_weight is not None:
        w = graph.edge_weight.cpu().numpy()[keep]
        recv = new_id[dst[keep]]
        tot = np.bincount(recv, weights=w, minlength=len(order))
        w = np.where(tot[recv] > 0, w / np.where(tot[recv] > 0, tot[recv], 1.0), 0.0)
    attrs = {k: [v[i] for i in order] for k, v in graph.node_attrs.items()}
    attrs["original_id"] = [int(i) for i in order]
    return Graph(len(order), np.stack([new_id[src[keep]], new_id[dst[keep]]]), w, attrs,
                 f"{graph.name} ({len(order)} accounts)", graph.directed)


def _train_and_evaluate(
    graph: Graph, preset: ReproducePreset, updates: int, out: Path, device: str,
    progress: bool, q: torch.Tensor | None = None, rate: float | None = None,
) -> dict[float, EvalRecord]:
    trainer = Trainer(
        graph, alphas=list(preset.alphas), envs_per_alpha=preset.envs_per_alpha,
        num_updates=updates, num_minibatches=preset.num_minibatches, lr=preset.lr,
        allow_wait=preset.allow_wait, interaction_rate=rate, seed=preset.seed, device=device,
        checkpoint_every=max(updates, 1), out_dir=out, q=q, progress=progress,
    )
    trainer.train()
    records = {}
    for alpha, policy in zip(preset.alphas, trainer.policies):
        records[float(alpha)] = evaluate(
            policy, graph, alpha=alpha, episodes=preset.eval_episodes, q=q,
            interaction_rate=rate, allow_wait=preset.allow_wait, device=device,
            seed=preset.seed + 1000,
        )
    return records


def _figure_png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    return buf.getvalue()


def reproduce(
    preset: str | ReproducePreset = "quick",
    out_dir: str | os.PathLike = "results/reproduce",
    *,
    device: str = "cpu",
    progress: bool = True,
) -> dict[str, Any]:
    """Run the whole reproduction and write the results folder.

    Parameters
    ----------
    preset : {"smoke", "quick", "paper"} or ReproducePreset
        Sizes of the run.
    out_dir : path
        Results folder (created; files are written atomically).
    device : str
        ``cpu`` or ``cuda``.
    progress : bool
        Show progress bars.

    Returns
    -------
    dict
        ``numbers`` (the tidy table), ``fit`` (the AttentionFit), ``summary`` (text) and
        ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> res = reproduce("smoke", tempfile.mkdtemp(), progress=False)
    >>> sorted(res["numbers"].network.unique())  # doctest: +NORMALIZE_WHITESPACE
    ['bluesky-like', 'camp', 'learned attention vs human', 'uniform attention vs human']
    """
    if isinstance(preset, str):
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
        preset = PRESETS[preset]
    import matplotlib

    matplotlib.use("Agg", force=False)
    from .plots import plot_sweep

    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_json(out / "config.json", {"preset": asdict(preset), "device": device,
                                    "torch": torch.__version__})
    social_full = load_bluesky_sample()
    social = (social_full if preset.social_nodes >= social_full.num_nodes
              else bfs_subgraph(social_full, preset.social_nodes))
    camp, rate = load_camp_sample()

    social_recs = _train_and_evaluate(social, preset, preset.social_updates,
                                      out / "runs" / "bluesky-like", device, progress)
    camp_recs = _train_and_evaluate(camp, preset, preset.camp_updates, out / "runs" / "camp",
                                    device, progress, q=camp.edge_weight, rate=rate)

    summaries = {}
    for net, graph, recs in (("bluesky-like", social, social_recs), ("camp", camp, camp_recs)):
        for alpha, rec in recs.items():
            summaries[(net, alpha)] = summarise(
                rec.outputs, rec.truth, graph, beliefs=rec.beliefs, flips=rec.flips,
                edge_active=rec.edge_active, n_boot=preset.n_boot, seed=preset.seed,
            )
    numbers = sweep_table(summaries)

    fit = AttentionFit(n_boot=preset.n_boot, n_perm=max(20, preset.n_boot // 10),
                       seed=preset.seed)
    fit.fit(social, {a: r.attention for a, r in social_recs.items()}, social.edge_weight)
    fit_rows = fit.alpha_table_.assign(network="learned attention vs human")
    uni = fit.table_[(fit.table_.model == "uniform")]
    uni_rows = pd.concat([uni.assign(alpha=a) for a in preset.alphas])
    uni_rows = uni_rows.assign(network="uniform attention vs human")
    fit_numbers = pd.concat([fit_rows, uni_rows], ignore_index=True)[
        ["network", "alpha", "metric", "value", "ci_low", "ci_high"]]
    all_numbers = pd.concat([numbers, fit_numbers.assign(n=np.nan)], ignore_index=True)
    atomic_write_text(out / "numbers.csv", all_numbers.to_csv(index=False))
    atomic_write_text(out / "attention_fit.csv", fit.table_.to_csv(index=False))

    fig = plot_sweep(numbers, ["accuracy_final", "lying_rate", "edge_disagreement_final"])
    fig.suptitle("Accuracy, lying and disagreement against conformity (1 - alpha)", y=1.04)
    atomic_write_bytes(out / "conformity.png", _figure_png(fig))
    fig2 = plot_sweep(fit_numbers, ["spearman"])
    fig2.suptitle("Learned attention against human like-importance", y=1.06)
    atomic_write_bytes(out / "attention_fit.png", _figure_png(fig2))

    def val(net: str, alpha: float, metric: str) -> float:
        row = numbers[(numbers.network == net) & (numbers.alpha == alpha)
                      & (numbers.metric == metric)]
        return float(row.value.iloc[0]) if len(row) else float("nan")

    lines = [f"socialmarl reproduce, preset {preset.name!r}, "
             f"{time.perf_counter() - start:.0f} s on {device}", ""]
    for net, graph in (("bluesky-like", social), ("camp", camp)):
        lines.append(f"{net}: {graph.num_nodes} agents, {graph.num_edges} edges")
        for a in preset.alphas:
            lines.append(
                f"  alpha {a:.2f} (conformity {1 - a:.2f}): final accuracy "
                f"{val(net, a, 'accuracy_final'):.3f}, lying rate {val(net, a, 'lying_rate'):.3f}, "
                f"edge disagreement {val(net, a, 'edge_disagreement_final'):.3f}"
            )
    lines += ["", f"attention fit (per-agent Spearman with human weights, Bluesky-like): "
              f"best alpha {fit.best_alpha_} (bootstrap probability "
              f"{float(fit.best_alpha_probability_.max()):.2f}); alphas not significantly "
              f"worse: {fit.alphas_not_worse_}"]
    summary = "\n".join(lines) + "\n"
    atomic_write_text(out / "summary.txt", summary)
    return {"numbers": all_numbers, "fit": fit, "summary": summary, "out_dir": out}
