"""The ``socialmarl`` command line.

    socialmarl demo [--graph NAME] [--out DIR]        play the game with simple strategies
    socialmarl train [--graph NAME] [--alphas ...] [--<any TrainConfig field>] --out DIR
    socialmarl evaluate RUN_DIR [--episodes K] [--no-other-play] [--out DIR]
    socialmarl reproduce [--preset quick|paper|smoke] [--out DIR]

Every command writes its results (JSON/CSV with the config that made them) into a folder.
``socialmarl train --help`` lists every field of :class:`~socialmarl.train.TrainConfig`
with its docstring.
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

from .config import atomic_write_text, field_docs, save_json
from .game import ConsensusGame, GameConfig
from .heuristics import STRATEGIES, play_episodes
from .networks import Graph, barabasi_albert_graph, social_graph

__all__ = ["main", "resolve_graph"]

GRAPH_CHOICES = (
    "bluesky_sample", "camp_sample", "karate_club", "les_miserables", "ba100", "ba1000",
)


def resolve_graph(name: str, seed: int = 0) -> Graph:
    """A graph by short name: bundled data, networkx's small social graphs or generators.

    Examples
    --------
    >>> resolve_graph("ba100").num_nodes
    100
    """
    if name == "bluesky_sample":
        from .datasets import load_bluesky_sample

        return load_bluesky_sample()
    if name == "camp_sample":
        from .datasets import load_camp_sample

        return load_camp_sample()[0]
    if name in ("karate_club", "les_miserables"):
        return social_graph(name, weighted=False)
    if name.startswith("ba") and name[2:].isdigit():
        return barabasi_albert_graph(int(name[2:]), 7, seed=seed)
    raise ValueError(f"unknown graph {name!r}; choose one of {', '.join(GRAPH_CHOICES)}")


def _table(rows: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def cmd_demo(args: argparse.Namespace) -> int:
    graph = resolve_graph(args.graph, seed=args.seed)
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


def _add_config_options(parser: argparse.ArgumentParser, cls: type, skip: set[str]) -> None:
    """One ``--field-name`` option per dataclass field, with the field's docstring as help."""
    docs = field_docs(cls)
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip:
            continue
        flag = "--" + f.name.replace("_", "-")
        hint = hints[f.name]
        base = hint
        if typing.get_origin(hint) in (typing.Union, types.UnionType):  # X | None
            base = next(a for a in typing.get_args(hint) if a is not type(None))
        help_text = docs.get(f.name, "")
        if base is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=None, help=help_text)
        elif typing.get_origin(base) is list or base is list:
            parser.add_argument(
                flag, dest=f.name, default=None, help=help_text + " (comma-separated)",
                type=lambda v: [float(x) for x in v.split(",") if x.strip()],
            )
        else:
            kind = base if base in (int, float, str) else str
            parser.add_argument(flag, dest=f.name, type=kind, default=None, help=help_text)


