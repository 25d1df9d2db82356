"""What a sweep is: a grid of cells, read from YAML or JSON, grouped into jobs.

A sweep crosses networks x alphas x seeds x any training or game setting. One **cell** is
one population ``(network, setting values, alpha, seed)``: a training run's population,
evaluated and tabulated. Cells that share a network and setting values are grouped into
**jobs**: one batched training run of several populations (all alphas x seeds, alpha-major,
cut into pieces of at most ``max_populations``). A population learns exactly what it would
learn alone (per-population parameters and random streams), so how cells are grouped
changes the speed and memory of a job, never a number in the table.

The grid file (YAML or JSON; every key but ``networks`` optional)::

    name: conformity            # a label, saved with the results
    networks:                   # built-in names, real data sets, paths (load_network)
      - bluesky_sample          # a string: the network whole
      - network: bluesky_sample # or a mapping:
        label: bluesky-200      #   the name in the table (default: from the spec)
        nodes: 200              #   a breadth-first piece around the most-followed agent
        train: {num_updates: 60}  # settings for this network only
      - camp_sample             # a dynamic camp plays its camp process
    alphas: [0, 0.05, 0.1, 0.2, 0.3, 0.5, 1]
    seeds: [0, 1, 2]            # or a count: seeds: 3 -> [0, 1, 2]
    train: {num_updates: 40, envs_per_alpha: 8, allow_wait: false}  # fixed settings
    grid: {sigma: [0.5, 1.0]}   # settings swept: every combination is a cell
    evaluate: {episodes: 64, n_boot: 500, seed: 1000}
    jobs: {max_populations: null, worker_memory_gb: 4.0, cpus: 2}

Settings in ``train`` and ``grid`` are the names :class:`~socialmarl.learning.config.
TrainConfig` takes (its own fields, the game's and the policy's by name, e.g. ``lr``,
``sigma``, ``hidden``); ``alphas``, ``seeds``, ``seed`` and ``device`` are the sweep's and
are refused there. Everything is checked when the grid is read, before any work: an unknown
name, a bad value or a network that cannot be loaded is a ``ValueError`` naming it.

Conventions chosen here:

* **Job identity.** A job's id is a digest of everything that determines its numbers
  (network source and piece, settings, its populations, the evaluation settings), so the
  same job in an edited grid keeps its id and its finished results; a changed one gets a
  new id. Its folder is ``jobs/<label>-<id>/``.
* **Threads.** A job runs torch on ``jobs.cpus`` threads (2 by default), and a Ray task
  asks for as many CPUs. Torch's sums depend on the thread count, so it is part of a
  job's identity: the same grid gives the same numbers in this process and on Ray.
* **Job size.** Without ``max_populations`` a job holds as many populations as fit in
  ``worker_memory_gb`` by :func:`population_memory_bytes`, a deliberately generous
  estimate of training memory (the rollout's stored steps dominate).
* **Human weights.** A network's edge weights are taken as human importance (and the
  learned attention is fitted against them) when it is weighted and not a dynamic camp
  (a camp's weights are its interaction probabilities); ``human_weights: false`` turns
  this off, ``true`` insists on it.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import itertools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..common.checks import as_bool, as_float, as_int
from ..common.reading import existing_file, read_text
from ..game.game import GameConfig
from ..learning.config import TrainConfig
from ..networks.network import Network
from ..networks.resolve import NETWORK_NAMES

__all__ = [
    "population_blocks",
    "network_label",
    "NetworkSpec",
    "SweepSpec",
    "Job",
    "load_sweep_spec",
    "population_memory_bytes",
    "RESERVED_SETTINGS",
]

#: CPU threads per job unless ``jobs.cpus`` says otherwise. Torch's sums depend on its
#: thread count, so the threads are part of a job's identity and the same on every engine.
DEFAULT_CPUS = 2

#: names a grid may not set in ``train`` / ``grid``: the sweep sets them itself
RESERVED_SETTINGS = ("alphas", "seeds", "seed", "device", "alpha", "num_envs")

_SPEC_KEYS = {"name", "networks", "alphas", "seeds", "train", "grid", "evaluate", "jobs",
              "device"}
_NETWORK_KEYS = {"network", "label", "nodes", "train", "human_weights", "data_dir", "seed"}
_EVAL_KEYS = {"episodes", "n_boot", "seed", "game"}
_JOB_KEYS = {"max_populations", "worker_memory_gb", "cpus"}


_FLOAT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
#: game rules an evaluation sets itself (``evaluate.game`` may not change them)
_EVAL_SET = ("num_envs", "alpha", "other_play", "allow_wait", "q", "interaction_rate")


def _numbers(d: dict[str, Any]) -> dict[str, Any]:
    """Settings with number-like strings as numbers: YAML 1.1 reads ``1e-3`` as a string."""
    return {k: float(v) if isinstance(v, str) and _FLOAT.fullmatch(v.strip()) else v
            for k, v in d.items()}


def population_blocks(alphas: list[float], seeds: list[int],
                      size: int) -> list[list[tuple[float, int]]]:
    """Cut ``alphas x seeds`` into jobs of at most ``size`` populations, each itself an
    ``alphas x seeds`` block (what one training run trains): whole alphas with all their
    seeds when ``size`` allows, else one alpha with a part of its seeds.

    Examples
    --------
    >>> [len(b) for b in population_blocks([0.0, 0.5, 1.0], [0, 1, 2], 7)]
    [6, 3]
    >>> population_blocks([0.0], [0, 1, 2], 2)
    [[(0.0, 0), (0.0, 1)], [(0.0, 2)]]
    """
    size = max(1, int(size))
    if size >= len(seeds):
        k = size // len(seeds)
        return [[(float(a), int(s)) for a in alphas[i:i + k] for s in seeds]
                for i in range(0, len(alphas), k)]
    return [[(float(a), int(s)) for s in seeds[i:i + size]]
            for a in alphas for i in range(0, len(seeds), size)]


def network_label(text: str) -> str:
    """A file- and table-friendly label from a network spec or name.

    Examples
    --------
    >>> network_label("bluesky_sample"), network_label("/data/my friends.csv.gz")
    ('bluesky-sample', 'my-friends')
    """
    base = Path(text).name if os.sep in text or text.endswith((".csv", ".gz")) else text
    for suffix in (".gz", ".csv", ".graphml", ".edgelist", ".txt"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    out = "".join(c if c.isalnum() or c in "-_." else "-" for c in base).strip("-")
    return out.replace("_", "-") or "network"


@dataclass
class NetworkSpec:
    """One network of a sweep: what to load, what to call it, and its own settings."""

    network: str
    """What :func:`~socialmarl.networks.resolve.load_network` loads: a built-in name, a
    real data set or a path."""
    label: str = ""
    """Its name in the table and in job folders (default: from ``network``)."""
    nodes: int | None = None
    """Train on a breadth-first piece of this many agents around the most-followed one
    (None: the whole network)."""
    train: dict[str, Any] = field(default_factory=dict)
    """Settings for this network only (over the sweep's ``train``)."""
    human_weights: bool | None = None
    """Fit learned attention against the edge weights (None: when weighted and not a camp)."""
    data_dir: str | None = None
    """Folder of a real data set (see ``load_network``)."""
    seed: int = 0
    """Seed of a generated network (``ba<N>``) or a dump's sample."""

    def __post_init__(self) -> None:
        if not isinstance(self.network, (str, os.PathLike)) or not str(self.network).strip():
            raise ValueError(f"network={self.network!r}: give a network name or a file path")
        self.network = str(self.network)
        self.label = str(self.label) if self.label else network_label(self.network)
        path = Path(self.network).expanduser()
        if (self.network not in NETWORK_NAMES and not re.fullmatch(r"ba\d+", self.network)
                and path.exists()):
            self.network = str(path.resolve())  # the same file for every worker
        if self.data_dir is not None:
            self.data_dir = str(Path(self.data_dir).expanduser().resolve())
        if self.nodes is not None:
            self.nodes = as_int(self.nodes, f"{self.label}: nodes", minimum=2)
        if not isinstance(self.train, dict):
            raise ValueError(f"{self.label}: train must be a mapping of settings, got "
                             f"{type(self.train).__name__}")
        self.train = _numbers(self.train)
        if self.human_weights is not None:
            self.human_weights = as_bool(self.human_weights, f"{self.label}: human_weights")
        self.seed = as_int(self.seed, f"{self.label}: seed", minimum=0)



@dataclass
class Job:
    """One batched training run of a sweep: its populations on one network and settings."""

    network: NetworkSpec
    settings: dict[str, Any]
    """Training settings (the sweep's ``train``, the network's, and this job's grid values)."""
    swept: dict[str, Any]
    """The grid values of this job (a column each in the table)."""
    alphas: list[float]
    seeds: list[int]
    populations: list[tuple[float, int]]
    """The (alpha, seed) pairs this job trains, alpha-major."""
    evaluate: dict[str, Any]
    device: str
    cpus: int
    graph: str = ""
    """SHA-256 of the graph trained on (:func:`~socialmarl.sweeps.networks.graph_digest`)."""
    rate: float | None = None
    """The camp process's switching rate (None: a static network)."""

    @property
    def base_identity(self) -> dict[str, Any]:
        """What determines a population's numbers besides its (alpha, seed): the graph (by
        content, wherever it was read from), the camp's rate, the settings, the evaluation,
        the device and the threads. Jobs with the same base train the same populations
        identically, so their cells are shared."""
        return {"graph": self.graph, "rate": self.rate, "settings": self.settings,
                "evaluate": self.evaluate, "device": self.device, "cpus": self.cpus}

    @property
    def base_id(self) -> str:
        """Short digest of :attr:`base_identity`."""
        return _digest(self.base_identity)

    @property
    def id(self) -> str:
        """Short digest of the base identity and the populations."""
        return _digest({**self.base_identity, "populations": self.populations})

    @property
    def folder_name(self) -> str:
        """``<label>-<id>``: the job's folder under ``jobs/``."""
        return f"{self.network.label}-{self.id}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-safe description (what a worker receives)."""
        return {"id": self.id, "base": self.base_id, "folder": self.folder_name,
                "network": {"network": self.network.network, "label": self.network.label,
                            "nodes": self.network.nodes, "human_weights":
                            self.network.human_weights, "data_dir": self.network.data_dir,
                            "seed": self.network.seed},
                "settings": self.settings, "swept": self.swept,
                "populations": [list(p) for p in self.populations],
                "evaluate": self.evaluate, "device": self.device, "cpus": self.cpus}


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def population_memory_bytes(num_agents: int, num_edges: int, envs: int,
                            episode_length: int, hidden: int = 50) -> int:
    """A generous estimate of one population's training memory in bytes.

    The rollout stores every step of every environment: per agent about ``6 * hidden``
    floats of activations kept for the backward pass and per edge about 8 floats
    (attention scores, tokens, masks), in float32, times 3 for gradients and temporaries.

    Examples
    --------
    >>> population_memory_bytes(1000, 14559, 32, 20) / 2**30 < 4
    True
    """
    per_step = num_agents * (6 * hidden + 16) + num_edges * 8
    return int(3 * 4 * per_step * envs * episode_length)


@dataclass
class SweepSpec:
    """A sweep's grid (see the module docstring for the file format)."""

    networks: list[NetworkSpec]
    alphas: list[float] = field(default_factory=lambda: [0.0, 0.1, 0.2, 0.3, 0.5, 1.0])
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    train: dict[str, Any] = field(default_factory=dict)
    grid: dict[str, list[Any]] = field(default_factory=dict)
    evaluate: dict[str, Any] = field(default_factory=dict)
    jobs: dict[str, Any] = field(default_factory=dict)
    name: str = "sweep"
    device: str = "cpu"

    def __post_init__(self) -> None:
        self.networks = [n if isinstance(n, NetworkSpec) else _network_entry(n)
                         for n in (self.networks or [])]
        if not self.networks:
            raise ValueError("the sweep has no networks; list at least one under 'networks' "
                             "(e.g. bluesky_sample, camp_sample or a file path)")
        labels = [n.label for n in self.networks]
        dup = sorted({x for x in labels if labels.count(x) > 1})
        if dup:
            raise ValueError(f"networks {dup} appear twice; give each entry its own 'label'")
        alphas = self.alphas if isinstance(self.alphas, (list, tuple)) else [self.alphas]
        self.alphas = [as_float(a, "alphas", minimum=0.0, maximum=1.0,
                                what="alpha weights truth (1) against conformity (0)")
                       for a in alphas]
        if not self.alphas or len(set(self.alphas)) != len(self.alphas):
            raise ValueError(f"alphas={self.alphas}: give one or more distinct values in [0, 1]")
        if isinstance(self.seeds, bool):
            raise ValueError(f"seeds={self.seeds!r}: give a list of seeds or a count")
        if isinstance(self.seeds, int):
            self.seeds = list(range(as_int(self.seeds, "seeds", minimum=1)))
        self.seeds = [as_int(s, "seeds", minimum=0) for s in self.seeds]
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds={self.seeds}: give one or more distinct seeds >= 0")
        for what, d in (("train", self.train), ("grid", self.grid), ("evaluate", self.evaluate),
                        ("jobs", self.jobs)):
            if not isinstance(d, dict):
                raise ValueError(f"{what} must be a mapping, got {type(d).__name__}")
        self.train = _numbers(self.train)
        grid = {}
        for key, values in self.grid.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise ValueError(f"grid.{key}={values!r}: give a non-empty list of values")
            values = list(_numbers({i: v for i, v in enumerate(values)}).values())
            if any(not isinstance(v, (bool, int, float, str)) for v in values):
                raise ValueError(
                    f"grid.{key}={values!r}: swept values must be single numbers, strings or "
                    "booleans; give a list-valued setting (e.g. experts) in a network "
                    "entry's train instead, one entry per value")
            norm = [repr(v) if isinstance(v, (bool, str)) else float(v) for v in values]
            if len(set(norm)) != len(norm):
                raise ValueError(f"grid.{key}={values!r}: a value appears twice; give each "
                                 "once")
            grid[key] = values
        self.grid = grid
        self.name = str(self.name)
        self.device = str(self.device)
        unknown = set(self.evaluate) - _EVAL_KEYS
        if unknown:
            raise ValueError(f"evaluate: unknown key(s) {sorted(unknown)}; valid: "
                             f"{sorted(_EVAL_KEYS)}")
        unknown = set(self.jobs) - _JOB_KEYS
        if unknown:
            raise ValueError(f"jobs: unknown key(s) {sorted(unknown)}; valid: {sorted(_JOB_KEYS)}")
        self.evaluation()
        _ = (self.max_populations, self.cpus, self.worker_memory_bytes)
        self._check_settings()

    # ------------------------------------------------------------------ checks
    def _check_settings(self) -> None:
        for where, d in [("train", self.train), ("grid", self.grid)] + [
                (f"networks[{n.label}].train", n.train) for n in self.networks]:
            bad = sorted(set(d) & set(RESERVED_SETTINGS))
            if bad:
                raise ValueError(f"{where}: {bad} are set by the sweep itself; use the sweep's "
                                 "'alphas', 'seeds' and 'device' keys instead")
        for net in self.networks:
            for settings, _ in self._setting_combinations(net):
                self._train_config(settings, [1.0], [0])

    def _train_config(self, settings: dict[str, Any], alphas: list[float],
                      seeds: list[int]) -> TrainConfig:
        try:
            return TrainConfig(**settings, alphas=alphas, seeds=seeds, device="cpu")
        except (TypeError, ValueError) as exc:
            raise ValueError(f"sweep settings {settings}: {exc}") from None

    def _setting_combinations(self, net: NetworkSpec | None):
        keys = list(self.grid)
        for values in itertools.product(*(self.grid[k] for k in keys)):
            swept = dict(zip(keys, values))
            settings = {**self.train, **({} if net is None else net.train), **swept}
            yield settings, swept

    @property
    def max_populations(self) -> int | None:
        v = self.jobs.get("max_populations")
        return None if v is None else as_int(v, "jobs.max_populations", minimum=1)

    @property
    def cpus(self) -> int:
        """CPU threads of a job (torch's threads, and a Ray task's ``num_cpus``)."""
        return as_int(self.jobs.get("cpus", DEFAULT_CPUS), "jobs.cpus", minimum=1)

    @property
    def worker_memory_bytes(self) -> int:
        gb = as_float(self.jobs.get("worker_memory_gb", 4.0), "jobs.worker_memory_gb",
                      minimum=1e-6)
        return int(gb * 2**30)

    def evaluation(self) -> dict[str, Any]:
        """Evaluation settings with their defaults filled in."""
        ev = {"episodes": 64, "n_boot": 500, "seed": 1000, "game": {}, **self.evaluate}
        ev["episodes"] = as_int(ev["episodes"], "evaluate.episodes", minimum=1)
        ev["n_boot"] = as_int(ev["n_boot"], "evaluate.n_boot", minimum=1)
        ev["seed"] = as_int(ev["seed"], "evaluate.seed", minimum=0)
        if not isinstance(ev["game"], dict):
            raise ValueError("evaluate.game must be a mapping of game rules to change")
        ev["game"] = _numbers(ev["game"])
        bad = sorted(set(ev["game"]) & set(_EVAL_SET))
        if bad:
            raise ValueError(f"evaluate.game: {bad} are set by the evaluation itself (the "
                             "population's alpha, other-play, the trained actions, the camp "
                             "process); leave them out")
        try:
            dataclasses.replace(GameConfig(), **ev["game"])
        except (TypeError, ValueError) as exc:
            raise ValueError(f"evaluate.game: {exc}; valid rules: "
                             f"{[f.name for f in dataclasses.fields(GameConfig)]}") from None
        return ev

    # ------------------------------------------------------------------ plan
    def load_networks(self) -> dict[str, Network]:
        """Every network, loaded (and cut to its piece); a ``ValueError`` names a bad one."""
        from ..networks.resolve import REAL_DATA_NAMES, real_data_folder
        from .networks import load_sweep_network

        for n in self.networks:  # a real data set's folder as the driver finds it, for
            if n.network in REAL_DATA_NAMES and n.data_dir is None:  # workers elsewhere
                try:
                    n.data_dir = str(real_data_folder(n.network).resolve())
                except FileNotFoundError:
                    pass  # load_sweep_network says where it looked
        return {n.label: load_sweep_network(n) for n in self.networks}

    def plan(self, networks: dict[str, Network] | None = None) -> list[Job]:
        """The jobs of the sweep, in a fixed order (network, settings, populations)."""
        from .networks import graph_digest

        nets = self.load_networks() if networks is None else networks
        ev = self.evaluation()
        jobs: list[Job] = []
        seen: dict[str, str] = {}
        for net in self.networks:
            graph = nets[net.label].graph
            digest, rate = graph_digest(graph), nets[net.label].interaction_rate
            for settings, swept in self._setting_combinations(net):
                cfg = self._train_config(settings, self.alphas, self.seeds)
                per = population_memory_bytes(graph.num_nodes, graph.num_edges,
                                              cfg.envs_per_alpha, cfg.episode_length,
                                              cfg.policy.hidden)
                size = self.max_populations or max(1, self.worker_memory_bytes // max(per, 1))
                for part in population_blocks(self.alphas, self.seeds, size):
                    job = Job(
                        network=net, settings=copy.deepcopy(settings), swept=dict(swept),
                        alphas=sorted({a for a, _ in part}), seeds=sorted({s for _, s in part}),
                        populations=part, evaluate=ev, device=self.device, cpus=self.cpus,
                        graph=digest, rate=rate,
                    )
                    other = seen.setdefault(job.base_id, net.label)
                    if other != net.label:
                        raise ValueError(
                            f"networks {other!r} and {net.label!r} are the same graph with the "
                            "same settings: every number of one would be the other's; list "
                            "it once")
                    jobs.append(job)
        return jobs

    def cells(self) -> list[dict[str, Any]]:
        """Every cell: one dict per (network, setting values, alpha, seed)."""
        out = []
        for net in self.networks:
            for _, swept in self._setting_combinations(net):
                for a in self.alphas:
                    for s in self.seeds:
                        out.append({"network": net.label, **swept, "alpha": a, "seed": s})
        return out

    def to_dict(self) -> dict[str, Any]:
        """The grid as plain JSON (``sweep.json`` of the results folder)."""
        return {"name": self.name,
                "networks": [{"network": n.network, "label": n.label, "nodes": n.nodes,
                              "train": n.train, "human_weights": n.human_weights,
                              "data_dir": n.data_dir, "seed": n.seed} for n in self.networks],
                "alphas": self.alphas, "seeds": self.seeds, "train": self.train,
                "grid": self.grid, "evaluate": self.evaluation(), "jobs": self.jobs,
                "device": self.device}

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "the grid") -> SweepSpec:
        """Build from a parsed grid file, naming unknown keys."""
        if not isinstance(data, dict):
            raise ValueError(f"{source}: a grid must be a mapping (YAML/JSON object) with at "
                             f"least 'networks'; got {type(data).__name__}")
        unknown = set(data) - _SPEC_KEYS
        if unknown:
            raise ValueError(f"{source}: unknown key(s) {sorted(unknown)}; valid keys: "
                             f"{sorted(_SPEC_KEYS)}")
        if "networks" not in data:
            raise ValueError(f"{source}: no 'networks'; list the networks to train on")
        try:
            return cls(**data)
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None


def _network_entry(entry: Any) -> NetworkSpec:
    if isinstance(entry, (str, os.PathLike)):
        return NetworkSpec(str(entry))
    if isinstance(entry, dict):
        unknown = set(entry) - _NETWORK_KEYS
        if unknown:
            raise ValueError(f"network entry {entry}: unknown key(s) {sorted(unknown)}; valid: "
                             f"{sorted(_NETWORK_KEYS)}")
        if "network" not in entry:
            raise ValueError(f"network entry {entry}: give 'network' (a name or a path)")
        return NetworkSpec(**entry)
    raise ValueError(f"network entry {entry!r}: give a name, a path or a mapping with 'network'")


def load_sweep_spec(path: str | os.PathLike) -> SweepSpec:
    """Read a grid from a YAML (``.yaml``/``.yml``) or JSON file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "grid.yaml"
    >>> _ = p.write_text("networks: [ring_sample]\\n")
    >>> load_sweep_spec(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ...grid.yaml: unknown network 'ring_sample'...
    """
    p = Path(path)
    text = read_text(existing_file(p, "sweep grid"))
    if p.suffix.lower() in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{p}: not valid YAML ({exc}); fix the file") from None
    elif p.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{p}: not valid JSON (line {exc.lineno}: {exc.msg}); fix the "
                             "file") from None
    else:
        raise ValueError(f"{p}: a grid file must end in .yaml, .yml or .json")
    spec = SweepSpec.from_dict(data, source=str(p))
    try:
        spec.load_networks()
    except (ValueError, FileNotFoundError) as exc:
        raise ValueError(f"{p}: {exc}") from None
    return spec

