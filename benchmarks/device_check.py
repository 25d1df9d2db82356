"""The GPU check in one process: training throughput on cuda and the paper preset's time.

Run by ``benchmarks/device_check.sh`` (which first runs the CUDA tests). Prints one table:
the game alone, the trainer at N = 1000 with P = 1 and P = 11 alphas for a few updates
(every population in one ``StackedPolicy``) and its peak GPU memory per population, the
model's training pass for P = 11 stacked against a loop over ``AttentionPolicy`` modules
(what the trainer did before #14), and the ``paper`` preset's estimated time from the
measured trainer rate.
"""

from __future__ import annotations

import argparse
import time

import torch

import socialmarl as sm
from socialmarl.apps.reproduce import preset_agent_steps


def sync() -> None:
    torch.cuda.synchronize()


def game_rate(n: int, b: int, steps: int = 50) -> float:
    g = sm.barabasi_albert_graph(n, 7, seed=0)
    game = sm.ConsensusGame(g, num_envs=b, device="cuda", check_actions=False, seed=0)
    game.reset()
    acts = torch.randint(0, 3, (b, n), device="cuda")
    game.step(acts)
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        game.step(acts)
    sync()
    return steps * b * n / (time.perf_counter() - start)


def trainer_rate(n: int, alphas: list[float], envs: int, updates: int) -> float:
    torch.cuda.reset_peak_memory_stats()
    g = sm.barabasi_albert_graph(n, 7, seed=0)
    tr = sm.Trainer(g, alphas=alphas, envs_per_alpha=envs, num_updates=updates + 1,
                    device="cuda", progress=False)
    tr.train_update()  # warm-up (allocations, kernels)
    sync()
    start = time.perf_counter()
    for _ in range(updates):
        tr.train_update()
    sync()
    steps = updates * tr.config.episode_length * tr.game.num_envs * n
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("device_check: no CUDA device visible to torch")
    rows = [("GPU", torch.cuda.get_device_name(0)), ("torch", torch.__version__)]
    rows.append(("game, N=1000, B=1024 (agent-steps/s)", f"{game_rate(1000, 1024):.3g}"))
    one = trainer_rate(1000, [1.0], 32, args.updates)
    rows.append(("trainer, N=1000, P=1, 32 envs (agent-steps/s)", f"{one:.3g}"))
    alphas = [i / 10 for i in range(11)]
    eleven = trainer_rate(1000, alphas, 32, args.updates)
    rows.append(("trainer, N=1000, P=11, 32 envs each (agent-steps/s)", f"{eleven:.3g}"))
    rows.append(("trainer, N=1000, P=11: peak GPU memory per population (MB)",
                 f"{torch.cuda.max_memory_allocated() / 11 / 2**20:.0f}"))
    from bench_populations import bench  # the stacked model's training pass

    r = bench(1000, 11, 32, 20, "cuda", 3)
    rows.append(("stacked pass, N=1000, P=11 (agent-steps/s)", f"{r['stacked']:.3g}"))
    rows.append(("loop pass, N=1000, P=11 (agent-steps/s)", f"{r['loop']:.3g}"))
    steps = preset_agent_steps("paper")
    for net, n_steps in steps.items():
        rows.append((f"paper preset, {net}: agent-steps", f"{n_steps:.3g}"))
    total = sum(steps.values())
    rows.append(("paper preset, all networks: estimated hours at the P=11 rate",
                 f"{total / eleven / 3600:.1f}"))
    width = max(len(k) for k, _ in rows)
    print("\ndevice check")
    for k, v in rows:
        print(f"{k:<{width}}  {v}")


if __name__ == "__main__":
    main()
