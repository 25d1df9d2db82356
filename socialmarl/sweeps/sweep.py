"""Run a sweep: plan its jobs, run the unfinished ones, and gather one tidy table.

:func:`sweep` reads a grid (a :class:`~socialmarl.sweeps.spec.SweepSpec`, a dict, or a
YAML / JSON file), plans its jobs, skips the finished ones, runs the rest in this process
or as Ray tasks (:mod:`socialmarl.sweeps.engines`), fits learned attention against human
weights where a network has them, and writes into its results folder:

* ``sweep.json`` -- the grid, with every default filled in (the config of everything);
* ``results.parquet`` and ``results.csv`` -- the tidy table: one row per (network,
  alpha, seed, metric), columns :data:`~socialmarl.sweeps.job.TABLE_COLUMNS` plus one per
  swept setting (after ``kind``); the Parquet file carries the grid in its metadata
  (``socialmarl.sweep``), so it says what made it wherever it is sent;
* ``attention_fit.csv`` -- every attention fit (network, models, baselines, p-values);
* ``jobs/<label>-<id>/`` -- each job's run folder and results (:mod:`.job`).

Running the same sweep again skips what is finished and resumes what was interrupted; the
table is rebuilt from the job folders, so it equals that of an uninterrupted sweep. When
the grid changed since the last run in that folder, :attr:`SweepResult.changes` (and a
warning) says which cells are new and which finished jobs no longer belong to the grid;
those stay on disk, untouched, and are left out of the table.

Rows added from the attention fit (networks with human weights): ``attention_spearman``
(per population: the mean per-agent Spearman correlation of its learned attention with
the human weights) and the baselines ``attention_spearman_uniform`` and
``attention_spearman_popularity`` (the same in every population of the network), each with
its agent-bootstrap interval.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.importance import AttentionFit
from ..common.config_io import load_json, save_json
from ..common.files import atomic_write_bytes, atomic_write_text, check_writable_dir
from .engines import engine_device, resolve_engine, run_in_process, run_on_ray
from .job import TABLE_COLUMNS, job_finished
from .networks import has_human_weights, network_kind
from .spec import Job, SweepSpec, load_sweep_spec, population_blocks

__all__ = ["sweep", "SweepResult", "SweepError", "grid_changes", "read_results"]


#: columns read from CSV as text (a job id of digits only would otherwise be a number)
_TEXT_COLUMNS = {"network": str, "kind": str, "metric": str, "job": str, "run_dir": str}


class SweepError(RuntimeError):
    """Some jobs of a sweep failed; the others finished and their table was written."""


@dataclass
class SweepResult:
    """What :func:`sweep` did and found.

    Attributes
    ----------
    table : pandas.DataFrame
        The tidy table (``results.parquet``).
    fits : dict
        ``network label -> AttentionFit`` for networks with human weights (one per network
        and setting values; the key then carries them, ``"label [sigma=0.5]"``).
    jobs : list of dict
        Per job run this time: ``id``, ``folder``, ``status`` (``finished``, ``resumed``,
        ``skipped`` when another process finished it meanwhile, or ``failed``),
        ``populations``, ``seconds`` and, for a failed job, ``error``.
    reused : int
        Planned jobs not run because every one of their populations was already finished.
    changes : dict
        ``new_cells``, ``dropped_cells`` and ``stale_jobs`` against the grid of the last
        run in this folder (:func:`grid_changes`).
    out_dir : Path
    engine : str
    seconds : float
    """

    table: pd.DataFrame
    fits: dict[str, AttentionFit]
    jobs: list[dict[str, Any]]
    changes: dict[str, list[Any]] = field(default_factory=dict)
    reused: int = 0
    out_dir: Path = Path(".")
    engine: str = "local"
    seconds: float = 0.0

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The jobs that failed, with their errors."""
        return [j for j in self.jobs if j["status"] == "failed"]


def _as_spec(spec: SweepSpec | dict | str | os.PathLike) -> SweepSpec:
    if isinstance(spec, SweepSpec):
        return spec
    if isinstance(spec, dict):
        return SweepSpec.from_dict(spec)
    if isinstance(spec, (str, os.PathLike)):
        return load_sweep_spec(spec)
    raise ValueError(f"spec must be a SweepSpec, a dict or a grid file path, got "
                     f"{type(spec).__name__}")


