"""Other-play: frames map back exactly, signal-grounded play is unaffected, label
conventions lose their conformity reward."""

from __future__ import annotations

import torch

import socialmarl as sm


def play(game: sm.ConsensusGame, policy, episodes: int = 3) -> dict[str, float]:
    obs = game.reset()
    total_conf, total_truth, total = 0.0, 0.0, 0.0
    for _ in range(episodes * game.config.episode_length):
        own = obs.to_agent_frame()
        actions = sm.to_env_actions(policy(own), own.flips)
        obs, reward, _, info = game.step(actions)
        total += reward.mean().item()
        total_conf += info["conformity_reward"].mean().item()
        total_truth += info["truth_reward"].mean().item()
    return {"reward": total, "conformity": total_conf, "truth": total_truth}


def follow_signal(own: sm.Observation) -> torch.Tensor:
    return (own.signal > 0.5).long()


def always_one(own: sm.Observation) -> torch.Tensor:
    return torch.ones_like(own.own_output)


def test_signal_follower_earns_the_same_with_and_without_flips():
    g = sm.barabasi_albert_graph(40, 3, seed=0)
    res = [
        play(sm.ConsensusGame(g, num_envs=32, alpha=0.5, other_play=op, seed=7), follow_signal)
        for op in (False, True)
    ]
    # Same seed: flips come from their own random stream, so truths and noise are drawn
    # identically and a policy grounded in its own signal earns exactly the same.
    assert abs(res[0]["truth"] - res[1]["truth"]) < 1e-6
    assert abs(res[0]["conformity"] - res[1]["conformity"]) < 1e-6


def test_label_convention_loses_its_conformity_reward_under_flips():
    g = sm.barabasi_albert_graph(40, 3, seed=0)
    plain = play(sm.ConsensusGame(g, num_envs=32, alpha=0.0, seed=3), always_one)
    flipped = play(sm.ConsensusGame(g, num_envs=32, alpha=0.0, other_play=True, seed=3), always_one)
    steps = 3 * 20
    assert abs(plain["conformity"] / steps - 0.1) < 1e-6  # everyone agrees: +0.1 each step
    # Under flips a neighbour agrees half the time: 0.5 * 0.1 + 0.5 * (-0.2) = -0.05.
    assert abs(flipped["conformity"] / steps + 0.05) < 0.01


def test_frames_map_back_exactly():
    g = sm.erdos_renyi_graph(15, 0.3, directed=True, seed=2)
    game = sm.ConsensusGame(g, num_envs=6, other_play=True, p_perc=0.7, seed=1)
    obs = game.reset()
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        obs = game.step(torch.randint(0, 3, (6, 15), generator=gen)).obs
    own = obs.to_agent_frame()
    flips = obs.flips
    assert flips.any() and (~flips).any()
    # Signals: 1 - x where flipped, unchanged elsewhere; flipping again restores them.
    assert torch.allclose(torch.where(flips, 1 - own.signal, own.signal), obs.signal)
    # Edge codes: receiver i sees the sender's env-label guess swapped iff i is flipped.
    dst = obs.edge_index[1]
    assert torch.equal(sm.flip_codes(own.edge_codes, flips[:, dst]), obs.edge_codes)
    assert torch.equal(own.neighbour_outputs(), obs.own_output)
    # Actions: to_env_actions is its own inverse and leaves wait alone.
    a = torch.randint(0, 3, (6, 15), generator=gen)
    env_a = sm.to_env_actions(a, flips)
    assert torch.equal(sm.to_env_actions(env_a, flips), a)
    assert torch.equal(env_a == sm.WAIT, a == sm.WAIT)
    # A flipped agent choosing "my signal says 1" reaches the env as the guess matching x.
    dense = own.dense()
    idx = torch.arange(15)
    assert torch.equal(dense[:, idx, idx], own.own_output)


def test_flip_bits_redrawn_each_reset_and_balanced():
    game = sm.ConsensusGame(sm.ring_graph(50), num_envs=40, other_play=True, episode_length=2)
    first = game.reset().flips.clone()
    assert abs(first.float().mean().item() - 0.5) < 0.05
    game.step(torch.zeros(40, 50, dtype=torch.long))
    second = game.step(torch.zeros(40, 50, dtype=torch.long)).obs.flips
    assert not torch.equal(first, second)
    import pytest

    with pytest.raises(ValueError, match="already in the agents' frames"):
        game.observation().to_agent_frame().to_agent_frame()
