"""GAE and the PPO losses against hand computations."""

from __future__ import annotations

import torch

from socialmarl.learning.ppo import compute_gae, ppo_losses


def test_gae_matches_hand_computation():
    gamma, lam = 0.9, 0.8
    r = torch.tensor([1.0, 0.0, 2.0, 1.0])
    v = torch.tensor([0.5, 0.4, 1.0, 0.2])
    done = torch.tensor([False, True, False, False])
    last = torch.tensor(0.7)
    # by hand, backwards; the episode ends after step 1, so step 1 does not bootstrap
    d3 = 1.0 + gamma * 0.7 - 0.2
    d2 = 2.0 + gamma * 0.2 - 1.0
    d1 = 0.0 - 0.4
    d0 = 1.0 + gamma * 0.4 - 0.5
    a3 = d3
    a2 = d2 + gamma * lam * a3
    a1 = d1
    a0 = d0 + gamma * lam * a1
    adv, ret = compute_gae(r, v, done, last, gamma, lam)
    torch.testing.assert_close(adv, torch.tensor([a0, a1, a2, a3]))
    torch.testing.assert_close(ret, adv + v)


def test_gae_batched_equals_per_agent():
    g = torch.Generator().manual_seed(0)
    r, v = torch.randn(6, 3, 4, generator=g), torch.randn(6, 3, 4, generator=g)
    done = torch.rand(6, 3, generator=g) < 0.3
    last = torch.randn(3, 4, generator=g)
    adv, _ = compute_gae(r, v, done, last, 0.99, 0.95)
    for b in range(3):
        for n in range(4):
            a1, _ = compute_gae(r[:, b, n], v[:, b, n], done[:, b], last[b, n], 0.99, 0.95)
            torch.testing.assert_close(adv[:, b, n], a1)


def test_clipped_surrogate():
    adv = torch.tensor([1.0, -1.0])
    old = torch.zeros(2)
    new = torch.log(torch.tensor([1.5, 0.5]))  # ratios 1.5 and 0.5, both outside 0.2
    out = ppo_losses(new, old, adv, torch.zeros(2), torch.zeros(2), torch.zeros(2), 0.2)
    # max(-A r, -A clip(r)): first -> -1.2, second -> max(0.5, 0.8) = 0.8
    assert abs(float(out["policy"]) - (-1.2 + 0.8) / 2) < 1e-6
    assert float(out["clipfrac"]) == 1.0