def _finished_jobs(jobs_dir: Path) -> dict[str, dict[str, Any]]:
    """``folder name -> done.json`` of every intact finished job under ``jobs_dir``."""
    found = {}
    if not jobs_dir.is_dir():
        return found
    for folder in sorted(p for p in jobs_dir.iterdir() if p.is_dir()):
        try:
            info = load_json(folder / "done.json") if (folder / "done.json").is_file() else None
        except ValueError:
            info = None
        if isinstance(info, dict) and "id" in info and job_finished(folder, info["id"]):
            found[folder.name] = info
    return found


def _cell_sources(finished: dict[str, dict[str, Any]]) -> dict[tuple, str]:
    """``(base id, alpha, seed) -> folder`` of every finished population (first folder wins)."""
    sources: dict[tuple, str] = {}
    for name, info in finished.items():
        for alpha, seed in info.get("populations", []):
            sources.setdefault((info.get("base"), float(alpha), int(seed)), name)
    return sources


def _cell_key(cell: dict[str, Any]) -> tuple:
    return tuple(sorted((k, str(v)) for k, v in cell.items()))


def grid_changes(old: dict[str, Any] | None, new: SweepSpec, folders: Any,
                 used: set[str]) -> dict[str, list[Any]]:
    """How grid ``new`` differs from ``old`` (the last ``sweep.json``): ``new_cells`` (cells
    ``old`` did not have), ``dropped_cells`` (cells of ``old`` that ``new`` has not: their
    results stay on disk, out of the table) and ``stale_jobs`` (finished job folders none
    of whose populations ``new`` uses, and interrupted ones it abandoned; ``folders`` are
    the job folders on disk, ``used`` the ones ``new`` uses or runs).

    Examples
    --------
    >>> spec = SweepSpec(["camp_sample"], alphas=[0.0, 1.0], seeds=[0])
    >>> old = SweepSpec(["camp_sample"], alphas=[1.0], seeds=[0]).to_dict()
    >>> grid_changes(old, spec, {}, set())["new_cells"]
    [{'network': 'camp-sample', 'alpha': 0.0, 'seed': 0}]
    """
    fresh: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    if old is not None:
        try:
            old_cells = SweepSpec.from_dict(old, source="sweep.json").cells()
        except (ValueError, TypeError):
            old_cells = []
        old_keys = {_cell_key(c) for c in old_cells}
        new_keys = {_cell_key(c) for c in new.cells()}
        fresh = [c for c in new.cells() if _cell_key(c) not in old_keys]
        dropped = [c for c in old_cells if _cell_key(c) not in new_keys]
    stale = sorted(name for name in folders if name not in used)
    return {"new_cells": fresh, "dropped_cells": dropped, "stale_jobs": stale}


def _describe_changes(out: Path, changes: dict[str, list[Any]], trained: int) -> str:
    """One message saying how the grid changed and what that means for the results."""
    def cells(cs: list[dict[str, Any]]) -> str:
        shown = "; ".join(", ".join(f"{k} {v}" for k, v in c.items()) for c in cs[:4])
        return shown + (f"; ... ({len(cs)} in all)" if len(cs) > 4 else "")

    parts = [f"the grid in {out} changed since its last run"]
    if changes["new_cells"]:
        parts.append(f"{len(changes['new_cells'])} new cells ({cells(changes['new_cells'])}); "
                     f"{trained} populations trained now, the other cells were found "
                     "finished in jobs/")
    if changes["dropped_cells"]:
        parts.append(f"{len(changes['dropped_cells'])} cells of the earlier grid no longer "
                     f"belong to it ({cells(changes['dropped_cells'])}): their results stay in "
                     "jobs/ and are left out of the table")
    if changes["stale_jobs"]:
        parts.append(f"job folders no grid cell uses now: {', '.join(changes['stale_jobs'])}")
    return "; ".join(parts)


