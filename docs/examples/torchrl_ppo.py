"""TorchRL's own PPO learns the consensus game: karate club, alpha = 1, no wait.

TorchRL's collector, GAE and clipped PPO loss train one shared per-agent MLP on
:class:`socialmarl.adapters.ConsensusTorchRLEnv` (see
:func:`socialmarl.adapters.train_torchrl_ppo`), then the greedy policy plays fresh episodes
beside "follow your own signal" (final accuracy 0.69)::

    pip install "socialmarl[torchrl]"
    python docs/examples/torchrl_ppo.py                  # about 10 s on one CPU thread
    python docs/examples/torchrl_ppo.py --iterations 60 --steps 20 --envs 32
"""

from __future__ import annotations

import argparse

from socialmarl.adapters import train_torchrl_ppo
from socialmarl.networks.resolve import load_network


def main(argv: list[str] | None = None) -> None:
    """Parse the options, train, and print the final accuracy against the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graph", default="karate_club",
                        help="a network name or file (karate_club)")
    parser.add_argument("--alpha", type=float, default=1.0, help="truth weight (1.0)")
    parser.add_argument("--iterations", type=int, default=30, help="PPO rounds (30)")
    parser.add_argument("--envs", type=int, default=16, help="episodes per round (16)")
    parser.add_argument("--steps", type=int, default=10, help="episode length T (10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (1)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    out = train_torchrl_ppo(
        load_network(args.graph), alpha=args.alpha, allow_wait=False, num_envs=args.envs,
        episode_length=args.steps, iterations=args.iterations, seed=args.seed,
        threads=args.threads, device=args.device, verbose=True,
    )
    print(f"final-step accuracy on fresh episodes: {out.accuracy:.3f} "
          f"(follow your own signal: {out.baseline:.3f}); "
          f"{out.frames} environment steps in {out.seconds:.1f} s of training")


if __name__ == "__main__":
    main()
