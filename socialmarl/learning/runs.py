"""Run folders: the one place that writes and reads what a training run leaves behind.

A run folder holds

* ``config.json`` -- the run's :class:`~socialmarl.learning.config.TrainConfig` (nested
  game and policy configs), the game as it was built, the graph's summary and the camp
  process's rate, written when training starts;
* ``log.csv`` -- a row per update and population, appended as each update finishes;
* ``checkpoint.pt`` -- everything needed to continue exactly (parameters, optimiser and
  game state, random generators, the log) plus the graph and the camp process, as plain
  tensors and strings loaded with ``torch.load(..., weights_only=True)`` and checked
  against their SHA-256 digest (:mod:`socialmarl.learning.checkpoint`);
* ``eval/`` -- written by evaluation, not by training.

The trainer writes through these functions; evaluation, the command line and the
reproduction read runs with :func:`load_run`, which needs no trainer. Checkpoints of
earlier versions (a flat config, the camp's ``q`` beside the config's
``interaction_rate``) are converted on reading.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..common.checks import as_device
from ..common.config_io import save_json
from ..common.files import append_text, atomic_write_text
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from .checkpoint import CheckpointError, load_checkpoint
from .config import TrainConfig, upgrade_train_config
from .policy import AttentionPolicy

__all__ = [
    "RUN_FILES", "CHECKPOINT_KEYS", "RunExistsError", "Run", "load_run", "read_checkpoint",
    "checkpoint_file", "restore_policies", "refuse_existing_run", "clear_run",
    "write_run_config", "append_log", "rewrite_log",
]

#: The files a training run writes into its folder (``eval/`` is written by evaluation).
RUN_FILES = ("config.json", "log.csv", "checkpoint.pt")
#: Entries every checkpoint holds (``camp``, or ``q`` in old files, may be absent; the
#: optimiser's state, needed only to resume, is ``optimizer``, ``optimizers`` in old files).
CHECKPOINT_KEYS = ("config", "graph", "update", "policies", "game", "sample_gen", "perm_gen",
                   "log")


class RunExistsError(FileExistsError):
    """The run folder already holds a training run, and replacing it was not asked for."""


def existing_run_files(folder: Path) -> list[str]:
    """The run files (and ``eval/``) present in ``folder``."""
    found = [f for f in RUN_FILES if (folder / f).exists()]
    return found + (["eval/"] if (folder / "eval").is_dir() else [])


def refuse_existing_run(folder: str | os.PathLike) -> None:
    """Raise :class:`RunExistsError` if ``folder`` already holds a run, saying what to do.

    Examples
    --------
    >>> import tempfile
    >>> refuse_existing_run(tempfile.mkdtemp())  # an empty folder is fine
    """
    folder = Path(folder)
    found = existing_run_files(folder)
    if found:
        resume = ("continue it with Trainer.from_checkpoint(folder) or `socialmarl train "
                  "--resume --out <folder>`, " if (folder / "checkpoint.pt").exists() else "")
        raise RunExistsError(
            f"{folder} already holds a training run ({', '.join(found)}); {resume}choose "
            "another folder, or replace it with overwrite=True (`--overwrite`)"
        )


def clear_run(folder: str | os.PathLike) -> None:
    """Delete a run's files and ``eval/`` from ``folder`` (other files stay)."""
    folder = Path(folder)
    for name in RUN_FILES:
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / "eval", ignore_errors=True)


def write_run_config(folder: str | os.PathLike, info: dict[str, Any]) -> Path:
    """Write ``config.json`` atomically."""
    return save_json(Path(folder) / "config.json", info)