def _plan_runs(jobs: list[Job], sources: dict[tuple, str]) -> list[Job]:
    """The jobs still to run: planned jobs less the populations finished anywhere
    (``sources``: ``(base id, alpha, seed) -> folder``)."""
    todo = []
    for job in jobs:
        missing = [p for p in job.populations if (job.base_id, *p) not in sources]
        if not missing:
            continue
        if len(missing) == len(job.populations):
            todo.append(job)
            continue
        # the missing populations as alphas x seeds blocks (what one trainer trains): alphas
        # that miss the same seeds together, in jobs no larger than the planned one
        by_alpha: dict[float, list[int]] = {}
        for a, s_ in missing:
            by_alpha.setdefault(a, []).append(s_)
        groups: dict[tuple[int, ...], list[float]] = {}
        for a, seeds in by_alpha.items():
            groups.setdefault(tuple(seeds), []).append(a)
        for seeds, alphas in groups.items():
            for part in population_blocks(alphas, list(seeds), len(job.populations)):
                todo.append(dataclasses.replace(
                    job, populations=part, alphas=sorted({a for a, _ in part}),
                    seeds=sorted({s_ for _, s_ in part})))
    return todo


def _progress_bar(total: int, jobs: int, enabled: bool):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc="sweep", unit="population")
    bar.set_postfix(jobs=f"0/{jobs}")
    return bar


