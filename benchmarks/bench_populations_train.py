"""Training P populations: the stacked trainer against a loop over populations.

Times ``Trainer.train_update()`` (one rollout and its PPO epochs) for ``P`` populations of
``--envs`` environments each on BA(N, 7), and prints agent-steps per second, the ratio to a
baseline and the peak memory per population. Every cell runs in a fresh process, and the
checkouts alternate round by round so that both see the same machine state; the best
round counts.

The baseline is another checkout of socialmarl given by ``--baseline``: the trainer before
populations were stacked (commit b0b39f1, which loops over one ``AttentionPolicy`` module
per population inside one batched game) measures what issue #14 asks for:

    git worktree add /tmp/loop b0b39f1
    python benchmarks/bench_populations_train.py --baseline /tmp/loop
    python benchmarks/bench_populations_train.py --agents 100 --populations 1 11 --rounds 3

Without ``--baseline`` only this checkout is timed. The populations get distinct alphas
(``linspace(0, 1, P)``; ``[1.0]`` for one), as the baseline needs. Memory is the process's
peak resident set (CPU) or ``torch.cuda.max_memory_allocated`` (cuda), divided by ``P``;
on the CPU it includes the interpreter and torch (about 0.3 GB), so it overstates the
per-population cost at small ``P``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from bench_populations import _cpu  # this folder is on sys.path when run as a script

HERE = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, resource, sys, time
import numpy as np, torch
import socialmarl as sm
from socialmarl.learning.trainer import Trainer
a = json.loads(sys.argv[1])
torch.set_num_threads(a["threads"])
if a["retain"]:
    sm.retain_freed_memory()
g = sm.barabasi_albert_graph(a["n"], 7, seed=0)
p = a["p"]
alphas = [1.0] if p == 1 else [round(float(x), 6) for x in np.linspace(0, 1, p)]
tr = Trainer(g, alphas=alphas, envs_per_alpha=a["envs"], num_updates=a["updates"] + 1,
             num_minibatches=min(4, a["envs"]), update_epochs=4, device=a["device"],
             progress=False, seed=0)
cuda = a["device"].startswith("cuda")
tr.train_update()  # warm-up
if cuda:
    torch.cuda.synchronize()
best = float("inf")
for _ in range(a["updates"]):
    start = time.perf_counter()
    tr.train_update()
    if cuda:
        torch.cuda.synchronize()
    best = min(best, time.perf_counter() - start)
steps = tr.config.episode_length * tr.game.num_envs * a["n"]
mem = (torch.cuda.max_memory_allocated() if cuda
       else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
print(json.dumps({"sps": steps / best, "update_s": best, "mem": mem}))
"""


def run_cell(src: Path, args: dict) -> dict:
    """Time one cell in a fresh process that imports socialmarl from ``src``."""
    env = dict(os.environ, PYTHONPATH=str(src))
    out = subprocess.run([sys.executable, "-c", CHILD, json.dumps(args)], env=env,
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"cell {args} from {src} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--populations", type=int, nargs="+", default=[1, 4, 11, 22])
    parser.add_argument("--envs", type=int, default=8, help="environments per population")
    parser.add_argument("--updates", type=int, default=2, help="timed updates per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="a checkout of the loop trainer, e.g. a worktree of b0b39f1")
    parser.add_argument("--default-allocator", action="store_true",
                        help="do not call sm.retain_freed_memory() (socialmarl train does)")
    a = parser.parse_args()
    if a.baseline is not None and not (a.baseline / "socialmarl").is_dir():
        parser.error(f"--baseline {a.baseline}: no socialmarl package there; give a checkout")
    sources = {"stacked": HERE}
    if a.baseline is not None:
        sources = {"loop": a.baseline.resolve(), "stacked": HERE}
    print(f"{_cpu()}, {a.threads} threads, device {a.device}, {a.envs} envs per population, "
          f"best of {a.rounds} rounds x {a.updates} updates"
          + ("" if a.default_allocator else ", retain_freed_memory on"))
    head = ["N", "P"] + [f"{k} agent-steps/s" for k in sources]
    head += (["stacked / loop"] if "loop" in sources else [])
    head += [f"{k} MB per population" for k in sources]
    print(" | ".join(head))
    for n in a.agents:
        for p in a.populations:
            cell = {"n": n, "p": p, "envs": a.envs, "updates": a.updates, "device": a.device,
                    "threads": a.threads, "retain": not a.default_allocator}
            best: dict[str, dict] = {}
            for r in range(a.rounds):
                order = list(sources) if r % 2 == 0 else list(reversed(sources))
                for name in order:
                    res = run_cell(sources[name], cell)
                    if name not in best or res["sps"] > best[name]["sps"]:
                        best[name] = res
            row = [str(n), str(p)] + [f"{best[k]['sps']:.3g}" for k in sources]
            if "loop" in sources:
                row.append(f"{best['stacked']['sps'] / best['loop']['sps']:.2f}x")
            row += [f"{best[k]['mem'] / p / 2**20:.0f}" for k in sources]
            print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
