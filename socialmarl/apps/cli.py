"""The ``socialmarl`` command line.

    socialmarl demo [--graph NETWORK] [--out DIR]      play the game with simple strategies
    socialmarl train [--graph NETWORK] [--alphas ...] [--<any setting>] --out DIR
    socialmarl train --out DIR --resume                continue a stopped run
    socialmarl evaluate RUN_DIR [--episodes K] [--graph NETWORK] [--<game rule>] [--out DIR]
    socialmarl reproduce [--preset quick|paper|smoke] [--graph NETWORK] [--out DIR]
    socialmarl sweep GRID.yaml [--out DIR] [--engine auto|local|ray] [--address ADDR]

``NETWORK`` is a built-in name (``ba100``, ``karate_club``, ``bluesky_sample``,
``camp_sample`` ...), a real data set by name read from ``--data-dir``
(``congress_twitter``, ``bayaka``), or a path: a crawl folder, a data set's folder, an edge
list, a CSV or a GraphML file (see :func:`socialmarl.networks.resolve.load_network`).

Every command writes its results (JSON/CSV with the config that made them) into a folder.
``socialmarl train`` never replaces a run already in ``--out`` unless ``--overwrite`` is
given, and ``--resume`` continues exactly the saved run (no other settings). Options must
be spelled out in full (no prefix abbreviations).

``socialmarl train --help`` lists every setting with its docstring, in three groups: the
run's own (:class:`~socialmarl.learning.config.TrainConfig`), the game's rules
(:class:`~socialmarl.game.game.GameConfig`: ``--experts 0,3``, ``--reward-right``,
``--reward-wrong``, ``--no-allow-wait``, ``--p-perc``, ``--sigma`` ...) and the policy's
sizes (:class:`~socialmarl.learning.policy.PolicyConfig`); ``--interaction-rate`` sets the
switching rate of a camp network's process. ``socialmarl evaluate`` takes the same game
rules to evaluate a run under other rules. Errors are printed as one message naming the
problem and the fix (exit status 2; 1 when training diverged).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import sys
import time
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..common.config_io import atomic_write_text, field_docs, save_json
from ..game.game import ConsensusGame, GameConfig
from ..game.strategies import STRATEGIES, play_episodes
from ..networks.dynamic import CampProcess
from ..networks.graph import Graph
from ..networks.resolve import NETWORK_SPEC_HELP, load_network

__all__ = ["main", "resolve_graph", "build_parser"]

def resolve_graph(name: str, seed: int = 0, data_dir: str | None = None) -> Graph:
    """A graph by name or path (see :func:`socialmarl.networks.resolve.load_network`).

    Examples
    --------
    >>> resolve_graph("ba100").num_nodes
    100
    """
    return load_network(name, data_dir=data_dir, seed=seed).graph


def _table(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def cmd_demo(args: argparse.Namespace) -> int:
    graph = resolve_graph(args.graph, seed=args.seed, data_dir=args.data_dir)
    alphas = [float(a) for a in args.alphas.split(",")]
    print(f"socialmarl demo: {graph}")
    print(f"{'strategy':22} {'alpha':>5} {'reward':>8} {'acc(final)':>10} {'agreement':>9}")
    rows = []
    start = time.perf_counter()
    for name in ("follow_signal", "signal_then_majority", "always_one"):
        for alpha in alphas:
            cfg = GameConfig(num_envs=args.envs, alpha=alpha, other_play=args.other_play)
            game = ConsensusGame(graph, cfg, seed=args.seed)
            hist = play_episodes(game, STRATEGIES[name], episodes=args.episodes)
            t = cfg.episode_length
            finals = hist["accuracy"][t - 1 :: t]
            row = {
                "strategy": name,
                "alpha": alpha,
                "mean_reward": round(sum(hist["reward"]) / len(hist["reward"]), 6),
                "final_accuracy": round(sum(finals) / len(finals), 6),
                "mean_agreement": round(sum(hist["agreement"]) / len(hist["agreement"]), 6),
            }
            rows.append(row)
            print(
                f"{name:22} {alpha:>5.2f} {row['mean_reward']:>8.4f} "
                f"{row['final_accuracy']:>10.3f} {row['mean_agreement']:>9.3f}"
            )
    out = Path(args.out)
    save_json(
        out / "demo.json",
        {
            "command": "demo",
            "graph": {"name": graph.name, **graph.summary()},
            "game_config": {**vars(GameConfig(num_envs=args.envs, other_play=args.other_play)),
                            "alpha": alphas},
            "seed": args.seed,
            "episodes": args.episodes,
            "results": rows,
        },
    )
    atomic_write_text(out / "demo.csv", _table(rows))
    took = time.perf_counter() - start
    print(f"wrote {out / 'demo.json'} and {out / 'demo.csv'} in {took:.1f} s")
    return 0


def _float_list(text: str) -> list[float]:
    """``"0,0.5,1"`` -> ``[0.0, 0.5, 1.0]`` (argparse reports the value when this fails)."""
    return [float(x) for x in text.split(",") if x.strip()]


_float_list.__name__ = "comma-separated list of numbers"


def _int_list(text: str) -> list[int]:
    """``"0,3"`` -> ``[0, 3]``; ``""`` -> ``[]``."""
    return [int(x) for x in text.split(",") if x.strip()]


_int_list.__name__ = "comma-separated list of integers"

class _Flatten(argparse.Action):
    """A list option's words, each comma-separated or not: ``0 0.5 1`` = ``0,0.5,1``."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, [x for word in values for x in word])


