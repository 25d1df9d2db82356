"""The main job: the paper's claims re-made on data that ships, as a sweep with seeds.

:func:`reproduce` turns a preset into a sweep (:mod:`socialmarl.sweeps`): a social network
(the bundled Bluesky-like sample, a breadth-first piece of it for ``quick``), Congress
Twitter when its data is present (``paper``), and a dynamic hunter-gatherer camp (the
bundled camp sample), crossed with a grid of truth weights ``alpha`` and several training
seeds per alpha. It runs the sweep (in this process, or on Ray), then draws the paper's
figures from the sweep's tidy table and writes ``summary.txt``, each of the paper's claims
with a verdict computed from seed-level intervals (:mod:`socialmarl.analysis.claims`).

The results folder:

* ``accuracy_conformity``, ``lying_conformity``, ``social_vs_camp``,
  ``attention_conformity`` (``.png`` and ``.svg``): one figure per claim;
* ``summary.txt``: the claims and verdicts with their numbers, and a table of seed means;
* ``results.parquet`` / ``results.csv``: the tidy table (network, alpha, seed, metric);
* ``attention_fit.csv``: the attention fit (models, baselines, p-values);
* ``config.json``: the preset, the device and the engine; ``sweep.json``: the sweep's grid;
* ``jobs/``: each job's training run and results.

Running ``reproduce`` again into the same folder with the same preset continues it:
finished jobs are skipped, interrupted ones resume from their checkpoints, and the figures
and summary are drawn again from the whole table. A folder holding another preset's
reproduction is refused unless ``overwrite=True`` (which deletes it first).

Presets (choices where the paper is silent):

* ``smoke`` -- seconds, for tests;
* ``quick`` -- 7 alphas (0, 0.05, 0.1, 0.2, 0.3, 0.5, 1; the effects live below 0.3) x 3
  seeds on a 100-account piece of the Bluesky-like sample and on the camp sample, under
  10 minutes on a 2-core CPU including the install;
* ``paper`` -- the paper's scale: the 11-alpha grid x 5 seeds, the whole 1000-account
  Bluesky-like sample, Congress Twitter (475 members) when present, the camp sample;
  1000 updates of 32 environments per population. It is for a GPU or a Ray cluster:
  docs and README give the measured CPU rate and the time it implies.

The wait action is off in every preset: with it, pure conformists learn to wait forever
(a disagreement costs twice what an agreement earns) and the lying and accuracy curves
then measure silence.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..common.config_io import load_json, save_json
from ..common.files import check_writable_dir, remove_stale_temp_files
from ..learning.config import TrainConfig
from ..networks.pieces import bfs_subgraph
from ..networks.resolve import real_data_folder
from ..sweeps.engines import engine_device, resolve_engine
from ..sweeps.spec import SweepSpec, network_label
from ..sweeps.sweep import sweep
from .report import FIGURE_FILES, write_report

__all__ = ["ReproducePreset", "PRESETS", "reproduce", "preset_sweep", "preset_agent_steps",
           "bfs_subgraph", "OUTPUT_FILES"]

#: What :func:`reproduce` writes into its folder (figures only where their data exists).
OUTPUT_FILES = (*FIGURE_FILES, "summary.txt", "results.parquet", "results.csv",
                "attention_fit.csv", "config.json", "sweep.json", "jobs/")


@dataclass
class ReproducePreset:
    """Sizes of one reproduction (saved in ``config.json``)."""

    name: str
    """Preset name."""
    alphas: list[float] = field(
        default_factory=lambda: [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0])
    """Truth weights; the paper's effects live below 0.3, so most points are there."""
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    """Training seeds per alpha: every interval and verdict is over seeds."""
    social_nodes: int = 100
    """Accounts of the Bluesky-like sample to train on (1000 = all of it)."""
    social_updates: int = 40
    """PPO updates on the social networks."""
    camp_updates: int = 40
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
    """Bootstrap replicates for intervals."""
    allow_wait: bool = False
    """Whether agents may wait (see the module docstring)."""
    congress: bool = False
    """Add Congress Twitter when its data is present (``sm.real_data_dir()``)."""
    max_populations: int | None = None
    """Populations per job (None: as many as fit a worker's memory, see the sweep)."""


PRESETS: dict[str, ReproducePreset] = {
    "smoke": ReproducePreset("smoke", alphas=[0.0, 1.0], seeds=[0, 1], social_nodes=40,
                             social_updates=2, camp_updates=2, envs_per_alpha=2,
                             num_minibatches=1, eval_episodes=8, n_boot=50),
    "quick": ReproducePreset("quick"),
    "paper": ReproducePreset("paper", alphas=[i / 10 for i in range(11)],
                             seeds=[0, 1, 2, 3, 4], social_nodes=1000, social_updates=1000,
                             camp_updates=1000, envs_per_alpha=32, lr=5e-4,
                             eval_episodes=512, n_boot=2000, congress=True,
                             max_populations=10),
}


