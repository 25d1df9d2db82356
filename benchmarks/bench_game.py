"""Agent-steps per second of the consensus game alone (random actions).

Barabasi-Albert graphs with m = 7 (undirected, E ~ 14 N directed edges), N in
{37, 100, 1000, 10000}, B in {1, 16, 64, 256} with N x B capped so the batch fits memory,
on cpu and on cuda when present. Three settings per size: the static game, the game with
percolation (per-environment edge masks), and the dynamic camp process (a fresh mask every
step). Random actions are drawn up front and cycled, so the timing is the game's own.

    python benchmarks/bench_game.py               # full table
    python benchmarks/bench_game.py --quick       # a smaller table (CI smoke run)

The last column, ns per (env x edge), should stay roughly flat as N grows: the cost is
linear in B x E, not N^2.
"""

from __future__ import annotations

import argparse
import time

import torch

import socialmarl as sm


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(graph: sm.Graph, b: int, device: str, mode: str, min_time: float) -> float:
    kwargs = {}
    if mode == "percolation":
        kwargs["p_perc"] = 0.9
    if mode == "dynamic":
        kwargs["camp"] = sm.CampProcess(torch.full((graph.num_edges,), 0.5), rate=1.0)
    game = sm.ConsensusGame(
        graph, num_envs=b, alpha=0.5, device=device, check_actions=False, seed=0, **kwargs
    )
    dev = game.device
    game.reset()
    gen = torch.Generator(device=dev).manual_seed(0)
    acts = [torch.randint(0, 3, (b, graph.num_nodes), generator=gen, device=dev) for _ in range(8)]
    for k in range(5):  # warm-up
        game.step(acts[k % 8])
    sync(dev)
    steps, start = 0, time.perf_counter()
    while True:
        for _ in range(10):
            game.step(acts[steps % 8])
            steps += 1
        sync(dev)
        elapsed = time.perf_counter() - start
        if elapsed > min_time:
            break
    return steps * b * graph.num_nodes / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per cell")
    parser.add_argument("--max-agents", type=float, default=2.6e6, help="cap on N x B")
    args = parser.parse_args()
    sizes = [37, 100, 1000] if args.quick else [37, 100, 1000, 10000]
    batches = [1, 16, 64] if args.quick else [1, 16, 64, 256]
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    header = (f"{'device':6} {'N':>6} {'B':>4} {'E':>7} {'mode':>12} {'agent-steps/s':>14} "
              f"{'ns/(B*E)':>9}")
    print(header)
    print("-" * len(header))
    for device in devices:
        for n in sizes:
            g = sm.barabasi_albert_graph(n, min(7, n - 1), seed=0)
            for b in batches:
                if n * b > args.max_agents:
                    continue
                for mode in ("static", "percolation", "dynamic"):
                    rate = bench(g, b, device, mode, args.min_time)
                    per_edge = 1e9 / (rate / n) / (g.num_edges) if g.num_edges else float("nan")
                    print(
                        f"{device:6} {n:>6} {b:>4} {g.num_edges:>7} {mode:>12} {rate:>14.3e} "
                        f"{per_edge:>9.2f}",
                        flush=True,
                    )


if __name__ == "__main__":
    main()
