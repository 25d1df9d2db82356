"""Determinism, devices, bad input, isolated agents and self loops."""

from __future__ import annotations

import json

import pytest
import torch

import socialmarl as sm
from socialmarl.common.config_io import config_from_dict, config_to_dict


def rollout(game: sm.ConsensusGame, steps: int, seed: int = 0) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    obs = game.reset()
    out = []
    for _ in range(steps):
        a = torch.randint(0, 3, (game.num_envs, game.num_agents), generator=gen)
        obs, reward, done, info = game.step(a.to(game.device))
        out += [obs.signal.cpu(), reward.cpu(), info["accuracy"].cpu()]
        if obs.edge_active is not None:
            out.append(obs.edge_active.cpu())
    return out


def make(seed: int, device: str = "cpu") -> sm.ConsensusGame:
    g = sm.barabasi_albert_graph(30, 2, seed=0)
    q = torch.full((g.num_edges,), 0.4)
    return sm.ConsensusGame(
        g, num_envs=5, alpha=0.3, p_perc=0.8, other_play=True, p_signal=0.8,
        camp=sm.CampProcess(q, rate=0.5), episode_length=6, seed=seed, device=device,
    )


def test_same_seed_same_result():
    a, b = rollout(make(11), 20), rollout(make(11), 20)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    c = rollout(make(12), 20)
    assert not all(torch.equal(x, y) for x, y in zip(a, c))


def test_state_dict_round_trip_continues_identically():
    g1 = make(3)
    rollout(g1, 7)
    saved = g1.state_dict()
    g2 = make(99)
    g2.load_state_dict(saved)
    gen = torch.Generator().manual_seed(5)
    for _ in range(10):
        a = torch.randint(0, 3, (5, 30), generator=gen)
        r1, r2 = g1.step(a), g2.step(a)
        assert torch.equal(r1.reward, r2.reward)
        assert torch.equal(r1.obs.signal, r2.obs.signal)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")
def test_cpu_and_cuda_agree():
    cpu, gpu = make(0), make(0, "cuda")
    cpu.reset()
    gpu.load_state_dict(cpu.state_dict(), generator=False)
    gen = torch.Generator().manual_seed(1)
    for _ in range(5):  # within one episode the step is deterministic given the state
        a = torch.randint(0, 3, (5, 30), generator=gen)
        rc, rg = cpu.step(a), gpu.step(a.cuda())
        assert torch.allclose(rc.reward, rg.reward.cpu(), atol=1e-6)
        for k in ("accuracy", "agreement", "entropy"):
            assert torch.allclose(rc.info[k], rg.info[k].cpu(), atol=1e-6, equal_nan=True)
        gpu.state["edge_active"] = cpu.state["edge_active"].cuda()  # dynamics draw differently
        gpu.state["markov"] = cpu.state["markov"].cuda()
        assert torch.equal(rc.obs.own_output, rg.obs.own_output.cpu())
    rollout(make(0, "cuda"), 25)  # automatic resets and dynamics run on the device


def test_isolated_agents_earn_truth_reward_only():
    g = sm.Graph(3, [[0], [1]])  # agent 1 observes 0; agents 0 and 2 observe nobody
    game = sm.ConsensusGame(g, alpha=0.5, seed=0)
    game.reset()
    truth = int(game.truth[0])
    a = torch.tensor([[truth, 1 - truth, truth]])
    _, reward, _, info = game.step(a)
    assert info["conformity_reward"][0, [0, 2]].tolist() == [0.0, 0.0]
    assert reward[0, 0].item() == pytest.approx(0.5 * 0.1)
    assert info["conformity_reward"][0, 1].item() == pytest.approx(-0.2)


def test_self_loops_are_dropped_with_a_warning():
    g = sm.Graph(3, [[0, 1, 2], [0, 2, 1]])
    with pytest.warns(UserWarning, match="self loops"):
        game = sm.ConsensusGame(g)
    assert game.graph.num_edges == 2 and not game.graph.has_self_loops()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(alpha=1.5), "alpha=1.5 is outside"),
        (dict(alpha=float("nan")), r"alpha=nan: need a finite number in \[0, 1\]"),
        (dict(alpha=[0.1, 0.2], num_envs=3), "2 values for num_envs=3"),
        (dict(sigma=-1.0), "sigma"),
        (dict(p_signal=2.0), "p_signal=2.0 is not a probability"),
        (dict(p_perc=-0.1), "p_perc"),
        (dict(num_envs=0), "num_envs"),
        (dict(episode_length=0), "episode_length"),
        (dict(experts=[99]), "expert id 99"),
    ],
)
def test_bad_config_is_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sm.ConsensusGame(sm.ring_graph(5), **kwargs)


def test_bad_actions_are_named():
    game = sm.ConsensusGame(sm.ring_graph(5), num_envs=2)
    with pytest.raises(RuntimeError, match="reset"):
        game.step(torch.zeros(2, 5, dtype=torch.long))
    game.reset()
    with pytest.raises(ValueError, match=r"shape \(2, 4\); expected"):
        game.step(torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="action 7 is not allowed"):
        game.step(torch.full((2, 5), 7))
    with pytest.raises(ValueError, match="action -1"):
        game.step(torch.full((2, 5), -1))
    with pytest.raises(TypeError, match="integer codes"):
        game.step(torch.zeros(2, 5))
    with pytest.raises(ValueError, match="outside"):
        game.set_alpha(torch.tensor([0.2, 3.0]))


def test_bad_graphs_are_named():
    with pytest.raises(ValueError, match="empty"):
        sm.Graph(0, [[], []])
    with pytest.raises(ValueError, match="node 5, outside 0..2"):
        sm.Graph(3, [[0, 5], [1, 2]])
    with pytest.raises(ValueError, match="node -1"):
        sm.Graph(3, [[0, -1], [1, 2]])
    with pytest.raises(ValueError, match="NaN"):
        sm.Graph(3, [[0], [1]], edge_weight=[float("nan")])
    with pytest.raises(ValueError, match="negative"):
        sm.Graph(3, [[0], [1]], edge_weight=[-1.0])
    with pytest.raises(ValueError, match="duplicate edge"):
        sm.Graph(3, [[0, 0], [1, 1]])
    with pytest.raises(ValueError, match=r"must be \(2, E\)"):
        sm.Graph(3, [[0, 1], [1, 2], [2, 0]])
    with pytest.raises(ValueError, match="one weight per edge"):
        sm.Graph(3, [[0], [1]], edge_weight=[1.0, 2.0])
    with pytest.raises(TypeError, match="Graph.from_networkx"):
        import networkx as nx

        sm.ConsensusGame(nx.path_graph(3))


def test_config_round_trips_through_json():
    cfg = sm.GameConfig(num_envs=2, alpha=[0.1, 0.9], experts=[0], p_perc=0.5)
    text = json.dumps(config_to_dict(cfg))
    back = config_from_dict(sm.GameConfig, json.loads(text))
    assert back == cfg
    with pytest.raises(ValueError, match="unknown GameConfig field"):
        config_from_dict(sm.GameConfig, {"alpah": 0.5})
