"""One job of a sweep: train its populations, evaluate each, write its results, mark it done.

:func:`run_job` is what a worker runs (in this process, or as a Ray task on any machine
that sees the results folder). It takes the job's plain description
(:meth:`Job.to_dict() <socialmarl.sweeps.spec.Job.to_dict>`) and the sweep's folder, and
leaves in ``jobs/<label>-<id>/``:

* ``job.json`` -- the job's description (its settings, populations, evaluation);
* ``run/`` -- the training run (``config.json``, ``log.csv``, ``checkpoint.pt``);
* ``metrics.csv`` -- one row per (alpha, seed, metric): the population's mean over its
  evaluation episodes with an episode-bootstrap interval (``summarise``);
* ``attention.npy`` -- the mean learned attention per edge, one row per population in
  ``done.json``'s order (``numpy.load(..., allow_pickle=False)``);
* ``done.json`` -- written last: the job's id, its populations, the graph's digest, the
  files' SHA-256 digests and how long it took. A job is finished exactly when this file
  exists and its id matches.

Nothing is lost when a worker dies: every file is written atomically, training checkpoints
every ``checkpoint_every`` updates (default: a tenth of the run), and running the job again
skips it when it is finished, resumes it from its checkpoint when it was interrupted (a
folder with no checkpoint yet starts over), so the numbers equal those of an uninterrupted
job (same device and threads, CPU). ``running.json`` says which process on which host is
working on it (for people, and for tests that stop a worker on purpose).

Evaluation, a choice where the paper is silent: every population, alpha = 0 included, is
evaluated in its run's own game at the curricula's end (``game.p_signal`` signals, 1.0 by
default), so that accuracy along the conformity axis compares like with like. At alpha = 0
training anneals the signal away, so those populations meet signals they stopped seeing,
and their belief heads are usually uninformative; the belief-quality columns
(``belief_accuracy_final``, ``belief_brier_final`` against ``signal_accuracy`` and
``signal_brier``) say so, and the claims count lying only where beliefs are informative.
``evaluate.game`` changes the evaluation game (e.g. ``{p_signal: 0}``).
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ..analysis.evaluation import evaluate
from ..analysis.metrics import summarise
from ..common.config_io import load_json, save_json
from ..common.files import atomic_write_bytes, atomic_write_text, remove_stale_temp_files
from ..learning.config import TrainConfig
from ..learning.runs import clear_run
from ..learning.trainer import Trainer
from .networks import graph_digest, load_sweep_network, network_kind
from .spec import NetworkSpec

__all__ = ["run_job", "job_finished", "TABLE_COLUMNS", "JOB_FILES"]

#: the tidy table's fixed columns (swept settings follow ``kind``)
TABLE_COLUMNS = ["network", "kind", "alpha", "seed", "metric", "value", "ci_low", "ci_high",
                 "n", "job", "run_dir"]
#: what a finished job folder holds (``done.json`` is written last)
JOB_FILES = ("job.json", "run/", "metrics.csv", "attention.npy", "done.json")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def job_finished(folder: str | os.PathLike, job_id: str) -> dict[str, Any] | None:
    """``done.json`` of a finished job with this id whose files are intact, else None.

    Examples
    --------
    >>> import tempfile
    >>> job_finished(tempfile.mkdtemp(), "abc") is None
    True
    """
    folder = Path(folder)
    done = folder / "done.json"
    if not done.is_file():
        return None
    try:
        info = load_json(done)
    except ValueError:
        return None
    if not isinstance(info, dict) or info.get("id") != job_id:
        return None
    files = info.get("files")
    if not isinstance(files, dict) or set(files) != {"metrics.csv", "attention.npy"}:
        return None
    for name, digest in files.items():
        f = folder / name
        if not f.is_file() or _sha256(f) != digest:
            return None
    return info


def _trainer(job: dict[str, Any], net, run_dir: Path) -> Trainer:
    """A new trainer for the job, or the interrupted one resumed from its checkpoint."""
    device = job["device"]
    if (run_dir / "checkpoint.pt").is_file():
        trainer = Trainer.from_checkpoint(run_dir, progress=False, device=device)
        if graph_digest(trainer.graph) != graph_digest(net.graph.remove_self_loops()):
            raise ValueError(f"{run_dir}: the checkpoint was trained on another graph than "
                             "this job's; delete the job folder to train it again")
        return trainer
    if run_dir.exists():
        clear_run(run_dir)  # started, but no checkpoint yet: start over
    settings = dict(job["settings"])
    alphas = sorted({a for a, _ in job["populations"]})
    seeds = sorted({s for _, s in job["populations"]})
    if len(alphas) * len(seeds) != len(job["populations"]):
        raise ValueError(f"job {job['folder']}: its populations are not an alphas x seeds "
                         "block (a trainer trains every alpha with every seed); plan jobs "
                         "with SweepSpec.plan")
    num_updates = TrainConfig(**settings).num_updates
    settings.setdefault("checkpoint_every", max(1, num_updates // 10))
    return Trainer(net.graph, out_dir=run_dir, camp=net.camp, progress=False,
                   alphas=alphas, seeds=seeds, device=device, **settings)



def run_job(job: dict[str, Any], sweep_dir: str | os.PathLike) -> dict[str, Any]:
    """Run one sweep job to the end (or skip it when finished); returns what it did.

    Parameters
    ----------
    job : dict
        :meth:`Job.to_dict() <socialmarl.sweeps.spec.Job.to_dict>`.
    sweep_dir : path
        The sweep's results folder (the job writes ``jobs/<folder>/`` in it).

    Returns
    -------
    dict
        ``id``, ``folder``, ``status`` (``"finished"``, ``"skipped"`` when it was already
        done, ``"resumed"`` when it continued from a checkpoint), ``populations``,
        ``seconds``, ``host`` and ``pid``.
    """
    start = time.perf_counter()
    folder = Path(sweep_dir) / "jobs" / job["folder"]
    done = job_finished(folder, job["id"])
    base = {"id": job["id"], "folder": job["folder"], "populations": len(job["populations"]),
            "host": socket.gethostname(), "pid": os.getpid()}
    if done is not None:
        return {**base, "status": "skipped", "seconds": 0.0}
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(folder, recursive=True)
    save_json(folder / "job.json", job)
    save_json(folder / "running.json", {"pid": os.getpid(), "host": socket.gethostname(),
                                        "started": time.time()})
    threads = torch.get_num_threads()
    torch.set_num_threads(int(job["cpus"]))
    try:
        return _run(job, folder, base, start)
    finally:
        torch.set_num_threads(threads)


def _run(job: dict[str, Any], folder: Path, base: dict[str, Any],
         start: float) -> dict[str, Any]:
    spec = NetworkSpec(**job["network"])
    net = load_sweep_network(spec)
    run_dir = folder / "run"
    resumed = (run_dir / "checkpoint.pt").is_file()
    trainer = _trainer(job, net, run_dir)
    trainer.train()
    ev = job["evaluate"]
    cfg = trainer.config
    rows, attention = [], []
    kind = network_kind(net)
    for (alpha, seed), policy in zip(trainer.populations, trainer.policies):
        rec = evaluate(policy, net.graph, alpha=alpha, episodes=ev["episodes"], camp=net.camp,
                       game_config=cfg.game, device=job["device"], seed=ev["seed"],
                       **ev.get("game", {}))
        table = summarise(rec.outputs, rec.truth, net.graph, beliefs=rec.beliefs,
                          flips=rec.flips, edge_active=rec.edge_active, signals=rec.signals,
                          sigma=float(rec.config["game"]["sigma"]), n_boot=ev["n_boot"],
                          seed=ev["seed"])
        table = table.drop(columns=["n_seeds"])
        table.insert(0, "seed", int(seed))
        table.insert(0, "alpha", float(alpha))
        rows.append(table)
        attention.append(rec.attention)
    out = pd.concat(rows, ignore_index=True)
    out.insert(0, "kind", kind)
    out.insert(0, "network", spec.label)
    for k, v in job["swept"].items():
        out.insert(2, k, v)
    out["job"] = job["id"]
    out["run_dir"] = f"jobs/{job['folder']}/run"
    atomic_write_text(folder / "metrics.csv", out.to_csv(index=False))
    buf = io.BytesIO()
    np.save(buf, np.stack(attention).astype(np.float64), allow_pickle=False)
    atomic_write_bytes(folder / "attention.npy", buf.getvalue())
    seconds = time.perf_counter() - start
    save_json(folder / "done.json", {
        "id": job["id"], "base": job["base"],
        "populations": [list(p) for p in trainer.populations],
        "graph": graph_digest(net.graph), "seconds": seconds,
        "files": {name: _sha256(folder / name) for name in ("metrics.csv", "attention.npy")},
        "host": socket.gethostname(), "finished": time.time(),
    })
    (folder / "running.json").unlink(missing_ok=True)
    return {**base, "status": "resumed" if resumed else "finished", "seconds": seconds}
