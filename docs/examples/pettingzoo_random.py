"""Roll the consensus game out through the PettingZoo adapter with a random policy.

Every agent samples its action from its own action space at every step; the script prints
the accuracy at the final step of each episode (the share of agents whose last guess is
the truth; a wait counts as wrong) and the mean. A random population sits near 0.5 without
wait and near 1/3 with it, against 0.69 for agents that follow their own signal (karate
club, sigma = 1). Any PettingZoo learner plugs in where ``policy`` is.

Run it with ``python docs/examples/pettingzoo_random.py --network karate_club --episodes 5``
(needs ``pip install "socialmarl[pettingzoo]"``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np

import socialmarl as sm
from socialmarl.adapters.pettingzoo_env import ConsensusParallelEnv


def random_rollout(
    network: str = "karate_club",
    *,
    episodes: int = 5,
    episode_length: int = 20,
    alpha: float = 1.0,
    allow_wait: bool = True,
    seed: int = 0,
    policy: Callable[[ConsensusParallelEnv, str, np.ndarray], Any] | None = None,
) -> list[float]:
    """Final-step accuracy of each of ``episodes`` episodes played by ``policy``.

    Parameters
    ----------
    network : str
        Anything :func:`socialmarl.load_network` reads (``"karate_club"``,
        ``"camp_sample"``, ``"bluesky_sample"``, a path); a dynamic camp plays its camp
        process.
    episodes, episode_length : int
        How many episodes, of how many steps.
    alpha : float
        Weight of the truth reward (1 - alpha: conformity).
    allow_wait : bool
        Whether agents may wait.
    seed : int
        Seeds the game (first reset) and the agents' action spaces.
    policy : callable, optional
        ``policy(env, agent, observation) -> action``; default a uniformly random action.

    Returns
    -------
    list of float
        The accuracy at the last step of each episode.

    Examples
    --------
    >>> acc = random_rollout(episodes=2, episode_length=3)
    >>> len(acc), all(0.0 <= a <= 1.0 for a in acc)
    (2, True)
    """
    env = ConsensusParallelEnv(sm.load_network(network), episode_length=episode_length,
                               alpha=alpha, allow_wait=allow_wait)
    if policy is None:
        def policy(env: ConsensusParallelEnv, agent: str, obs: np.ndarray) -> Any:
            return env.action_space(agent).sample()
    final = []
    for episode in range(episodes):
        obs, infos = env.reset(seed=seed if episode == 0 else None)
        if episode == 0:
            for i, agent in enumerate(env.possible_agents):
                env.action_space(agent).seed(seed + i)
        while env.agents:
            actions = {a: policy(env, a, obs[a]) for a in env.agents}
            obs, rewards, terminations, truncations, infos = env.step(actions)
        final.append(next(iter(infos.values()))["accuracy"])
    env.close()
    return final


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network", default="karate_club")
    parser.add_argument("--episodes", type=int, default=5)
    parser.add_argument("--episode-length", type=int, default=20)
    parser.add_argument("--alpha", type=float, default=1.0)
    parser.add_argument("--no-wait", action="store_true", help="switch the wait action off")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    acc = random_rollout(args.network, episodes=args.episodes,
                         episode_length=args.episode_length, alpha=args.alpha,
                         allow_wait=not args.no_wait, seed=args.seed)
    for i, a in enumerate(acc):
        print(f"episode {i}: final accuracy {a:.3f}")
    print(f"random policy on {args.network}: mean final accuracy {np.mean(acc):.3f} "
          f"over {len(acc)} episodes")


if __name__ == "__main__":
    main()
