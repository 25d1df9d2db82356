"""Evaluation records against explicit recomputation, and the local-Nash check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import socialmarl as sm
from socialmarl.analysis.nash import MixedPolicy, local_nash
from socialmarl.learning.policy import AttentionPolicy


@pytest.fixture(scope="module")
def record():
    torch.manual_seed(0)
    g = sm.barabasi_albert_graph(15, 2, seed=1)
    policy = AttentionPolicy(15, hidden=16)
    return sm.evaluate(policy, g, alpha=0.5, episodes=10, batch_size=4, episode_length=6,
                       seed=3), policy, g


def test_record_shapes_and_chunking(record):
    rec, _, g = record
    assert rec.outputs.shape == (10, 6, 15) and rec.rewards.shape == (10, 6, 15)
    assert rec.signals.shape == (10, 15) and rec.truth.shape == (10,)
    assert rec.attention.shape == (g.num_edges,) and rec.self_attention.shape == (15,)
    # three chunks of 4 played, 10 kept; chunks use different seeds
    assert not np.array_equal(rec.signals[0], rec.signals[4])


def test_record_statistics_match_explicit_recomputation(record):
    rec, _, g = record
    out, truth = rec.outputs, rec.truth
    np.testing.assert_allclose(rec.accuracy, (out == truth[:, None, None]).mean(-1), atol=1e-6)
    src, dst = g.edge_index.numpy()
    b, t, _ = out.shape
    for e in range(b):
        for s in range(t):
            a = out[e, s]
            agree = sum(a[j] == a[i] and a[i] != 2 for j, i in zip(src, dst))
            assert rec.agreement[e, s] == pytest.approx(agree / len(src), abs=1e-6)
    # lying: a definite guess against the belief, frame-invariant
    own_b = np.where(rec.flips[:, None, :], 1 - rec.beliefs, rec.beliefs)
    own_a = np.where(rec.flips[:, None, :] & (out < 2), 1 - out, out)
    lies = (out != 2) & ((own_b - 0.5) * (own_a - 0.5) < 0)
    np.testing.assert_array_equal(rec.lying, lies)
    env_lies = (out != 2) & ((rec.beliefs - 0.5) * (out - 0.5) < 0)
    np.testing.assert_array_equal(rec.lying, env_lies)


def test_attention_is_the_mean_of_per_step_attention():
    g = sm.ring_graph(7)
    torch.manual_seed(1)
    policy = AttentionPolicy(7, hidden=8)
    rec = sm.evaluate(policy, g, episodes=3, episode_length=4, seed=5, other_play=False)
    game = sm.ConsensusGame(g, num_envs=3, episode_length=4, alpha=1.0, seed=5,
                            check_actions=False)
    obs, h = game.reset(), policy.initial_state(3)
    gen = torch.Generator().manual_seed(6)
    total = torch.zeros(g.num_edges, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(4):
            o = policy(obs.to_agent_frame(), h)
            h = o.hidden
            total += o.attention.double().sum(0)
            u = torch.rand(o.logits.shape, generator=gen)
            a = torch.argmax(o.logits - torch.log(-torch.log(u.clamp_min(1e-20))), -1)
            obs = game.step(a).obs
    np.testing.assert_allclose(rec.attention, (total / 12).numpy(), atol=1e-6)
    mat = rec.attention_matrix()
    np.testing.assert_allclose(mat.sum(1), 1.0, atol=1e-6)


def test_save_writes_plain_data(tmp_path, record):
    rec = record[0]
    rec.save(tmp_path)
    arrays = np.load(tmp_path / "arrays.npz", allow_pickle=False)
    np.testing.assert_array_equal(arrays["outputs"], rec.outputs)
    summary = sm.load_json(tmp_path / "summary.json")
    assert summary["summary"]["episodes"] == 10 and "game" in summary["config"]


def test_evaluate_rejects_wrong_size():
    with pytest.raises(ValueError, match="same size"):
        sm.evaluate(AttentionPolicy(5), sm.ring_graph(6), episodes=2)


def test_mixed_policy_routes_agents_and_freezes_base():
    g = sm.ring_graph(6)
    torch.manual_seed(0)
    base, dev = AttentionPolicy(6, hidden=8), AttentionPolicy(6, hidden=8)
    mask = torch.tensor([True, False, False, True, False, False])
    mixed = MixedPolicy(base, dev, mask)
    obs = sm.ConsensusGame(g, num_envs=2, seed=0).reset().to_agent_frame()
    h = base.initial_state(2)
    out, ob, od = mixed(obs, h), base(obs, h), dev(obs, h)
    torch.testing.assert_close(out.logits[:, mask], od.logits[:, mask])
    torch.testing.assert_close(out.logits[:, ~mask], ob.logits[:, ~mask])
    out.logits.sum().backward()
    assert all(p.grad is None for p in base.parameters())
    assert any(p.grad is not None for p in dev.parameters())


def test_local_nash_finds_gain_against_a_poor_population():
    # An untrained population at alpha = 1 is far from optimal: it earns about
    # 5 * (0.1 - 0.2) / 3 = -0.17 per 5-step episode, while following one's signal earns
    # 5 * (0.69 * 0.1 - 0.31 * 0.2) = +0.035. Deviants must recover most of that gap, while
    # the frozen base stays untouched.
    g = sm.ring_graph(8)
    torch.manual_seed(0)
    base = AttentionPolicy(8, hidden=16)
    before = [p.clone() for p in base.parameters()]
    res = local_nash(base, g, [0, 4], alpha=1.0, num_updates=25, episodes=64,
                     envs_per_alpha=16, num_minibatches=2, episode_length=5, hidden=16,
                     lr=3e-3, other_play=True, seed=1)
    assert res.gain > 0.1 and res.gain_ci[0] > 0
    assert res.return_after > res.return_before
    assert all(torch.equal(a, b) for a, b in zip(before, base.parameters()))
    with pytest.raises(ValueError, match="agent ids"):
        local_nash(base, g, [9], alpha=1.0)


def test_dynamic_camp_records_active_edges_and_edge_metrics_use_them():
    # On a dynamic camp network the game scores agreement over the pairs that interacted
    # at each step; the record keeps those edges so summarise() agrees with the game.
    torch.manual_seed(0)
    g = sm.erdos_renyi_graph(12, 0.5, seed=2, directed=False)
    q = torch.full((g.num_edges,), 0.3, dtype=torch.float64)
    policy = AttentionPolicy(12, hidden=8, num_actions=2)
    with pytest.raises(ValueError, match="allow_wait"):
        sm.evaluate(policy, g, episodes=2, episode_length=3)  # wait on by default
    rec = sm.evaluate(policy, g, alpha=0.5, episodes=6, batch_size=4, episode_length=5,
                      camp=sm.CampProcess(q, rate=0.5), allow_wait=False, seed=4)
    assert rec.edge_active is not None and rec.edge_active.shape == (6, 5, g.num_edges)
    assert 0.05 < rec.edge_active.mean() < 0.95  # edges switch on and off
    out = rec.outputs
    src, dst = g.edge_index.numpy()
    for e in range(6):
        for s in range(5):
            act = rec.edge_active[e, s]
            # NaN at a step without an active edge (socialmarl.game.measures)
            want = (out[e, s, src[act]] == out[e, s, dst[act]]).mean() if act.any() else np.nan
            assert rec.agreement[e, s] == pytest.approx(want, abs=1e-6, nan_ok=True)
    table = sm.summarise(out, rec.truth, g, edge_active=rec.edge_active, n_boot=20)
    got = table.set_index("metric").loc["agreement_mean", "value"]
    per_episode = [np.nanmean(a) for a in rec.agreement if not np.isnan(a).all()]
    assert got == pytest.approx(float(np.mean(per_episode)), abs=1e-5)
    # a static graph records no mask
    static = sm.evaluate(policy, g, episodes=2, episode_length=3, allow_wait=False, seed=4)
    assert static.edge_active is None


def test_evaluate_run_on_a_network_plays_its_camp_process(tmp_path):
    # a run trained on the camp's graph as a static network, evaluated on the camp as a
    # Network (what load_network and `socialmarl evaluate --graph camp_sample` give): the
    # camp process comes with it; on the bare Graph every edge stays live
    net = sm.load_network("camp_sample")
    sm.train(net.graph, sm.TrainConfig(alphas=[1.0], envs_per_alpha=2, num_updates=1,
                                       num_minibatches=1, episode_length=4),
             out_dir=tmp_path / "run", progress=False)
    dynamic = sm.evaluate_run(tmp_path / "run", graph=net, episodes=3)[1.0]
    static = sm.evaluate_run(tmp_path / "run", graph=net.graph, episodes=3)[1.0]
    assert static.edge_active is None
    active = np.asarray(dynamic.edge_active)
    assert active.shape == (3, 4, net.graph.num_edges)
    assert 0 < active.mean() < 0.5  # camp pairs meet a small share of the time (mean q 0.07)
