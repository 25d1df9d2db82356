"""Throughput of AttentionPolicy: forward and forward + backward, in agent-steps per second.

Run:  python benchmarks/bench_policy.py [--device cpu|cuda] [--threads 2] [--dense]

One "agent-step" is one agent of one environment at one step, so a call on a
(B, N) observation is B * N agent-steps. Graphs are Barabasi-Albert (m = 7, undirected,
so E is about 14 N); the observation comes from a ConsensusGame with other-play and
percolation (p_perc = 0.9) after one step of random actions, so codes are mixed and an
edge mask is present, as in training. Each number is the median over ``--trials`` timing
trials of ``--repeat`` calls, which keeps it meaningful on a shared, busy machine. The
backward pass uses a PPO-like scalar loss
(log-softmax of the logits, squared value, belief cross-entropy).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from socialmarl.game.game import ConsensusGame
from socialmarl.learning.policy import AttentionPolicy
from socialmarl.networks.generators import barabasi_albert_graph


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(fn, device: torch.device, repeat: int, trials: int) -> float:
    """Median over ``trials`` of the mean time of ``repeat`` calls (robust to a busy host)."""
    fn()  # warm-up (builds and caches the edge structure)
    fn()
    out = []
    for _ in range(trials):
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(repeat):
            fn()
        _sync(device)
        out.append((time.perf_counter() - t0) / repeat)
    return statistics.median(out)


def bench(n: int, b: int, device: torch.device, repeat: int, trials: int, dense: bool) -> dict:
    """Time one configuration; returns a row of the table."""
    graph = barabasi_albert_graph(n, 7, seed=0)
    game = ConsensusGame(graph, num_envs=b, other_play=True, p_perc=0.9, device=device, seed=0)
    game.reset()
    gen = torch.Generator(device=device).manual_seed(0)
    obs = game.step(torch.randint(0, 3, (b, n), generator=gen, device=device)).obs
    obs = obs.to_agent_frame()
    policy = AttentionPolicy(n).to(device)
    h = policy.initial_state(b)
    target = torch.rand(b, n, device=device, generator=gen)

    def fwd() -> None:
        with torch.no_grad():
            policy(obs, h, dense=dense)

    def fwd_bwd() -> None:
        out = policy(obs, h, dense=dense)
        loss = (
            -out.logits.log_softmax(-1)[..., 0].mean()
            + out.value.pow(2).mean()
            + torch.nn.functional.binary_cross_entropy_with_logits(out.belief_logit, target)
        )
        policy.zero_grad(set_to_none=True)
        loss.backward()

    tf = _time(fwd, device, repeat, trials)
    tb = _time(fwd_bwd, device, repeat, trials)
    return {
        "N": n, "B": b, "E": graph.num_edges, "path": "dense" if dense else "sparse",
        "fwd_ms": tf * 1e3, "fwd_steps_s": b * n / tf,
        "fwdbwd_ms": tb * 1e3, "fwdbwd_steps_s": b * n / tb,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeat", type=int, default=10, help="calls per timing trial")
    ap.add_argument("--trials", type=int, default=7, help="trials; the median is reported")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--dense", action="store_true", help="also time the dense (B, N, N) path")
    args = ap.parse_args()
    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    configs = [(1000, 8), (100, 64)]
    rows = [bench(n, b, device, args.repeat, args.trials, False) for n, b in configs]
    if args.dense:
        rows += [bench(n, b, device, args.repeat, args.trials, True) for n, b in configs]
    print(f"device={device} torch={torch.__version__} threads={torch.get_num_threads()}")
    head = f"{'N':>6} {'B':>4} {'E':>7} {'path':>6} {'fwd ms':>8} {'fwd steps/s':>12} " \
           f"{'f+b ms':>8} {'f+b steps/s':>12}"
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['N']:>6} {r['B']:>4} {r['E']:>7} {r['path']:>6} {r['fwd_ms']:>8.2f} "
              f"{r['fwd_steps_s']:>12.3g} {r['fwdbwd_ms']:>8.2f} {r['fwdbwd_steps_s']:>12.3g}")


if __name__ == "__main__":
    main()
