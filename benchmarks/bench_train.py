"""Training benchmark: does a population learn, and how fast does training run?

1. Learning: a Barabasi-Albert population of N = 100 (m = 7) at alpha = 1 is trained with
   the default recipe and evaluated on 256 fresh episodes; the table reports the
   final-step accuracy (goal: at least 0.9; following one's own signal gives about 0.69),
   the wall time and the training throughput.
2. Throughput: agent-steps per second of whole PPO updates (rollout + 4 epochs) at
   N = 1000 (and N = 100) for a few updates, on cpu and on cuda when present. On the CPU
   each cell is measured with glibc's default allocator settings and with
   ``sm.retain_freed_memory()`` (as ``socialmarl train`` runs), alternating, and the
   better of two rounds is reported.

    python benchmarks/bench_train.py                 # both parts
    python benchmarks/bench_train.py --skip-learning # throughput only
"""

from __future__ import annotations

import argparse
import time

import torch

import socialmarl as sm
from socialmarl.learning.trainer import Trainer


def learning(device: str, updates: int, envs: int) -> dict:
    g = sm.barabasi_albert_graph(100, 7, seed=0)
    start = time.perf_counter()
    tr = Trainer(g, alphas=[1.0], envs_per_alpha=envs, num_updates=updates, num_minibatches=4,
                 device=device, seed=0, progress=True)
    log = tr.train()
    wall = time.perf_counter() - start
    rec = sm.evaluate(tr.policies[0], g, alpha=1.0, episodes=256, device=device, seed=99)
    s = rec.summary()
    steps = int(log["agent_steps"].iloc[-1])
    return {"final_accuracy": s["final_accuracy"], "signal_accuracy": s["signal_accuracy"],
            "wall_s": wall, "agent_steps": steps, "sps": steps / wall}


def throughput(n: int, envs: int, device: str, updates: int) -> float:
    g = sm.barabasi_albert_graph(n, 7, seed=0)
    tr = Trainer(g, alphas=[1.0], envs_per_alpha=envs, num_updates=updates + 1,
                 num_minibatches=min(4, envs), update_epochs=4, device=device, progress=False)
    tr.train_update()  # warm-up
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(updates):
        tr.train_update()
    if device == "cuda":
        torch.cuda.synchronize()
    steps = updates * tr.config.episode_length * tr.game.num_envs * n
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-learning", action="store_true")
    parser.add_argument("--updates", type=int, default=150, help="updates of the N=100 run")
    parser.add_argument("--envs", type=int, default=32, help="environments of the N=100 run")
    args = parser.parse_args()
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    if not args.skip_learning:
        for dev in devices:
            r = learning(dev, args.updates, args.envs)
            print(f"\nlearning, BA N=100 m=7 alpha=1, {args.updates} updates x {args.envs} envs "
                  f"on {dev}")
            print(f"{'final acc':>10} {'signal acc':>10} {'wall s':>8} {'agent-steps':>12} "
                  f"{'steps/s':>10}")
            print(f"{r['final_accuracy']:>10.3f} {r['signal_accuracy']:>10.3f} "
                  f"{r['wall_s']:>8.1f} {r['agent_steps']:>12d} {r['sps']:>10.3e}")
    print("\ntraining throughput (rollout + 4 PPO epochs), BA m=7, alpha=1, agent-steps/s")
    print(f"{'device':6} {'N':>6} {'envs':>5} {'default':>10} {'kept mem':>10}")
    for dev in devices:
        cells = [(100, 32), (1000, 8), (1000, 32)]
        if dev == "cuda":
            cells += [(1000, 128), (10000, 16)]
        for n, envs in cells:
            if dev == "cpu":
                best = {False: 0.0, True: 0.0}
                for _round in range(2):
                    for keep in (False, True):
                        sm.retain_freed_memory(keep)
                        best[keep] = max(best[keep], throughput(n, envs, dev, updates=3))
                sm.retain_freed_memory(False)
                print(f"{dev:6} {n:>6} {envs:>5} {best[False]:>10.3e} {best[True]:>10.3e}",
                      flush=True)
            else:
                sps = throughput(n, envs, dev, updates=3)
                print(f"{dev:6} {n:>6} {envs:>5} {sps:>10.3e} {'':>10}", flush=True)


if __name__ == "__main__":
    main()
