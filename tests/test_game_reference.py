"""The batched game against the slow NumPy reference, on random graphs and actions."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import socialmarl as sm
from tests.reference_game import reference_dense, reference_edge_codes, reference_step


def random_graph(n: int, p: float, seed: int) -> sm.Graph:
    rng = np.random.default_rng(seed)
    m = rng.random((n, n)) < p
    np.fill_diagonal(m, False)
    m[0, :] = False  # agent 0 observes nobody: an isolated receiver
    i, j = np.nonzero(m)  # i observes j
    return sm.Graph(n, np.stack([j, i]), name="random")


def edges_of(graph: sm.Graph) -> list[tuple[int, int]]:
    return [tuple(e) for e in graph.edge_index.T.tolist()]


CASES = [
    dict(alpha=0.3),
    dict(alpha=[0.0, 0.25, 0.5, 1.0]),
    dict(alpha=0.6, p_perc=0.5),
    dict(alpha=0.2, p_signal=0.5, experts=[1, 2]),
    dict(alpha=0.5, reward_right=1.0, reward_wrong=-1.0),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_step_matches_reference(case):
    kwargs = CASES[case]
    g = random_graph(12, 0.3, seed=case)
    game = sm.ConsensusGame(g, num_envs=4, episode_length=5, seed=case, **kwargs)
    obs = game.reset()
    edges = edges_of(game.graph)
    rng = np.random.default_rng(100 + case)
    alpha = game.alpha.numpy().astype(np.float64)
    prev = np.full((4, 12), 2)
    for step in range(12):  # crosses two automatic resets
        active = None if obs.edge_active is None else obs.edge_active.numpy()
        ref_codes = reference_edge_codes(edges, prev, active)
        np.testing.assert_array_equal(obs.edge_codes.numpy(), ref_codes)
        np.testing.assert_array_equal(obs.dense().numpy(), reference_dense(12, edges, prev, active))
        actions = rng.integers(0, 3, size=(4, 12))
        if step == 3:
            actions[:] = 2  # everybody waits
        truth = game.truth.numpy().copy()
        ref = reference_step(
            edges, 12, actions, truth, active, alpha,
            game.config.reward_right, game.config.reward_wrong,
        )
        obs, reward, done, info = game.step(torch.as_tensor(actions))
        np.testing.assert_allclose(reward.numpy(), ref["reward"], atol=1e-6)
        for key in ("truth_reward", "conformity_reward", "accuracy", "entropy", "agreement"):
            np.testing.assert_allclose(info[key].numpy(), ref[key], atol=1e-6, err_msg=key)
        np.testing.assert_array_equal(info["truth"].numpy(), truth)
        ended = (step + 1) % 5 == 0
        assert done.tolist() == [ended] * 4
        prev = np.full((4, 12), 2) if ended else actions


def test_signals_follow_the_rules():
    g = sm.ring_graph(50)
    game = sm.ConsensusGame(g, num_envs=400, sigma=0.5, p_signal=0.7, experts=[3], seed=1)
    obs = game.reset()
    truth = game.truth.float()[:, None]
    sig = obs.signal
    no_signal = sig == 0.5
    assert not no_signal[:, 3].any()
    assert torch.allclose(sig[:, 3], truth[:, 0])
    frac = no_signal.float().mean().item()
    assert abs(frac - 0.3) < 0.02  # 1 - p_signal (20,000 draws)
    noise = (sig - truth)[~no_signal]
    noise = noise[noise.abs() > 0]  # drop the expert's exact signal
    assert abs(noise.std().item() - 0.5) < 0.02
    assert abs(noise.mean().item()) < 0.02
    assert abs(game.truth.float().mean().item() - 0.5) < 0.08


def test_percolation_rate_and_persistence():
    g = sm.barabasi_albert_graph(60, 3, seed=0)
    game = sm.ConsensusGame(g, num_envs=64, p_perc=0.3, episode_length=4, seed=2)
    obs = game.reset()
    mask = obs.edge_active.clone()
    assert abs(mask.float().mean().item() - 0.3) < 0.02
    for _ in range(3):  # fixed within the episode
        obs = game.step(torch.zeros(64, 60, dtype=torch.long)).obs
        assert torch.equal(obs.edge_active, mask)
    obs = game.step(torch.zeros(64, 60, dtype=torch.long)).obs
    assert not torch.equal(obs.edge_active, mask)  # redrawn at reset


def test_no_wait_mode_rejects_wait():
    game = sm.ConsensusGame(sm.ring_graph(4), allow_wait=False)
    game.reset()
    assert game.num_actions == 2
    with pytest.raises(ValueError, match="wait is off"):
        game.step(torch.full((1, 4), 2))


def test_partial_reset_keeps_other_envs():
    game = sm.ConsensusGame(sm.ring_graph(6), num_envs=3, episode_length=5, seed=0)
    game.reset()
    game.step(torch.ones(3, 6, dtype=torch.long))
    before = {k: v.clone() for k, v in game.state.items()}
    obs = game.reset(mask=torch.tensor([False, True, False]))
    assert obs.t.tolist() == [1, 0, 1]
    assert torch.equal(game.state["signal"][[0, 2]], before["signal"][[0, 2]])
    assert (obs.own_output[1] == sm.WAIT).all() and (obs.own_output[0] == 1).all()
    # env 1 now ends one step after the others
    dones = [game.step(torch.zeros(3, 6, dtype=torch.long)).done.tolist() for _ in range(5)]
    assert dones[3] == [True, False, True] and dones[4] == [False, True, False]