#: Fields without an option: a run sets these itself
_GAME_SKIP = {"num_envs", "alpha"}
_POLICY_SKIP = {"num_actions"}


def _add_config_options(parser: argparse.ArgumentParser, cls: type, skip: set[str]) -> None:
    """One ``--field-name`` option per dataclass field, with the field's docstring as help."""
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    group = parser.add_argument_group(f"{cls.__name__} settings")
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        hint = hints[f.name]
        base = hint
        if typing.get_origin(hint) in (typing.Union, types.UnionType):  # X | None
            base = next(a for a in typing.get_args(hint) if a is not type(None))
        help_text = docs.get(f.name, "")
        if dataclasses.is_dataclass(base):
            continue  # nested configs have their own option groups
        if base is bool:
            group.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                               default=None, help=help_text)
        elif typing.get_origin(base) is list or base is list:
            items = typing.get_args(base)
            kind = _int_list if items and items[0] is int else _float_list
            group.add_argument(flag, dest=f.name, default=None, type=kind, nargs="*",
                               action=_Flatten,
                               help=help_text + " (several words or comma-separated)")
        else:
            kind = base if base in (int, float, str) else str
            group.add_argument(flag, dest=f.name, type=kind, default=None, help=help_text)


def _config_overrides(args: argparse.Namespace, *classes: type) -> dict:
    names = {f.name for cls in classes for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def _given_config_flags(args: argparse.Namespace, *classes: type) -> list[str]:
    return ["--" + k.replace("_", "-") for k in _config_overrides(args, *classes)]


def _camp_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--interaction-rate", type=float, default=None, metavar="R",
                        help="switching rate r of the camp process (default: the network's "
                        "own; with another weighted graph, its weights are the q)")


def _camp(net: Any, rate: float | None) -> CampProcess | None:
    """The camp process to play: the network's own, or its q with the given rate."""
    if rate is None:
        return net.camp
    return CampProcess.from_graph(net.graph, rate)