def _fit_attention(spec: SweepSpec, jobs: list[Job], nets: dict, out: Path,
                   sources: dict[tuple, str]) -> tuple[list[pd.DataFrame],
                                                       dict[str, AttentionFit],
                                                       list[pd.DataFrame]]:
    """Attention rows for the table and the fits, one per network and setting values."""
    ev = spec.evaluation()
    groups: dict[tuple[str, str], list[tuple[Job, float, int, str]]] = {}
    for job in jobs:
        if not has_human_weights(job.network, nets[job.network.label]):
            continue
        for alpha, seed in job.populations:
            folder = sources.get((job.base_id, alpha, seed))
            if folder is not None:
                key = (job.network.label, repr(sorted(job.swept.items())))
                groups.setdefault(key, []).append((job, alpha, seed, folder))
    rows, fits, tables = [], {}, []
    cache: dict[str, tuple[np.ndarray, list, str]] = {}
    for (label, _), cells in groups.items():
        graph = nets[label].graph
        learned = {}
        for _, alpha, seed, folder in cells:
            if folder not in cache:
                f = out / "jobs" / folder
                info = load_json(f / "done.json")
                cache[folder] = (np.load(f / "attention.npy", allow_pickle=False),
                                 [(float(a), int(s)) for a, s in info["populations"]],
                                 info["id"])
            att, pops, _ = cache[folder]
            learned[(alpha, seed)] = att[pops.index((alpha, seed))]
        fit = AttentionFit(n_boot=ev["n_boot"], n_perm=max(20, ev["n_boot"] // 10),
                           seed=ev["seed"])
        fit.fit(graph, learned, graph.edge_weight)
        swept = cells[0][0].swept
        key = label + ("" if not swept else
                       " [" + ", ".join(f"{k}={v}" for k, v in swept.items()) + "]")
        fits[key] = fit
        t = fit.table_[fit.table_.metric == "spearman"]
        kind = network_kind(nets[label])
        base = {m: t[t.model == m] for m in ("uniform", "popularity")}
        for _, alpha, seed, folder in cells:
            mine = t[(t.model == "learned") & (t.alpha == alpha) & (t.seed == seed)]
            job_id = cache[folder][2]
            for metric, r in (("attention_spearman", mine),
                              ("attention_spearman_uniform", base["uniform"]),
                              ("attention_spearman_popularity", base["popularity"])):
                if r.empty:
                    continue
                r = r.iloc[0]
                rows.append(pd.DataFrame([{
                    "network": label, "kind": kind, **swept, "alpha": alpha, "seed": seed,
                    "metric": metric, "value": r.value, "ci_low": r.ci_low,
                    "ci_high": r.ci_high, "n": r.n, "job": job_id,
                    "run_dir": f"jobs/{folder}/run"}]))
        tables.append(fit.table_.assign(network=key))
    return rows, fits, tables


def _parquet_bytes(table: pd.DataFrame, grid: dict[str, Any]) -> bytes:
    """The table as Parquet, the grid that made it in the file's metadata
    (``socialmarl.sweep``: the JSON of ``sweep.json``)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    t = pa.Table.from_pandas(table, preserve_index=False)
    meta = dict(t.schema.metadata or {})
    meta[b"socialmarl.sweep"] = json.dumps(grid, sort_keys=True).encode()
    buf = io.BytesIO()
    pq.write_table(t.replace_schema_metadata(meta), buf)
    return buf.getvalue()


def read_results(out_dir: str | os.PathLike) -> pd.DataFrame:
    """The tidy table of a finished sweep (``results.parquet``, else ``results.csv``).

    Examples
    --------
    >>> import tempfile
    >>> read_results(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FileNotFoundError: ...holds no sweep results...
    """
    out = Path(out_dir)
    if (out / "results.parquet").is_file():
        return pd.read_parquet(out / "results.parquet")
    if (out / "results.csv").is_file():
        return pd.read_csv(out / "results.csv", dtype=_TEXT_COLUMNS)
    raise FileNotFoundError(f"{out} holds no sweep results (results.parquet / results.csv); "
                            "run the sweep into it first")


def sweep(
    spec: SweepSpec | dict | str | os.PathLike,
    out_dir: str | os.PathLike = "results/sweep",
    *,
    engine: str = "auto",
    address: str | None = None,
    device: str | None = None,
    max_retries: int = 3,
    progress: bool = True,
    raise_on_failure: bool = False,
) -> SweepResult:
    """Run a sweep over networks x alphas x seeds x settings and tabulate it.

    Parameters
    ----------
    spec : SweepSpec, dict or path
        The grid (see :mod:`socialmarl.sweeps.spec` for the file format).
    out_dir : path
        Results folder; a sweep run again into the same folder skips finished jobs and
        resumes interrupted ones.
    engine : {"auto", "local", "ray"}
        ``local`` runs jobs here one after another; ``ray`` as Ray tasks; ``auto`` uses Ray
        when it is installed.
    address : str, optional
        A Ray cluster to join (default: ``RAY_ADDRESS``, else a local Ray instance).
    device : str, optional
        ``cpu`` or ``cuda`` (default: the grid's ``device``); on ``cuda`` each Ray task asks
        for one GPU.
    max_retries : int
        Ray retries of a job whose worker died.
    progress : bool
        A progress bar over populations (and jobs).
    raise_on_failure : bool
        Raise :class:`SweepError` after the table is written when a job failed (the
        command line does); otherwise the failures are in :attr:`SweepResult.failed` and a
        warning.

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> import tempfile
    >>> grid = {"networks": [{"network": "camp_sample", "nodes": 8}], "alphas": [0.0, 1.0],
    ...         "seeds": [0], "train": {"num_updates": 1, "envs_per_alpha": 2,
    ...         "num_minibatches": 1, "episode_length": 4},
    ...         "evaluate": {"episodes": 4, "n_boot": 20}}
    >>> res = sweep(grid, tempfile.mkdtemp(), engine="local", progress=False)
    >>> sorted(res.table.alpha.unique().tolist()), res.jobs[0]["status"]
    ([0.0, 1.0], 'finished')
    """
    start = time.perf_counter()
    spec = copy.deepcopy(_as_spec(spec))
    if device is not None:
        spec.device = str(device)
    engine = resolve_engine(engine, address)
    spec.device = engine_device(spec.device, engine)
    out = check_writable_dir(out_dir, "sweep results folder").resolve()
    foreign = [f for f in ("results.parquet", "results.csv", "summary.txt")
               if (out / f).exists()]
    if foreign and not (out / "sweep.json").is_file():
        raise FileExistsError(
            f"{out} holds {', '.join(foreign)} but no sweep.json: it is not a sweep's folder, "
            "and a sweep would replace those files; choose another folder (--out)")
    nets = spec.load_networks()
    jobs = spec.plan(nets)
    old = None
    if (out / "sweep.json").is_file():
        try:
            old = load_json(out / "sweep.json")
        except ValueError:
            old = None
    finished = _finished_jobs(out / "jobs")
    sources = _cell_sources(finished)
    todo = _plan_runs(jobs, sources)
    save_json(out / "sweep.json", spec.to_dict())

    status: dict[str, dict[str, Any]] = {}
    total = sum(len(j.populations) for j in jobs)
    bar = _progress_bar(total, len(todo), progress)
    if bar is not None:
        bar.update(total - sum(len(j.populations) for j in todo))

    def on_done(job: dict[str, Any], result: dict[str, Any] | None,
                error: BaseException | None) -> None:
        if error is not None:
            msg = f"{type(error).__name__}: {error}".strip()
            status[job["id"]] = {"id": job["id"], "folder": job["folder"], "status": "failed",
                                 "populations": len(job["populations"]), "seconds": 0.0,
                                 "error": msg}
            folder = out / "jobs" / job["folder"]
            if folder.is_dir():
                import traceback

                trace = "".join(traceback.format_exception(error))
                atomic_write_text(folder / "error.txt", trace)
        else:
            status[job["id"]] = result
            (out / "jobs" / job["folder"] / "error.txt").unlink(missing_ok=True)
            for alpha, seed in job["populations"]:
                sources.setdefault((job["base"], float(alpha), int(seed)), job["folder"])
        if bar is not None:
            bar.update(len(job["populations"]))
            bar.set_postfix(jobs=f"{len(status)}/{len(todo)}")

    try:
        if engine == "ray" and todo:
            gpus = 1.0 if spec.device.startswith("cuda") else 0.0
            run_on_ray([j.to_dict() for j in todo], str(out), on_done, address=address,
                       max_retries=max_retries, gpus=gpus)
        else:
            run_in_process([j.to_dict() for j in todo], str(out), on_done)
    finally:
        if bar is not None:
            bar.close()

    # every cell of the grid from the folder that holds it
    used: dict[str, list[tuple[Job, float, int]]] = {}
    for job in jobs:
        for alpha, seed in job.populations:
            folder = sources.get((job.base_id, alpha, seed))
            if folder is not None:
                used.setdefault(folder, []).append((job, alpha, seed))
    folders = [p.name for p in (out / "jobs").iterdir() if p.is_dir()] if (
        out / "jobs").is_dir() else []
    changes = grid_changes(old, spec, folders, set(used) | {j.folder_name for j in todo})
    if changes["new_cells"] or changes["dropped_cells"] or changes["stale_jobs"]:
        trained = sum(len(j.populations) for j in todo
                      if status.get(j.id, {}).get("status") != "failed")
        warnings.warn(_describe_changes(out, changes, trained), stacklevel=2)
    frames = []
    swept_cols = list(spec.grid)
    for folder, cells in used.items():
        m = pd.read_csv(out / "jobs" / folder / "metrics.csv", dtype=_TEXT_COLUMNS)
        # the cells' names and setting values come from this grid, not from the file (a
        # network renamed, or a setting now swept, keeps its finished numbers)
        wanted = pd.DataFrame([{"alpha": a, "seed": s_, "network": job.network.label,
                                "kind": network_kind(nets[job.network.label]),
                                **{k: job.swept.get(k) for k in swept_cols}}
                               for job, a, s_ in cells])
        m = m.drop(columns=[c for c in ("network", "kind", *swept_cols) if c in m.columns])
        frames.append(m.merge(wanted, on=["alpha", "seed"], how="inner"))
    att_rows, fits, fit_tables = _fit_attention(spec, jobs, nets, out, sources)
    cols = TABLE_COLUMNS[:2] + swept_cols + TABLE_COLUMNS[2:]
    table = (pd.concat(frames + att_rows, ignore_index=True)[cols] if frames
             else pd.DataFrame(columns=cols))
    table = table.sort_values(["network", *swept_cols, "metric", "alpha", "seed"],
                              kind="stable").reset_index(drop=True)
    atomic_write_bytes(out / "results.parquet", _parquet_bytes(table, spec.to_dict()))
    atomic_write_text(out / "results.csv", table.to_csv(index=False))
    if fit_tables:
        atomic_write_text(out / "attention_fit.csv",
                          pd.concat(fit_tables, ignore_index=True).to_csv(index=False))
    else:  # an earlier grid's fit does not describe this one
        (out / "attention_fit.csv").unlink(missing_ok=True)
    job_rows = [status[j.id] for j in todo]
    skipped = len(jobs) - len(todo)
    result = SweepResult(table=table, fits=fits, jobs=job_rows, reused=skipped,
                         changes=changes, out_dir=out, engine=engine,
                         seconds=time.perf_counter() - start)
    if result.failed:
        lines = "; ".join(f"{j['folder']}: {j['error']}" for j in result.failed)
        text = (f"{len(result.failed)} of {len(todo)} jobs failed ({lines}); the table holds "
                "the others. Fix the cause and run the sweep again: finished jobs are skipped")
        if raise_on_failure:
            raise SweepError(text)
        warnings.warn(text, stacklevel=2)
    return result
