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

The networks can be replaced (``social=`` / ``camp=``, ``socialmarl reproduce --graph
... --camp ...``) by any :class:`~socialmarl.networks.resolve.Network`: the social network
is then used whole, and the attention fit runs when its edges carry weights (the human
importance); a camp must be dynamic (interaction probabilities and a switching rate). A
folder that holds an earlier reproduction is not replaced unless ``overwrite=True``.

Presets: ``smoke`` (seconds, for tests), ``quick`` (a few minutes on a 2-core CPU) and
``paper`` (full scale, for a GPU). Choices where the paper is silent: the wait action is
off in these presets, because with it pure conformists learn to wait forever (a
disagreement costs twice what an agreement earns) and the lying and accuracy curves then
measure silence; ``quick`` trains on the 200 best-connected accounts of the sample (a
breadth-first piece around the most-followed account) so that it learns in minutes.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..analysis.evaluation import EvalRecord, evaluate
from ..analysis.importance import AttentionFit
from ..analysis.metrics import summarise, sweep_table
from ..common.checks import as_device
from ..common.config_io import save_json
from ..common.files import (
    atomic_write_bytes,
    atomic_write_text,
    check_writable_dir,
    remove_stale_temp_files,
)
from ..learning.trainer import Trainer
from ..networks.bundled import load_bluesky_sample, load_camp_sample
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from ..networks.network import Network

__all__ = ["ReproducePreset", "PRESETS", "reproduce", "bfs_subgraph", "OUTPUT_FILES"]

#: What :func:`reproduce` writes into its folder (in this order in its report).
OUTPUT_FILES = ("conformity.png", "attention_fit.png", "numbers.csv", "attention_fit.csv",
                "summary.txt", "config.json", "runs/")


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
    progress: bool, camp: CampProcess | None = None,
) -> dict[float, EvalRecord]:
    trainer = Trainer(
        graph, alphas=list(preset.alphas), envs_per_alpha=preset.envs_per_alpha,
        num_updates=updates, num_minibatches=preset.num_minibatches, lr=preset.lr,
        allow_wait=preset.allow_wait, seed=preset.seed, device=device,
        checkpoint_every=max(updates, 1), out_dir=out, camp=camp, progress=progress,
    )
    trainer.train()
    records = {}
    for alpha, policy in zip(preset.alphas, trainer.policies):
        records[float(alpha)] = evaluate(
            policy, graph, alpha=alpha, episodes=preset.eval_episodes, camp=camp,
            game_config=trainer.config.game, device=device, seed=preset.seed + 1000,
        )
    return records


def _figure_png(fig) -> bytes:
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=120, bbox_inches="tight")
    return buf.getvalue()


def _label(graph: Graph, default: str) -> str:
    """A short label (and folder name) for a network the user supplied."""
    name = "".join(c if c.isalnum() or c in "-_" else "-" for c in (graph.name or default))
    return name.strip("-") or default


def _prepare_out(out: Path, overwrite: bool) -> None:
    """Check ``out`` is writable; refuse (or, asked, clear) an earlier reproduction in it."""
    check_writable_dir(out, "results folder")
    earlier = [f for f in OUTPUT_FILES if (out / f.rstrip("/")).exists()]
    if earlier and not overwrite:
        raise FileExistsError(
            f"{out} holds an earlier reproduction ({', '.join(earlier)}); choose another "
            "folder (--out), or replace it with overwrite=True (--overwrite)"
        )
    for f in earlier:
        target = out / f.rstrip("/")
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    remove_stale_temp_files(out)