def _log_csv(rows: Sequence[dict[str, Any]], header: Sequence[str], with_header: bool) -> str:
    """Log rows as CSV text in ``header``'s column order (the one format of ``log.csv``)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(header), extrasaction="ignore",
                            lineterminator="\n")
    if with_header:
        writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def append_log(folder: str | os.PathLike, rows: Sequence[dict[str, Any]],
               header: Sequence[str], *, with_header: bool) -> None:
    """Append rows to ``log.csv`` (flushed and synced: a killed run keeps its rows)."""
    append_text(Path(folder) / "log.csv", _log_csv(rows, header, with_header))


def rewrite_log(folder: str | os.PathLike, rows: Sequence[dict[str, Any]]) -> None:
    """Replace ``log.csv`` by exactly ``rows`` (a resumed run: the checkpoint's rows)."""
    text = _log_csv(rows, list(rows[0]), True) if rows else ""
    atomic_write_text(Path(folder) / "log.csv", text)


def checkpoint_file(path: str | os.PathLike) -> Path:
    """The checkpoint of a run folder or a checkpoint path; a missing one says what to do."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.exists():
        hint = ("the run stopped before its first checkpoint: start it again with "
                "overwrite=True (`--overwrite`)"
                if (path.parent / "config.json").exists() else "train with out_dir first")
        raise FileNotFoundError(f"{path}: no checkpoint here; {hint}")
    return path


def read_checkpoint(
    path: str | os.PathLike,
) -> tuple[dict[str, Any], TrainConfig, Graph, CampProcess | None]:
    """Load and check a run's checkpoint: ``(state, config, graph, camp)``.

    ``state`` is the raw checkpoint dict (verified checksum). Earlier versions' files are
    converted: a flat config becomes the nested one and their ``q`` with the config's
    ``interaction_rate`` becomes the :class:`CampProcess`.
    """
    path = checkpoint_file(path)
    sd = load_checkpoint(path, required=CHECKPOINT_KEYS)
    try:
        raw = json.loads(sd["config"])
        rate = raw.get("interaction_rate") if isinstance(raw, dict) else None
        cfg = TrainConfig.from_dict(upgrade_train_config(raw))
        graph = Graph.from_dict(sd["graph"])
        if sd.get("camp") is not None:
            camp = CampProcess.from_dict(sd["camp"])
        elif sd.get("q") is not None:
            camp = CampProcess(sd["q"], rate)
        else:
            camp = None
    except (TypeError, KeyError, json.JSONDecodeError, ValueError) as exc:
        raise CheckpointError(
            f"{path}: its config, graph or camp process is unusable ({exc})"
        ) from exc
    return sd, cfg, graph, camp


def restore_policies(policies: Sequence[torch.nn.Module], states: Any,
                     populations: Sequence[tuple[float, int]], source: Any) -> None:
    """Load one saved state per population ``(alpha, seed)`` into ``policies``, checked.

    Refuses (:class:`CheckpointError`, naming ``source``) a wrong number of states, NaN or
    infinite weights (the run diverged, or the file was altered) and states whose
    parameters do not fit the policy.
    """
    if not isinstance(states, (list, tuple)) or len(states) != len(policies):
        got = len(states) if isinstance(states, (list, tuple)) else type(states).__name__
        raise CheckpointError(
            f"{source}: holds {got} policies for {len(policies)} populations (alpha, seed) "
            f"{list(populations)}; the file is incomplete or belongs to another run"
        )
    for (alpha, seed), pol, state in zip(populations, policies, states):
        bad = [k for k, v in state.items()
               if v.is_floating_point() and not bool(torch.isfinite(v).all())]
        if bad:
            raise CheckpointError(
                f"{source}: the population alpha={alpha:g}, seed {seed} has NaN or infinite "
                f"weights ({', '.join(bad)}); the run diverged before this checkpoint or the file "
                "was altered, so its numbers would mean nothing; train it again (lower lr)"
            )
        try:
            pol.load_state_dict(state)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0]
            raise CheckpointError(
                f"{source}: does not fit this run (population alpha={alpha:g}, seed {seed}: "
                f"{first}); "
                "the file is damaged or was written by an incompatible socialmarl version"
            ) from exc


@dataclass
class Run:
    """A trained run read back from its folder: what evaluation and applications need.

    Attributes
    ----------
    config : TrainConfig
    graph : Graph
    camp : CampProcess or None
    policies : list of AttentionPolicy
        One per population, in ``populations`` order, in eval mode on the requested device.
    update : int
        Updates trained when the checkpoint was written.
    checksum : str or None
        The checkpoint's SHA-256 digest (None for files of format 1).
    path : Path
        The checkpoint file.
    log : list of dict
        The per-update log rows up to the checkpoint.
    populations : list of (alpha, seed)
        ``config.populations``: what each policy is.
    """

    config: TrainConfig
    graph: Graph
    camp: CampProcess | None
    policies: list[AttentionPolicy]
    update: int
    checksum: str | None
    path: Path
    log: list[dict[str, Any]] = field(default_factory=list)

    @property
    def populations(self) -> list[tuple[float, int]]:
        """``(alpha, seed)`` of each policy."""
        return self.config.populations


def load_run(path: str | os.PathLike, device: str | torch.device = "cpu") -> Run:
    """Read a run folder (or checkpoint file) into a :class:`Run`, without a trainer.

    Examples
    --------
    >>> import socialmarl as sm, tempfile
    >>> d = tempfile.mkdtemp()
    >>> _ = sm.train(sm.ring_graph(6), num_updates=1, envs_per_alpha=2, num_minibatches=1,
    ...              episode_length=4, progress=False, out_dir=d)
    >>> run = load_run(d)
    >>> run.update, len(run.policies), run.graph.num_nodes, run.config.game.episode_length
    (1, 1, 6, 4)
    """
    dev = as_device(device)
    sd, cfg, graph, camp = read_checkpoint(path)
    source = checkpoint_file(path)
    policies = [AttentionPolicy(graph.num_nodes, cfg.policy) for _ in cfg.populations]
    restore_policies(policies, sd["policies"], cfg.populations, source)
    policies = [p.to(dev).eval() for p in policies]
    return Run(config=cfg, graph=graph, camp=camp, policies=policies,
               update=int(sd["update"]), checksum=sd.get("checksum"), path=source,
               log=json.loads(sd["log"]))
