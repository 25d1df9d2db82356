"""Node-updates per second of socialmarl's voter, Deffuant and HK rules, beside NDlib.

Graph: ``barabasi_albert_graph(1000, 7, seed=0)`` (undirected, 13,902 directed edges), the
same graph (via ``Graph.to_networkx``) for NDlib.

What one *update* is (the same on both sides, following NDlib's iteration semantics):

* voter: one agent copies one random neighbour. NDlib ``VoterModel.iteration()`` = 1
  update; a socialmarl step = N micro-steps = N updates per replica.
* Deffuant: one pairwise interaction (a random agent, then a random neighbour; both move
  by mu = 0.5 when closer than epsilon = 0.3). NDlib ``AlgorithmicBiasModel`` with
  gamma = 0 does N interactions per iteration; socialmarl ``Deffuant(0.3, 0.5,
  selection="node")`` does N per step and replica.
* HK: one agent's average over its confidence neighbourhood (epsilon = 0.3). NDlib
  ``HKModel.iteration()`` evaluates N random agents (and, in NDlib 6.0.1, keeps only the
  last evaluation); socialmarl ``HegselmannKrause(0.3)`` updates all N agents per step.

NDlib is not a dependency. Install it into its own environment, with socialmarl beside it:

    python3 -m venv /work/venv-ndlib
    /work/venv-ndlib/bin/pip install ndlib "torch==2.13.0" numpy networkx scipy pandas \\
        six scikit-learn      # six and scikit-learn: imports NDlib 6.0.1 needs
    /work/venv-ndlib/bin/pip install -e /work/main --no-deps

then run either

    /work/venv-ndlib/bin/python benchmarks/bench_rules.py             # one process
    python benchmarks/bench_rules.py --ndlib-python /work/venv-ndlib/bin/python

Without NDlib the NDlib columns read "not installed". ``--quick`` is a short smoke run.
Timings are medians of ``--repeats`` runs, single-threaded by default (``--threads``),
since NDlib is single-threaded Python.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

import torch

from socialmarl.common.config_io import save_json
from socialmarl.networks.generators import barabasi_albert_graph
from socialmarl.rules import Deffuant, HegselmannKrause, Voter, simulate

RULE_NAMES = ("voter", "deffuant", "hk")
DEFINITION = {
    "voter": "1 agent copies 1 neighbour",
    "deffuant": "1 pairwise interaction",
    "hk": "1 agent averages its bounded neighbourhood",
}
N, M, EPS = 1000, 7, 0.3


def graph():
    return barabasi_albert_graph(N, M, seed=0)


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def socialmarl_rate(name: str, replicas: int, device: str, budget: float, repeats: int) -> float:
    """Median node-updates per second of one rule at ``replicas`` replicas."""
    rule = {
        "voter": Voter(),
        "deffuant": Deffuant(epsilon=EPS, mu=0.5, selection="node"),
        "hk": HegselmannKrause(epsilon=EPS),
    }[name]
    g = graph().to(device)
    dev = torch.device(device)
    gen = torch.Generator(device=dev).manual_seed(0)
    if name == "voter":
        x0 = (torch.rand(replicas, N, generator=gen, device=dev) < 0.5).long()
    else:  # NDlib's ranges: [0, 1] for algorithmic bias, [-1, 1] for HK
        x0 = torch.rand(replicas, N, generator=gen, device=dev)
        if name == "hk":
            x0 = 2 * x0 - 1
    # calibrate the number of steps to about ``budget`` seconds per run
    t = time.perf_counter()
    simulate(rule, g, 1, replicas, seed=0, device=dev, initial=x0)
    sync(dev)
    per_step = max(time.perf_counter() - t, 1e-5)
    steps = int(min(max(budget / per_step, 1), 2000))
    rates = []
    for k in range(repeats):
        sync(dev)
        t = time.perf_counter()
        simulate(rule, g, steps, replicas, seed=k, device=dev, initial=x0)
        sync(dev)
        rates.append(steps * replicas * N / (time.perf_counter() - t))
    return statistics.median(rates)


def ndlib_rates(budget: float, repeats: int) -> dict[str, Any]:
    """Median node-updates per second of the three NDlib models, or why there are none."""
    try:
        import warnings

        warnings.filterwarnings("ignore")
        import ndlib
        import ndlib.models.ModelConfig as mc
        import ndlib.models.opinions as op
        import numpy as np
    except Exception as exc:  # ImportError, or a missing NDlib dependency
        return {"error": f"not installed ({type(exc).__name__}: {exc})"}
    nxg = graph().to_networkx()
    spec = {
        "voter": (op.VoterModel, {"fraction_infected": 0.5}, 1),
        "deffuant": (op.AlgorithmicBiasModel, {"epsilon": EPS, "gamma": 0}, N),
        "hk": (op.HKModel, {"epsilon": EPS}, N),
    }
    try:
        from importlib.metadata import version

        ver = version("ndlib")
    except Exception:
        ver = getattr(ndlib, "__version__", "unknown")
    out: dict[str, Any] = {"version": ver}
    for name, (cls, params, per_iteration) in spec.items():
        rates = []
        for k in range(repeats):
            np.random.seed(k)
            model = cls(nxg)
            cfg = mc.Configuration()
            for key, v in params.items():
                cfg.add_model_parameter(key, v)
            model.set_initial_status(cfg)
            model.iteration(node_status=False)  # iteration 0 only reports the initial state
            t = time.perf_counter()
            its = 0
            while time.perf_counter() - t < budget:
                model.iteration(node_status=False)
                its += 1
            rates.append(its * per_iteration / (time.perf_counter() - t))
        out[name] = statistics.median(rates)
    return out


def ndlib_in(python: str, budget: float, repeats: int) -> dict[str, Any]:
    """Run the NDlib half of this script in another interpreter (its own venv)."""
    cmd = [python, os.path.abspath(__file__), "--ndlib-only", "--budget", str(budget),
           "--repeats", str(repeats)]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=3600)
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": f"not installed ({python}: {exc})"}
    return json.loads(res.stdout.strip().splitlines()[-1])


def fmt(v: Any) -> str:
    if not isinstance(v, float):
        return str(v)
    return f"{v / 1e6:.2f}M" if v >= 1e6 else f"{v / 1e3:.1f}k"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 64, 1024])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per timed run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="short runs (smoke test)")
    parser.add_argument("--ndlib-python", help="interpreter of a venv that has NDlib")
    parser.add_argument("--ndlib-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        args.budget, args.repeats = 0.2, 1
    if args.ndlib_only:
        print(json.dumps(ndlib_rates(args.budget, args.repeats)))
        return
    nd = ndlib_rates(args.budget, args.repeats)
    if "error" in nd and args.ndlib_python:
        nd = ndlib_in(args.ndlib_python, args.budget, args.repeats)
    ours = {
        name: {r: socialmarl_rate(name, r, args.device, args.budget, args.repeats)
               for r in args.replicas}
        for name in RULE_NAMES
    }
    missing = nd.get("error", "")
    print(f"# socialmarl rules vs NDlib {nd.get('version', '')}: BA(n={N}, m={M}, seed=0), "
          f"device={args.device}, torch {torch.__version__}, {args.threads} thread(s), "
          f"{platform.processor() or platform.machine()}, load {os.getloadavg()[0]:.2f}")
    if missing:
        print(f"# NDlib: {missing}")
    head = ["rule", "update"] + [f"socialmarl R={r}" for r in args.replicas] + ["NDlib"]
    head += [f"ratio R={r}" for r in args.replicas]
    rows = []
    for name in RULE_NAMES:
        ref = nd.get(name)
        row = [name, DEFINITION[name]] + [fmt(ours[name][r]) for r in args.replicas]
        row.append(fmt(ref) if ref is not None else "not installed")
        for r in args.replicas:
            row.append(f"{ours[name][r] / ref:.0f}x" if ref else "not installed")
        rows.append(row)
    widths = [max(len(h), *(len(row[k]) for row in rows)) for k, h in enumerate(head)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(head, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |")
    print("(node-updates per second; k = 1e3, M = 1e6; ratio = socialmarl / NDlib)")
    if args.json:
        save_json(args.json, {
            "graph": f"barabasi_albert_graph({N}, {M}, seed=0)",
            "device": args.device, "threads": args.threads, "torch": torch.__version__,
            "python": sys.version.split()[0], "ndlib": nd,
            "socialmarl": {k: {str(r): v for r, v in d.items()} for k, d in ours.items()},
        })


if __name__ == "__main__":
    main()