def _preset(preset: str | ReproducePreset) -> ReproducePreset:
    if isinstance(preset, ReproducePreset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    return PRESETS[preset]


def preset_sweep(preset: str | ReproducePreset = "quick", *, social: str | None = None,
                 camp: str | None = None, data_dir: str | None = None,
                 device: str = "cpu") -> SweepSpec:
    """The sweep a preset runs.

    Parameters
    ----------
    preset : {"smoke", "quick", "paper"} or ReproducePreset
    social : str, optional
        The social network instead of the bundled Bluesky-like sample (a name or path for
        :func:`~socialmarl.networks.resolve.load_network`), used whole; its edge weights,
        when present, are the human importance the attention is fitted against.
    camp : str, optional
        A dynamic camp instead of the bundled camp sample (``bayaka``, a folder ...).
    data_dir : str, optional
        Folder of the real data sets.
    device : str

    Examples
    --------
    >>> spec = preset_sweep("quick")
    >>> [n.label for n in spec.networks], len(spec.cells())
    (['bluesky-like', 'camp'], 42)
    """
    p = _preset(preset)
    train = {"num_minibatches": p.num_minibatches, "envs_per_alpha": p.envs_per_alpha,
             "lr": p.lr, "allow_wait": p.allow_wait}
    networks: list[dict[str, Any]] = []
    if social is None:
        networks.append({"network": "bluesky_sample", "label": "bluesky-like",
                         "nodes": None if p.social_nodes >= 1000 else p.social_nodes,
                         "train": {"num_updates": p.social_updates}})
    else:
        networks.append({"network": str(social), "data_dir": data_dir,
                         "train": {"num_updates": p.social_updates}})
    if p.congress and social is None and _congress_present(data_dir):
        networks.append({"network": "congress_twitter", "label": "congress-twitter",
                         "data_dir": data_dir, "train": {"num_updates": p.social_updates}})
    networks.append({"network": "camp_sample" if camp is None else str(camp),
                     "label": "camp" if camp is None else "", "data_dir": data_dir,
                     "train": {"num_updates": p.camp_updates}})
    labels: list[str] = []
    for n in networks:  # a user's network named like another gets a suffix
        label = n.get("label") or network_label(str(n["network"]))
        while label in labels:
            label += "-camp" if n is networks[-1] else "-2"
        n["label"] = label
        labels.append(label)
    jobs: dict[str, Any] = {}
    if p.max_populations is not None:
        jobs["max_populations"] = p.max_populations
    spec = SweepSpec.from_dict({
        "name": f"reproduce-{p.name}", "networks": networks, "alphas": list(p.alphas),
        "seeds": list(p.seeds), "train": train, "jobs": jobs, "device": device,
        "evaluate": {"episodes": p.eval_episodes, "n_boot": p.n_boot, "seed": 1000},
    }, source=f"preset {p.name!r}")
    nets = spec.load_networks()
    camp_net = nets[spec.networks[-1].label]
    if not camp_net.dynamic:
        raise ValueError(f"camp={camp} is not a dynamic camp (no interaction rate); give a "
                         "camp network such as camp_sample or bayaka")
    return spec


def preset_agent_steps(preset: str | ReproducePreset = "paper", *,
                       data_dir: str | None = None) -> dict[str, float]:
    """Agent-steps of training a preset does per network (its cost, device-independent).

    Populations x environments x steps per episode x agents x updates; divide by a
    measured training rate (agent-steps per second, e.g. from
    ``benchmarks/bench_populations_train.py`` or ``benchmarks/device_check.sh``) for the
    time it takes.

    Examples
    --------
    >>> steps = preset_agent_steps("quick")
    >>> sorted(steps), f"{steps['bluesky-like']:.3g}"
    (['bluesky-like', 'camp'], '1.34e+07')
    """
    spec = preset_sweep(preset, data_dir=data_dir)
    nets = spec.load_networks()
    out = {}
    for job in spec.plan(nets):
        cfg = TrainConfig(**job.settings)
        n = nets[job.network.label].graph.num_nodes
        out[job.network.label] = out.get(job.network.label, 0.0) + float(
            len(job.populations) * cfg.envs_per_alpha * cfg.episode_length * n
            * cfg.num_updates)
    return out


def _congress_present(data_dir: str | None) -> bool:
    """Whether ``load_network("congress_twitter", data_dir=...)`` would find the data."""
    try:
        real_data_folder("congress_twitter", data_dir)
    except FileNotFoundError:
        return False
    return True


def _prepare_out(out: Path, config: dict[str, Any], overwrite: bool) -> None:
    """Check ``out``; refuse (or, asked, clear) another preset's reproduction in it."""
    check_writable_dir(out, "results folder")
    earlier = [f for f in OUTPUT_FILES if (out / f.rstrip("/")).exists()]
    if not earlier:
        remove_stale_temp_files(out)
        return
    try:
        saved = load_json(out / "config.json") if (out / "config.json").is_file() else None
    except ValueError:
        saved = None
    if not (isinstance(saved, dict) and "preset" in saved):
        raise FileExistsError(
            f"{out} holds {', '.join(earlier[:4])}{', ...' if len(earlier) > 4 else ''} but "
            "is not a reproduction's folder (no config.json with a preset), so nothing in it "
            "is replaced, even with --overwrite; choose another folder (--out)"
        )
    differ = [k for k in ("preset", "sweep") if saved.get(k) != config[k]]
    if differ and not overwrite:
        what = []
        if saved.get("preset", {}).get("name") != config["preset"]["name"]:
            what.append(f"preset {saved.get('preset', {}).get('name')!r}, not "
                        f"{config['preset']['name']!r}")
        if "sweep" in differ:
            was = [n.get("label") for n in saved.get("sweep", {}).get("networks", [])]
            now = [n["label"] for n in config["sweep"]["networks"]]
            what.append(f"networks {was}, now {now}" if was != now else
                        "other sizes, networks or device")
        raise FileExistsError(
            f"{out} holds an earlier reproduction with other settings ({'; '.join(what)}); "
            "choose another folder (--out), or replace it with overwrite=True (--overwrite)"
        )
    if differ:
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
    social: str | None = None,
    camp: str | None = None,
    data_dir: str | None = None,
    engine: str = "auto",
    address: str | None = None,
    max_retries: int = 3,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Run the reproduction sweep and write the figures and the summary.

    Parameters
    ----------
    preset : {"smoke", "quick", "paper"} or ReproducePreset
        Sizes of the run.
    out_dir : path
        Results folder. The same preset into the same folder continues it; another
        preset's results there are refused unless ``overwrite``.
    device : str
        ``cpu`` or ``cuda``.
    progress : bool
        Show a progress bar.
    social, camp, data_dir
        Other networks (names or paths; see :func:`preset_sweep`).
    engine : {"auto", "local", "ray"}
        Where the sweep's jobs run (``auto``: Ray when installed).
    address : str, optional
        A Ray cluster to run on.
    max_retries : int
        Ray retries of a job whose worker died.
    overwrite : bool
        Replace an earlier reproduction with other settings in ``out_dir`` (with the same
        settings it is continued either way). A folder that is not a reproduction's is never
        cleared.

    Returns
    -------
    dict
        ``table`` (the tidy table), ``claims``, ``fits``, ``summary`` (text), ``files``
        (the names written) and ``out_dir``.

    Examples
    --------
    >>> import tempfile
    >>> res = reproduce("smoke", tempfile.mkdtemp(), progress=False, engine="local")
    >>> sorted(res["table"].network.unique())
    ['bluesky-like', 'camp']
    >>> [c.name for c in res["claims"]]
    ['accuracy', 'lying', 'camp', 'attention']
    """
    for name, value in (("social", social), ("camp", camp)):
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise ValueError(f"{name}= takes a network's name or path (what load_network "
                             f"reads), got {type(value).__name__}")
    p = _preset(preset)
    device = engine_device(device, resolve_engine(engine, address))
    start = time.perf_counter()
    spec = preset_sweep(p, social=None if social is None else str(social),
                        camp=None if camp is None else str(camp), data_dir=data_dir,
                        device=device)
    out = Path(out_dir)
    config = {"preset": asdict(p), "sweep": spec.to_dict()}
    _prepare_out(out, config, overwrite)
    save_json(out / "config.json", {**config, "device": device, "engine": engine,
                                    "torch": torch.__version__})
    res = sweep(spec, out, engine=engine, address=address, max_retries=max_retries,
                progress=progress)
    title = (f"socialmarl reproduce, preset {p.name!r}: {len(spec.cells())} populations "
             f"({len(p.alphas)} alphas x {len(p.seeds)} seeds x {len(spec.networks)} "
             f"networks), {time.perf_counter() - start:.0f} s on {device} ({res.engine})")
    report = write_report(res.table, res.fits, out, title=title, n_boot=p.n_boot)
    if res.failed:
        failed = "; ".join(f"{j['folder']}: {j['error']}" for j in res.failed)
        report["summary"] += (f"\n{len(res.failed)} jobs failed ({failed}); run the same "
                              "command again to retry them (finished jobs are skipped)\n")
    written = [f for f in OUTPUT_FILES if (out / f.rstrip("/")).exists()]
    return {"table": res.table, "claims": report["claims"], "fits": res.fits,
            "summary": report["summary"], "files": written, "out_dir": out,
            "failed": res.failed}