def _config_overrides(args: argparse.Namespace, cls: type) -> dict:
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def cmd_train(args: argparse.Namespace) -> int:
    from .cpu_memory import retain_freed_memory
    from .train import TrainConfig, Trainer

    out = Path(args.out)
    if args.keep_cpu_memory:
        retain_freed_memory()  # this process only trains: keep freed buffers for reuse
    if args.resume and (out / "checkpoint.pt").exists():
        trainer = Trainer.from_checkpoint(out)
        print(f"resuming {out} at update {trainer.update}")
    else:
        graph = resolve_graph(args.graph, seed=args.graph_seed)
        overrides = _config_overrides(args, TrainConfig)
        if args.graph == "camp_sample" and "interaction_rate" not in overrides:
            from .datasets import load_camp_sample

            overrides["interaction_rate"] = load_camp_sample()[1]  # a dynamic camp
        cfg = TrainConfig(**overrides)
        q = None
        if cfg.interaction_rate is not None:
            if graph.edge_weight is None:
                raise ValueError(
                    f"--interaction-rate needs a graph whose edge weights are the interaction "
                    f"probabilities q; {args.graph!r} has no weights"
                )
            q = graph.edge_weight
        trainer = Trainer(graph, cfg, out_dir=out, q=q)
    trainer.train()
    last = trainer.log.groupby("alpha").tail(1)
    cols = ["alpha", "update", "episode_return", "final_accuracy", "agreement", "sps"]
    print(last[cols].to_string(index=False))
    print(f"wrote {out / 'checkpoint.pt'}, {out / 'log.csv'} and {out / 'config.json'}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import evaluate_run

    out = Path(args.out) if args.out else Path(args.run) / "eval"
    graph = resolve_graph(args.graph) if args.graph else None
    records = evaluate_run(args.run, graph=graph, episodes=args.episodes,
                           other_play=args.other_play, out_dir=out, device=args.device,
                           seed=args.seed)
    rows = [r.summary() for r in records.values()]
    cols = ["alpha", "accuracy", "final_accuracy", "agreement", "lying_rate", "wait_rate"]
    width = max(len(c) for c in cols) + 1
    print("".join(f"{c:>{width}}" for c in cols))
    for r in rows:
        print("".join(f"{r[c]:>{width}.3f}" for c in cols))
    print(f"wrote {out}/summary.csv and one folder per alpha")
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from .reproduce import reproduce

    res = reproduce(args.preset, args.out, device=args.device, progress=not args.no_progress)
    print(res["summary"], end="")
    print(f"wrote {args.out}: conformity.png, attention_fit.png, numbers.csv, summary.txt")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="socialmarl", description="Opinion dynamics learned by deep multi-agent RL."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="play the game with simple strategies and save a table")
    demo.add_argument("--graph", default="bluesky_sample", help=f"one of {GRAPH_CHOICES}")
    demo.add_argument("--alphas", default="0,0.5,1", help="comma-separated alpha values")
    demo.add_argument("--envs", type=int, default=64, help="parallel environments")
    demo.add_argument("--episodes", type=int, default=2, help="episodes per setting")
    demo.add_argument("--other-play", action="store_true", help="draw other-play flips")
    demo.add_argument("--seed", type=int, default=0, help="random seed")
    demo.add_argument("--out", default="results/demo", help="results folder")
    demo.set_defaults(func=cmd_demo)

    from .train import TrainConfig

    tr = sub.add_parser("train", help="train one population per alpha with PPO",
                        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    tr.add_argument("--graph", default="ba100", help=f"one of {GRAPH_CHOICES}")
    tr.add_argument("--graph-seed", type=int, default=0, help="seed of generated graphs")
    tr.add_argument("--out", default="results/train", help="run folder")
    tr.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    tr.add_argument("--keep-cpu-memory", action=argparse.BooleanOptionalAction, default=True,
                    help="keep freed CPU memory for reuse (glibc; fewer page faults, "
                    "faster CPU training; see socialmarl.retain_freed_memory)")
    _add_config_options(tr, TrainConfig, skip=set())
    tr.set_defaults(func=cmd_train)

    ev = sub.add_parser("evaluate", help="evaluate every population of a training run")
    ev.add_argument("run", help="a run folder written by `socialmarl train`")
    ev.add_argument("--episodes", type=int, default=64, help="episodes per population")
    ev.add_argument("--other-play", action=argparse.BooleanOptionalAction, default=True,
                    help="draw other-play flips during evaluation")
    ev.add_argument("--graph", default=None, help="evaluate on another graph of the same size")
    ev.add_argument("--device", default="cpu", help="cpu or cuda")
    ev.add_argument("--seed", type=int, default=1234, help="evaluation seed")
    ev.add_argument("--out", default=None, help="results folder (default RUN/eval)")
    ev.set_defaults(func=cmd_evaluate)

    rp = sub.add_parser("reproduce", help="the paper's claims on bundled data, end to end")
    rp.add_argument("--preset", default="quick", choices=["smoke", "quick", "paper"],
                    help="smoke: seconds; quick: minutes on a CPU; paper: full scale (GPU)")
    rp.add_argument("--out", default="results/reproduce", help="results folder")
    rp.add_argument("--device", default="cpu", help="cpu or cuda")
    rp.add_argument("--no-progress", action="store_true", help="hide progress bars")
    rp.set_defaults(func=cmd_reproduce)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``socialmarl`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (ValueError, FileNotFoundError) as exc:
        print(f"socialmarl {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
