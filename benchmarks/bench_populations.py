"""Populations as one model: StackedPolicy against a loop over AttentionPolicy modules.

Times the training pass of a PPO minibatch (forward over whole episodes, backward) for
``P`` populations of ``Bp`` environments each, one stacked model against ``P`` separate
modules called one after another (the trainer before #14), and prints agent-steps per
second and their ratio. This measures the model's part; bench_populations_train.py times
whole training updates of the trainer, which runs every population through StackedPolicy.

    python benchmarks/bench_populations.py                 # N = 100 and 1000, P = 1, 4, 11
    python benchmarks/bench_populations.py --agents 100 --populations 1 11 22
"""

from __future__ import annotations

import argparse
import platform
import time

import torch

import socialmarl as sm
from socialmarl.game.observation import Observation
from socialmarl.learning.population import StackedPolicy


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _episodes(n: int, envs: int, steps: int, device: str) -> Observation:
    g = sm.barabasi_albert_graph(n, 7, seed=0)
    game = sm.ConsensusGame(g, num_envs=envs, other_play=True, episode_length=steps, seed=0,
                            device=device, check_actions=False)
    obs, seq = game.reset(), []
    gen = torch.Generator(device=device).manual_seed(0)
    for _ in range(steps):
        seq.append(obs.to_agent_frame())
        obs = game.step(torch.randint(0, 3, (envs, n), generator=gen, device=device)).obs
    return Observation(torch.cat([o.signal for o in seq]), torch.cat([o.own_output for o in seq]),
                       None, torch.cat([o.t for o in seq]), torch.cat([o.flips for o in seq]),
                       seq[0].edge_index, True)


def _rows(obs: Observation, rows: torch.Tensor) -> Observation:
    return Observation(obs.signal[rows], obs.own_output[rows], None, obs.t[rows],
                       obs.flips[rows], obs.edge_index, True)


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def bench(n: int, p: int, bp: int, steps: int, device: str, repeats: int) -> dict:
    obs = _episodes(n, p * bp, steps, device)
    torch.manual_seed(0)
    pols = [sm.AttentionPolicy(n).to(device) for _ in range(p)]
    stacked = StackedPolicy.from_policies(pols)
    b = p * bp
    plan = stacked.attention_plan(obs)
    parts = [torch.cat([t * b + torch.arange(q * bp, (q + 1) * bp) for t in range(steps)])
             for q in range(p)]
    parts = [r.to(device) for r in parts]
    sliced = [(_rows(obs, r), plan.map(lambda x, r=r: x[r])) for r in parts]

    def run_stacked() -> None:
        out = stacked.forward_sequence(obs, steps, plan=plan)
        (out.logits.sum() + out.value.sum()).backward()

    def run_loop() -> None:
        for pol, (o, pl) in zip(pols, sliced):
            out = pol.forward_sequence(o, steps, plan=pl)
            (out.logits.sum() + out.value.sum()).backward()

    agent_steps = steps * b * n
    t_loop, t_stacked = _time(run_loop, repeats), _time(run_stacked, repeats)
    params = sum(w.numel() for w in stacked.parameters()) / p
    return {"N": n, "P": p, "loop": agent_steps / t_loop, "stacked": agent_steps / t_stacked,
            "ratio": t_loop / t_stacked, "params_per_pop": params}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--populations", type=int, nargs="+", default=[1, 4, 11])
    parser.add_argument("--envs", type=int, default=8, help="environments per population")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    print(f"# {_cpu()}, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {args.device}; Bp = {args.envs}, T = {args.steps}; best of {args.repeats}")
    print(f"{'N':>5} {'P':>3} {'loop steps/s':>13} {'stacked steps/s':>16} {'ratio':>6} "
          f"{'params/pop':>10}")
    for n in args.agents:
        for p in args.populations:
            r = bench(n, p, args.envs, args.steps, args.device, args.repeats)
            print(f"{r['N']:>5} {r['P']:>3} {r['loop']:>13.3g} {r['stacked']:>16.3g} "
                  f"{r['ratio']:>6.2f} {r['params_per_pop']:>10.0f}")


if __name__ == "__main__":
    main()