def cmd_train(args: argparse.Namespace) -> int:
    from ..learning.config import TrainConfig
    from ..learning.cpu_memory import retain_freed_memory
    from ..learning.policy import PolicyConfig
    from ..learning.trainer import Trainer

    out = Path(args.out)
    settings = (TrainConfig, GameConfig, PolicyConfig)
    if args.resume:
        extra = [f for f in _given_config_flags(args, *settings) if f != "--device"]
        extra += [flag for flag, v in (("--graph", args.graph), ("--graph-seed", args.graph_seed),
                                       ("--data-dir", args.data_dir),
                                       ("--interaction-rate", args.interaction_rate))
                  if v is not None]
        if args.overwrite:
            extra.append("--overwrite")
        if extra:
            raise ValueError(
                f"--resume continues the run saved in {out} exactly as it was configured; "
                f"these options would change it: {' '.join(extra)}. Drop them, or start a "
                "new run with --overwrite (or another --out)"
            )
        trainer = Trainer.from_checkpoint(out, device=args.device)
        print(f"resuming {out} at update {trainer.update} of {trainer.config.num_updates}")
    else:
        net = load_network(args.graph or "ba100", data_dir=args.data_dir,
                           seed=args.graph_seed or 0)
        cfg = TrainConfig().updated(**_config_overrides(args, *settings))
        camp = _camp(net, args.interaction_rate)
        trainer = Trainer(net.graph, cfg, out_dir=out, camp=camp, overwrite=args.overwrite)
        print(f"training on {net.source}: {net.graph.num_nodes} agents, "
              f"{net.graph.num_edges} edges{', dynamic camp' if camp is not None else ''}")
    if args.keep_cpu_memory:
        retain_freed_memory()  # this process only trains: keep freed buffers for reuse
    try:
        trainer.train()
    except KeyboardInterrupt:
        print(f"\ninterrupted at update {trainer.update}; {out / 'log.csv'} holds every "
              f"finished update; continue from the last checkpoint with: socialmarl train "
              f"--out {out} --resume", file=sys.stderr)
        return 130
    last = trainer.log.groupby(["alpha", "seed"]).tail(1)
    cols = ["alpha", "seed", "update", "episode_return", "final_accuracy", "agreement", "sps"]
    print(last[cols].to_string(index=False))
    print(f"wrote {out / 'checkpoint.pt'}, {out / 'log.csv'} and {out / 'config.json'}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from ..analysis.evaluation import evaluate_run

    out = Path(args.out) if args.out else Path(args.run) / "eval"
    # a Network: a dynamic data set (bayaka, camp_sample) keeps its camp process
    graph = load_network(args.graph, data_dir=args.data_dir) if args.graph else None
    rules = _config_overrides(args, GameConfig)
    rules.pop("other_play", None)  # --other-play is evaluate's own option
    records = evaluate_run(args.run, graph=graph, episodes=args.episodes,
                           other_play=args.other_play, out_dir=out, device=args.device,
                           seed=args.seed, camp_rate=args.interaction_rate, **rules)
    rows = [r.summary() for r in records.values()]
    cols = ["alpha", *(["seed"] if "seed" in rows[0] else []), "accuracy", "final_accuracy",
            "agreement", "lying_rate", "wait_rate"]
    width = max(len(c) for c in cols) + 1
    print("".join(f"{c:>{width}}" for c in cols))
    for r in rows:
        print("".join(f"{r[c]:>{width}.3f}" for c in cols))
    print(f"wrote {out}/summary.csv and one folder per population")
    return 0


def _keep_cpu_memory(args: argparse.Namespace) -> None:
    if args.keep_cpu_memory:
        from ..learning.cpu_memory import retain_freed_memory

        retain_freed_memory()  # this process only trains and evaluates: reuse freed buffers


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import reproduce

    _keep_cpu_memory(args)
    res = reproduce(args.preset, args.out, device=args.device, progress=not args.no_progress,
                    social=args.graph, camp=args.camp, data_dir=args.data_dir,
                    engine=args.engine, address=args.address, max_retries=args.max_retries,
                    overwrite=args.overwrite)
    print(res["summary"], end="")
    print(f"wrote {args.out}: {', '.join(res['files'])}")
    return 1 if res["failed"] else 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..sweeps.sweep import sweep

    _keep_cpu_memory(args)
    res = sweep(args.grid, args.out, engine=args.engine, address=args.address,
                device=args.device, max_retries=args.max_retries,
                progress=not args.no_progress)
    ran = [j for j in res.jobs if j["status"] in ("finished", "resumed")]
    print(f"{len(ran)} jobs run, {res.reused} already finished, {len(res.failed)} failed "
          f"({res.engine}, {res.seconds:.0f} s)")
    files = ["sweep.json", "results.parquet", "results.csv"]
    if res.fits:
        files.append("attention_fit.csv")
    if args.figures and not res.table.empty:
        from .report import write_report

        report = write_report(res.table, res.fits, args.out, title=f"sweep {args.grid}")
        files += report["files"]
        print(report["summary"], end="")
    print(f"wrote {args.out}: {', '.join(files)}, jobs/")
    for job in res.failed:
        print(f"socialmarl sweep: job {job['folder']} failed: {job['error']} (traceback in "
              f"{Path(args.out) / 'jobs' / job['folder'] / 'error.txt'}); run the same "
              "command again after fixing it: finished jobs are skipped", file=sys.stderr)
    return 1 if res.failed else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``socialmarl`` command (no prefix abbreviations)."""
    parser = argparse.ArgumentParser(
        prog="socialmarl", description="Opinion dynamics learned by deep multi-agent RL.",
        allow_abbrev=False,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, help_text: str, **kw: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help_text, allow_abbrev=False, **kw)

    def network_options(p: argparse.ArgumentParser, default: str | None, what: str) -> None:
        p.add_argument("--graph", default=default, metavar="NETWORK",
                       help=f"{what}: {NETWORK_SPEC_HELP}")
        p.add_argument("--data-dir", default=None, metavar="DIR",
                       help="folder of the real data sets (or of the one named by --graph); "
                       "default: $SOCIALMARL_SHARED_DATA, then ../shared/data")

    demo = command("demo", "play the game with simple strategies and save a table")
    network_options(demo, "bluesky_sample", "the network")
    demo.add_argument("--alphas", default="0,0.5,1", help="comma-separated alpha values")
    demo.add_argument("--envs", type=int, default=64, help="parallel environments")
    demo.add_argument("--episodes", type=int, default=2, help="episodes per setting")
    demo.add_argument("--other-play", action="store_true", help="draw other-play flips")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--out", default="results/demo", help="results folder")
    demo.set_defaults(func=cmd_demo)

    from ..learning.config import TrainConfig
    from ..learning.policy import PolicyConfig

    tr = command("train", "train one population per alpha with PPO",
                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    network_options(tr, None, "the network (default ba100)")
    tr.add_argument("--graph-seed", type=int, default=None,
                    help="seed of generated graphs (default 0)")
    tr.add_argument("--out", default="results/train", help="run folder")
    tr.add_argument("--resume", action="store_true",
                    help="continue the run in OUT from its checkpoint, exactly as configured")
    tr.add_argument("--overwrite", action="store_true",
                    help="replace a run already in OUT (its config, log, checkpoint and eval/)")
    tr.add_argument("--keep-cpu-memory", action=argparse.BooleanOptionalAction, default=True,
                    help="keep freed CPU memory for reuse (glibc; fewer page faults, "
                    "faster CPU training; see socialmarl.retain_freed_memory)")
    _add_config_options(tr, TrainConfig, skip=set())
    _add_config_options(tr, GameConfig, skip=_GAME_SKIP)
    _add_config_options(tr, PolicyConfig, skip=_POLICY_SKIP)
    _camp_option(tr)
    tr.set_defaults(func=cmd_train)

    ev = command("evaluate", "evaluate every population of a training run")
    ev.add_argument("run", help="a run folder written by `socialmarl train`")
    ev.add_argument("--episodes", type=int, default=64, help="episodes per population")
    ev.add_argument("--other-play", action=argparse.BooleanOptionalAction, default=True,
                    help="draw other-play flips during evaluation")
    network_options(ev, None, "evaluate on another network of the same size")
    ev.add_argument("--device", default="cpu", help="cpu or cuda")
    ev.add_argument("--seed", type=int, default=1234, help="evaluation seed")
    ev.add_argument("--out", default=None, help="results folder (default RUN/eval)")
    _add_config_options(ev, GameConfig, skip=_GAME_SKIP | {"other_play"})
    _camp_option(ev)
    ev.set_defaults(func=cmd_evaluate)

    rp = command("reproduce", "the paper's claims on bundled data, end to end, as a sweep "
                 "with seeds; run again into the same --out to continue it")
    rp.add_argument("--preset", default="quick", choices=["smoke", "quick", "paper"],
                    help="smoke: seconds; quick: under 10 minutes on a 2-core CPU; paper: the "
                    "paper's scale (a GPU or a Ray cluster)")
    network_options(rp, None, "the social network instead of the bundled Bluesky-like "
                    "sample (its edge weights, if any, are the human importance to fit)")
    rp.add_argument("--camp", default=None, metavar="NETWORK",
                    help="a dynamic camp instead of the bundled camp sample (camp_sample, "
                    "bayaka, or a BaYaka-style folder)")
    rp.add_argument("--out", default="results/reproduce", help="results folder")
    rp.add_argument("--overwrite", action="store_true",
                    help="replace an earlier reproduction with other settings in OUT")
    rp.add_argument("--device", default="cpu", help="cpu or cuda")
    _engine_options(rp)
    rp.add_argument("--no-progress", action="store_true", help="hide progress bars")
    rp.set_defaults(func=cmd_reproduce)

    sw = command("sweep", "train, evaluate and tabulate a grid of networks x alphas x seeds x "
                 "settings, here or on a Ray cluster")
    sw.add_argument("grid", help="the grid: a YAML or JSON file (see socialmarl.sweeps.spec)")
    sw.add_argument("--out", default="results/sweep",
                    help="results folder; running again skips finished jobs and resumes "
                    "interrupted ones")
    _engine_options(sw)
    sw.add_argument("--device", default=None, help="cpu or cuda (default: the grid's device)")
    sw.add_argument("--figures", action=argparse.BooleanOptionalAction, default=True,
                    help="draw the paper's figures and write summary.txt from the table")
    sw.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    sw.set_defaults(func=cmd_sweep)
    return parser


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", default="auto", choices=["auto", "local", "ray"],
                   help="where jobs run: local (this process, one after another), ray (Ray "
                   "tasks), auto (ray when installed: pip install 'socialmarl[cluster]')")
    p.add_argument("--address", default=None,
                   help="a Ray cluster to join (default: $RAY_ADDRESS, else a Ray instance "
                   "started on this machine)")
    p.add_argument("--max-retries", type=int, default=3,
                   help="Ray retries of a job whose worker process died")
    p.add_argument("--keep-cpu-memory", action=argparse.BooleanOptionalAction, default=True,
                   help="keep freed CPU memory for reuse in this process (glibc; faster CPU "
                   "training; Ray workers always do; see socialmarl.retain_freed_memory)")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``socialmarl`` command; returns the exit status.

    Known failures (bad values, unreadable files, an existing run, a diverged run) print
    one message naming the problem and the fix instead of a traceback.
    """
    from ..learning.trainer import TrainingDivergedError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except TrainingDivergedError as exc:
        print(f"socialmarl {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except (ValueError, OSError, ImportError) as exc:  # OSError: missing, existing or
        # unwritable files; ImportError: an optional extra (Ray) that is not installed
        print(f"socialmarl {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
