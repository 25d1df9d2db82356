"""The two-state Markov interaction process, checked against a continuous-time simulation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import socialmarl as sm
from tests.reference_game import reference_step


def gillespie_steps(q: float, r: float, pairs: int, steps: int, seed: int):
    """Independent reference: exact continuous-time simulation with exponential holding times.

    Returns states at integer times (pairs, steps + 1) and whether each unit interval saw any
    time in the 'on' state (pairs, steps).
    """
    rng = np.random.default_rng(seed)
    states = np.zeros((pairs, steps + 1), dtype=bool)
    active = np.zeros((pairs, steps), dtype=bool)
    rate_on, rate_off = q * r, (1 - q) * r
    for p in range(pairs):
        on = rng.random() < q
        t = 0.0
        states[p, 0] = on
        nxt = t + rng.exponential(1 / (rate_off if on else rate_on))
        for k in range(steps):
            seen_on = on
            while nxt < k + 1:
                on = not on
                seen_on = seen_on or on
                nxt = nxt + rng.exponential(1 / (rate_off if on else rate_on))
            states[p, k + 1] = on
            active[p, k] = seen_on
    return states, active


@pytest.mark.parametrize("q,r", [(0.3, 0.5), (0.7, 2.0), (0.1, 0.2)])
def test_markov_matches_continuous_time(q, r):
    n = 120
    g = sm.complete_graph(n)  # 7140 pairs
    proc = sm.MarkovInteraction(g, torch.full((g.num_edges,), q), r)
    gen = torch.Generator().manual_seed(0)
    state = proc.initial_state(4, gen)
    states, actives = [state], []
    for _ in range(30):
        state, act = proc.step(state, gen)
        states.append(state)
        actives.append(act)
    s = torch.stack(states, -1).reshape(-1, 31).numpy()
    a = torch.stack(actives, -1).reshape(-1, 30).numpy()
    ref_s, ref_a = gillespie_steps(q, r, 3000, 30, seed=1)

    def stats(st, ac):
        prev, nxt = st[:, :-1], st[:, 1:]
        off_off = ~prev & ~nxt
        return {
            "on": st.mean(),
            "up": (nxt & ~prev).sum() / (~prev).sum(),
            "stay": (nxt & prev).sum() / prev.sum(),
            "hidden": (ac & off_off).sum() / off_off.sum(),
            "active": ac.mean(),
        }

    mine, ref = stats(s, a), stats(ref_s, ref_a)
    decay = math.exp(-r)
    closed = {
        "on": q,
        "up": q * (1 - decay),
        "stay": q + (1 - q) * decay,
        "hidden": 1 - math.exp(-q * r) / (1 - q * (1 - decay)),
    }
    for key, val in closed.items():
        assert abs(mine[key] - val) < 0.02, (key, mine[key], val)
        assert abs(ref[key] - val) < 0.03, (key, ref[key], val)  # the formulas are right
    assert abs(mine["active"] - ref["active"]) < 0.03


def test_switching_rate_recovered():
    q, r = 0.4, 0.8
    g = sm.complete_graph(80)
    proc = sm.MarkovInteraction(g, torch.full((g.num_edges,), q), r)
    gen = torch.Generator().manual_seed(3)
    state = proc.initial_state(8, gen)
    flips, prev_on = 0, 0
    for _ in range(50):
        new, _ = proc.step(state, gen)
        flips += int((state & ~new).sum())
        prev_on += int(state.sum())
        state = new
    p_down = flips / prev_on  # = (1 - q)(1 - e^-r)
    r_hat = -math.log(1 - p_down / (1 - q))
    assert abs(r_hat - r) < 0.05


def test_both_directions_share_a_state():
    g = sm.ring_graph(10)
    game = sm.ConsensusGame(
        g, num_envs=16, camp=sm.CampProcess(torch.full((g.num_edges,), 0.5), 1.0), seed=0
    )
    obs = game.reset()
    rev = g.reverse_edge()
    for _ in range(5):
        act = obs.edge_active
        assert torch.equal(act, act[:, rev])
        assert 0.2 < act.float().mean().item() < 0.95
        obs = game.step(torch.zeros(16, 10, dtype=torch.long)).obs


def test_dynamic_game_matches_reference():
    g = sm.erdos_renyi_graph(10, 0.5, seed=4)
    q = torch.rand(g.num_edges, generator=torch.Generator().manual_seed(0))
    q = torch.maximum(q, q[g.reverse_edge()])  # symmetric per pair
    game = sm.ConsensusGame(g, num_envs=3, alpha=0.4, camp=sm.CampProcess(q, 0.7), seed=5)
    obs = game.reset()
    edges = [tuple(e) for e in g.edge_index.T.tolist()]
    rng = np.random.default_rng(0)
    masks = []
    for _ in range(6):
        masks.append(obs.edge_active.clone())
        actions = rng.integers(0, 3, size=(3, 10))
        ref = reference_step(edges, 10, actions, game.truth.numpy(), obs.edge_active.numpy(),
                             np.full(3, 0.4))
        obs, reward, _, _ = game.step(torch.as_tensor(actions))
        np.testing.assert_allclose(reward.numpy(), ref["reward"], atol=1e-6)
    assert any(not torch.equal(masks[0], m) for m in masks[1:])  # edges change over time


def test_q_validation():
    g = sm.ring_graph(5)
    with pytest.raises(TypeError, match=r"camp=CampProcess\(q, rate\)"):
        sm.ConsensusGame(g, q=torch.full((g.num_edges,), 0.5))
    with pytest.raises(TypeError, match="must be a CampProcess"):
        sm.ConsensusGame(g, camp=torch.full((g.num_edges,), 0.5))
    with pytest.raises(ValueError, match="one q per edge"):  # checked when the game is built
        sm.ConsensusGame(g, camp=sm.CampProcess(torch.full((3,), 0.5), 1.0))
    with pytest.raises(ValueError, match="not a probability"):
        sm.MarkovInteraction(g, torch.full((g.num_edges,), 1.5), 1.0)
    with pytest.raises(ValueError, match="NaN"):
        sm.MarkovInteraction(g, torch.full((g.num_edges,), float("nan")), 1.0)
    with pytest.raises(ValueError, match="one q per edge"):
        sm.MarkovInteraction(g, torch.full((3,), 0.5), 1.0)
    with pytest.raises(ValueError, match="switching rate"):
        sm.MarkovInteraction(g, torch.full((g.num_edges,), 0.5), -1.0)
    asym = torch.full((g.num_edges,), 0.5)
    asym[0] = 0.9
    with pytest.raises(ValueError, match="both directions"):
        sm.MarkovInteraction(g, asym, 1.0)