def reproduce(
    preset: str | ReproducePreset = "quick",
    out_dir: str | os.PathLike = "results/reproduce",
    *,
    device: str = "cpu",
    progress: bool = True,
    social: Network | None = None,
    camp: Network | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Run the whole reproduction and write the results folder.

    Parameters
    ----------
    preset : {"smoke", "quick", "paper"} or ReproducePreset
        Sizes of the run.
    out_dir : path
        Results folder (created; files are written atomically). A folder holding an
        earlier reproduction is refused unless ``overwrite``.
    device : str
        ``cpu`` or ``cuda``.
    progress : bool
        Show progress bars.
    social : Network, optional
        The social network to train on, whole (default: the bundled Bluesky-like sample,
        cut to ``preset.social_nodes`` accounts). Its edge weights, when present, are the
        human importance the learned attention is fitted against; without weights the fit
        is skipped.
    camp : Network, optional
        A dynamic camp (default: the bundled camp sample), e.g.
        ``sm.load_network("bayaka")``.
    overwrite : bool
        Replace an earlier reproduction in ``out_dir``.

    Returns
    -------
    dict
        ``numbers`` (the tidy table), ``fit`` (the AttentionFit, or None), ``summary``
        (text), ``files`` (the names written) and ``out_dir``.

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
    device = str(as_device(device))
    if camp is not None and camp.interaction_rate is None:
        raise ValueError(
            f"camp={camp.source} is not a dynamic camp (no interaction rate); give a camp "
            "network such as camp_sample or bayaka"
        )
    import matplotlib

    matplotlib.use("Agg", force=False)
    from ..analysis.plots import plot_sweep

    start = time.perf_counter()
    out = Path(out_dir)
    _prepare_out(out, overwrite)
    if social is None:
        social_full = load_bluesky_sample()
        social_graph = (social_full if preset.social_nodes >= social_full.num_nodes
                        else bfs_subgraph(social_full, preset.social_nodes))
        social_name, social_source = "bluesky-like", "bundled Bluesky-like sample"
    else:
        social_graph, social_source = social.graph, social.source
        social_name = _label(social_graph, "social")
    if camp is None:
        camp = load_camp_sample()
        camp_name = "camp"
    else:
        camp_name = _label(camp.graph, "camp")
    camp_graph, rate, camp_source = camp.graph, camp.interaction_rate, camp.source
    if camp_name == social_name:
        camp_name += "-camp"
    save_json(out / "config.json", {
        "preset": asdict(preset), "device": device, "torch": torch.__version__,
        "networks": {social_name: {"source": social_source, **social_graph.summary()},
                     camp_name: {"source": camp_source, "interaction_rate": rate,
                                 **camp_graph.summary()}},
    })
    social_recs = _train_and_evaluate(social_graph, preset, preset.social_updates,
                                      out / "runs" / social_name, device, progress)
    camp_recs = _train_and_evaluate(camp_graph, preset, preset.camp_updates,
                                    out / "runs" / camp_name, device, progress,
                                    camp=camp.camp)

    summaries = {}
    for net, graph, recs in ((social_name, social_graph, social_recs),
                             (camp_name, camp_graph, camp_recs)):
        for alpha, rec in recs.items():
            summaries[(net, alpha)] = summarise(
                rec.outputs, rec.truth, graph, beliefs=rec.beliefs, flips=rec.flips,
                edge_active=rec.edge_active, n_boot=preset.n_boot, seed=preset.seed,
            )
    numbers = sweep_table(summaries)
    written = ["conformity.png"]

    fit = None
    all_numbers = numbers
    if social_graph.edge_weight is not None:
        fit = AttentionFit(n_boot=preset.n_boot, n_perm=max(20, preset.n_boot // 10),
                           seed=preset.seed)
        fit.fit(social_graph, {a: r.attention for a, r in social_recs.items()},
                social_graph.edge_weight)
        fit_rows = fit.alpha_table_.assign(network="learned attention vs human")
        uni = fit.table_[(fit.table_.model == "uniform")]
        uni_rows = pd.concat([uni.assign(alpha=a) for a in preset.alphas])
        uni_rows = uni_rows.assign(network="uniform attention vs human")
        fit_numbers = pd.concat([fit_rows, uni_rows], ignore_index=True)[
            ["network", "alpha", "metric", "value", "ci_low", "ci_high"]]
        all_numbers = pd.concat([numbers, fit_numbers.assign(n=np.nan)], ignore_index=True)
        atomic_write_text(out / "attention_fit.csv", fit.table_.to_csv(index=False))
        fig2 = plot_sweep(fit_numbers, ["spearman"])
        fig2.suptitle("Learned attention against human like-importance", y=1.06)
        atomic_write_bytes(out / "attention_fit.png", _figure_png(fig2))
        written += ["attention_fit.png", "attention_fit.csv"]
    atomic_write_text(out / "numbers.csv", all_numbers.to_csv(index=False))

    fig = plot_sweep(numbers, ["accuracy_final", "lying_rate", "edge_disagreement_final"])
    fig.suptitle("Accuracy, lying and disagreement against conformity (1 - alpha)", y=1.04)
    atomic_write_bytes(out / "conformity.png", _figure_png(fig))

    def val(net: str, alpha: float, metric: str) -> float:
        row = numbers[(numbers.network == net) & (numbers.alpha == alpha)
                      & (numbers.metric == metric)]
        return float(row.value.iloc[0]) if len(row) else float("nan")

    lines = [f"socialmarl reproduce, preset {preset.name!r}, "
             f"{time.perf_counter() - start:.0f} s on {device}", ""]
    for net, graph in ((social_name, social_graph), (camp_name, camp_graph)):
        lines.append(f"{net}: {graph.num_nodes} agents, {graph.num_edges} edges")
        for a in preset.alphas:
            lines.append(
                f"  alpha {a:.2f} (conformity {1 - a:.2f}): final accuracy "
                f"{val(net, a, 'accuracy_final'):.3f}, lying rate {val(net, a, 'lying_rate'):.3f}, "
                f"edge disagreement {val(net, a, 'edge_disagreement_final'):.3f}"
            )
    if fit is not None:
        lines += ["", f"attention fit (per-agent Spearman with human weights, {social_name}): "
                  f"best alpha {fit.best_alpha_} (bootstrap probability "
                  f"{float(fit.best_alpha_probability_.max()):.2f}); alphas not significantly "
                  f"worse: {fit.alphas_not_worse_}"]
    else:
        lines += ["", f"attention fit skipped: {social_name} has no edge weights (human "
                  "importance) to compare with"]
    summary = "\n".join(lines) + "\n"
    atomic_write_text(out / "summary.txt", summary)
    written += ["numbers.csv", "summary.txt", "config.json", "runs/"]
    files = [f for f in OUTPUT_FILES if f in written]
    return {"numbers": all_numbers, "fit": fit, "summary": summary, "files": files,
            "out_dir": out}
