"""The ``socialmarl`` command line.

    socialmarl demo [--graph NAME] [--out DIR]     play the game with simple strategies

Every command writes its results (JSON/CSV with the config that made them) into a folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .config import atomic_write_text, save_json
from .game import ConsensusGame, GameConfig
from .heuristics import STRATEGIES, play_episodes
from .networks import Graph, barabasi_albert_graph, social_graph

__all__ = ["main", "resolve_graph"]

GRAPH_CHOICES = ("bluesky_sample", "karate_club", "les_miserables", "ba100", "ba1000")


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
    print(f"wrote {out / 'demo.json'} and {out / 'demo.csv'} in {time.perf_counter() - start:.1f} s")
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
