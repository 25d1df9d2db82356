"""AttentionPolicy: sparse == dense == a NumPy loop reference, gradients, scale, devices."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from socialmarl.common.config_io import config_from_dict, config_to_dict
from socialmarl.game.game import ConsensusGame
from socialmarl.game.observation import NO_EDGE, Observation, to_env_actions
from socialmarl.learning.policy import (
    AttentionPolicy,
    PolicyConfig,
    PolicyOutput,
    agent_id_bits,
    attention_matrix,
)
from socialmarl.networks.generators import barabasi_albert_graph, ring_graph
from socialmarl.networks.graph import Graph

FIELDS = ("logits", "value", "belief", "belief_logit", "attention", "self_attention", "hidden")


def random_obs(n: int, b: int, seed: int, p_edge: float = 0.3, p_active: float = 0.7,
               isolated: int = 2) -> Observation:
    """Random directed graph (the last ``isolated`` agents have no in-edges), random codes,
    random flips and a random edge mask, mapped to the agents' frames."""
    rng = np.random.default_rng(seed)
    pairs = [(j, i) for i in range(n - isolated) for j in range(n)
             if i != j and rng.random() < p_edge]
    g = Graph.from_edges(n, np.array(pairs, dtype=np.int64).reshape(-1, 2))
    gen = torch.Generator().manual_seed(seed)
    e = g.num_edges
    obs = Observation(
        signal=torch.randn(b, n, generator=gen),
        own_output=torch.randint(0, 3, (b, n), generator=gen),
        edge_active=torch.rand(b, e, generator=gen) < p_active,
        t=torch.zeros(b, dtype=torch.long),
        flips=torch.rand(b, n, generator=gen) < 0.5,
        edge_index=g.edge_index,
    )
    return obs.to_agent_frame()


def _close(a: PolicyOutput, b: PolicyOutput, atol: float) -> None:
    for f in FIELDS:
        x, y = getattr(a, f), getattr(b, f)
        assert x.shape == y.shape, f
        torch.testing.assert_close(x, y, atol=atol, rtol=0, msg=f"field {f} differs")


# ---------------------------------------------------------------------- NumPy reference
def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().double().cpu().numpy()


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_forward(policy: AttentionPolicy, obs: Observation, h: torch.Tensor) -> dict:
    """Loop over environments, agents and neighbours, straight from the README's "The policy"."""
    P = {k: _np(v) for k, v in policy.state_dict().items()}
    b, n = obs.signal.shape
    d = policy.config.attn_dim
    src, dst = obs.edge_index[0].tolist(), obs.edge_index[1].tolist()
    codes = obs.edge_codes.numpy()
    own = obs.own_output.numpy()
    sig = obs.signal.double().numpy()
    nbits = max(1, int(np.ceil(np.log2(n))))
    hh = _np(h)

    def token(code, j):
        return P["code_embed.weight"][code] + P["id_embed.weight"][j]

    def lin(name, x):
        return P[f"{name}.weight"] @ x + P[f"{name}.bias"]

    def layer_norm(name, x):
        mu, var = x.mean(), x.var()
        return (x - mu) / np.sqrt(var + 1e-5) * P[f"{name}.weight"] + P[f"{name}.bias"]

    att_edge = np.zeros((b, len(src)))
    att_self = np.zeros((b, n))
    res = {k: np.zeros(s) for k, s in [("logits", (b, n, policy.config.num_actions)),
                                        ("value", (b, n)), ("belief_logit", (b, n)),
                                        ("hidden", (b, n, policy.config.hidden))]}
    for bb in range(b):
        for i in range(n):
            entries = [(e, src[e], codes[bb, e]) for e in range(len(src))
                       if dst[e] == i and codes[bb, e] != NO_EDGE]
            entries.append((None, i, own[bb, i]))
            toks = [token(c, j) for _, j, c in entries]
            vals = np.stack([lin("value", t) for t in toks])
            if policy.config.use_attention:
                q = lin("query", token(own[bb, i], i))
                s = np.array([q @ lin("key", t) for t in toks]) / np.sqrt(d)
            else:
                s = np.zeros(len(toks))
            w = np.exp(s - s.max())
            w /= w.sum()
            for (e, _, _), wk in zip(entries, w):
                if e is None:
                    att_self[bb, i] = wk
                else:
                    att_edge[bb, e] = wk
            out = w @ vals
            bits = [1.0 if (i >> k) & 1 else -1.0 for k in range(nbits)]
            x = np.concatenate([[sig[bb, i]], bits, out])
            x = np.maximum(layer_norm("norm1", lin("fc1", x)), 0)
            x = np.maximum(layer_norm("norm2", lin("fc2", x)), 0)
            hp = hh[bb, i]
            gi = P["gru.weight_ih_l0"] @ x + P["gru.bias_ih_l0"]
            gh = P["gru.weight_hh_l0"] @ hp + P["gru.bias_hh_l0"]
            H = policy.config.hidden
            r = _sigmoid(gi[:H] + gh[:H])
            z = _sigmoid(gi[H:2 * H] + gh[H:2 * H])
            nn_ = np.tanh(gi[2 * H:] + r * gh[2 * H:])
            hn = (1 - z) * nn_ + z * hp
            res["hidden"][bb, i] = hn
            res["logits"][bb, i] = lin("actor", hn)
            res["value"][bb, i] = lin("critic", hn)[0]
            res["belief_logit"][bb, i] = lin("belief_head", hn)[0]
    res["attention"], res["self_attention"] = att_edge, att_self
    res["belief"] = _sigmoid(res["belief_logit"])
    return res


@pytest.mark.parametrize("use_attention", [True, False])
def test_matches_numpy_reference(use_attention):
    obs = random_obs(9, 3, seed=4)
    torch.manual_seed(0)
    policy = AttentionPolicy(9, hidden=12, attn_dim=5, use_attention=use_attention).double()
    h = torch.randn(3, 9, 12, dtype=torch.float64)
    ref = reference_forward(policy, obs, h)
    for dense in (False, True):
        out = policy(obs, h, dense=dense)
        for f in FIELDS:
            np.testing.assert_allclose(_np(getattr(out, f)), ref[f], atol=1e-10,
                                       err_msg=f"{f} (dense={dense})")


# ---------------------------------------------------------------------- sparse vs dense
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("use_attention", [True, False])
def test_sparse_equals_dense_random_graphs(seed, use_attention):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 40))
    obs = random_obs(n, 4, seed=seed, p_edge=float(rng.uniform(0.05, 0.5)),
                     p_active=float(rng.uniform(0.3, 1.0)), isolated=int(rng.integers(0, 3)))
    torch.manual_seed(seed)
    num_actions = 3 if seed % 2 == 0 else 2
    policy = AttentionPolicy(n, num_actions=num_actions, use_attention=use_attention)
    # random (not just initial) parameters, so the test sees a non-trivial attention
    with torch.no_grad():
        for p in policy.parameters():
            p.add_(0.3 * torch.randn_like(p))
    h = torch.randn(4, n, 50)
    sparse, dense = policy(obs, h), policy(obs, h, dense=True)
    _close(sparse, dense, atol=2e-5)
    p64 = policy.double()
    _close(p64(obs, h.double()), p64(obs, h.double(), dense=True), atol=1e-12)


def test_attention_rows_sum_to_one_and_masks():
    obs = random_obs(25, 5, seed=9, isolated=3)
    policy = AttentionPolicy(25)
    out = policy(obs, policy.initial_state(5))
    dst = obs.edge_index[1].numpy()
    att = out.attention.detach().numpy()
    rows = out.self_attention.detach().numpy().copy()
    for bb in range(5):
        rows[bb] += np.bincount(dst, weights=att[bb], minlength=25)
    np.testing.assert_allclose(rows, 1.0, atol=1e-6)
    inactive = ~obs.edge_active
    assert (out.attention[inactive] == 0).all()
    assert (out.attention[~inactive] > 0).all()
    # agents without in-edges (the last three) and agents whose edges are all inactive
    # attend to themselves only
    active_in = np.zeros((5, 25))
    for bb in range(5):
        active_in[bb] = np.bincount(dst, weights=obs.edge_active[bb].numpy(), minlength=25)
    alone = torch.from_numpy(active_in == 0)
    assert alone[:, -3:].all()
    assert (out.self_attention[alone] == 1).all()
    mat = attention_matrix(obs, out)
    np.testing.assert_allclose(mat.sum(-1).detach().numpy(), 1.0, atol=1e-6)
    dense_codes = obs.dense()
    assert (mat[dense_codes == NO_EDGE] == 0).all()
    torch.testing.assert_close(policy.attention_matrix(obs, out), mat)


def test_graph_without_edges_and_single_agent():
    for n in (1, 4):
        g = Graph(n, torch.zeros((2, 0), dtype=torch.long))
        game = ConsensusGame(g, num_envs=2, seed=0)
        obs = game.reset().to_agent_frame()
        policy = AttentionPolicy(n, hidden=8)
        out = policy(obs, policy.initial_state(2))
        assert out.attention.shape == (2, 0)
        assert (out.self_attention == 1).all()
        _close(out, policy(obs, policy.initial_state(2), dense=True), atol=1e-6)


# ---------------------------------------------------------------------- gradients
def _ppo_like_loss(out: PolicyOutput) -> torch.Tensor:
    logp = out.logits.log_softmax(-1)
    return -(logp[..., 0] * torch.linspace(-1, 1, logp.shape[1])).mean() + out.value.pow(2).mean()


def _belief_loss(out: PolicyOutput, truth: torch.Tensor) -> torch.Tensor:
    return (out.belief - truth).pow(2).mean()


def _grads(policy, loss):
    policy.zero_grad(set_to_none=True)
    loss.backward()
    return {k: (None if p.grad is None else p.grad.clone()) for k, p in policy.named_parameters()}


def test_belief_loss_trains_only_the_belief_head():
    obs = random_obs(12, 3, seed=1)
    policy = AttentionPolicy(12)
    h = torch.randn(3, 12, 50)
    truth = torch.randint(0, 2, (3, 12)).float()
    g_belief = _grads(policy, _belief_loss(policy(obs, h), truth))
    for k, g in g_belief.items():
        if k.startswith("belief_head."):
            assert g is not None and g.abs().sum() > 0, k
        else:
            assert g is None or (g == 0).all(), f"belief loss leaked into {k}"
    g_ppo = _grads(policy, _ppo_like_loss(policy(obs, h)))
    out = policy(obs, h)
    g_both = _grads(policy, _ppo_like_loss(out) + _belief_loss(out, truth))
    for k in g_ppo:
        if not k.startswith("belief_head."):
            assert torch.equal(g_ppo[k], g_both[k]), f"belief loss changed the gradient of {k}"


def test_gradients_flow_through_attention():
    obs = random_obs(15, 4, seed=2)
    policy = AttentionPolicy(15)
    g = _grads(policy, _ppo_like_loss(policy(obs, torch.randn(4, 15, 50))))
    for k in ("query.weight", "query.bias", "key.weight", "value.weight", "value.bias",
              "code_embed.weight", "id_embed.weight", "fc1.weight", "gru.weight_hh_l0"):
        assert g[k] is not None and g[k].abs().sum() > 0, k
    # sparse and dense gradients agree
    gd = _grads(policy, _ppo_like_loss(policy(obs, torch.randn(4, 15, 50), dense=True)))
    policy64 = AttentionPolicy(15).double()
    h = torch.randn(4, 15, 50, dtype=torch.float64)
    gs = _grads(policy64, _ppo_like_loss(policy64(obs, h)))
    gd = _grads(policy64, _ppo_like_loss(policy64(obs, h, dense=True)))
    for k in gs:
        torch.testing.assert_close(gs[k], gd[k], atol=1e-12, rtol=1e-9, msg=k)
    # the ablation has no query / key parameters and no attention-score gradient
    ab = AttentionPolicy(15, use_attention=False)
    assert ab.query is None and ab.key is None
    names = dict(ab.named_parameters())
    assert "query.weight" not in names and "value.weight" in names


# ---------------------------------------------------------------------- scale, devices
def test_ten_thousand_agents_on_cpu():
    n, b = 10_000, 2
    graph = barabasi_albert_graph(n, 7, seed=0)
    game = ConsensusGame(graph, num_envs=b, other_play=True, p_perc=0.8, seed=0)
    game.reset()
    obs = game.step(torch.randint(0, 3, (b, n))).obs.to_agent_frame()
    policy = AttentionPolicy(n)
    h = policy.initial_state(b)
    t0 = time.perf_counter()
    with torch.no_grad():
        out = policy(obs, h)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0, f"one forward at N=10,000 took {elapsed:.1f} s"
    assert out.logits.shape == (b, n, 3) and out.attention.shape == (b, graph.num_edges)
    assert torch.isfinite(out.logits).all() and torch.isfinite(out.value).all()
    rows = out.self_attention.clone().index_add_(1, obs.edge_index[1], out.attention)
    torch.testing.assert_close(rows, torch.ones(b, n), atol=1e-5, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    obs = random_obs(30, 4, seed=5)
    torch.manual_seed(0)
    policy = AttentionPolicy(30)
    h = torch.randn(4, 30, 50)
    cpu = policy(obs, h)
    gpu_policy = AttentionPolicy(30).cuda()
    gpu_policy.load_state_dict(policy.state_dict())
    obs_c, h_c = obs.to("cuda"), h.cuda()
    for dense in (False, True):
        out = gpu_policy(obs_c, h_c, dense=dense)
        assert out.logits.device.type == "cuda"
        for f in FIELDS:
            torch.testing.assert_close(getattr(out, f).cpu(), getattr(cpu, f), atol=1e-4,
                                       rtol=1e-4, msg=f)
    out = gpu_policy(obs_c, h_c)
    _grads(gpu_policy, _ppo_like_loss(out))
    assert gpu_policy.query.weight.grad.abs().sum() > 0
    assert gpu_policy.initial_state(2).device.type == "cuda"


# ---------------------------------------------------------------------- API details
def test_config_json_roundtrip_and_validation():
    cfg = PolicyConfig(hidden=16, attn_dim=4, num_actions=2, use_attention=False)
    data = config_to_dict(cfg)
    assert data == {"hidden": 16, "attn_dim": 4, "num_actions": 2, "use_attention": False}
    assert config_from_dict(PolicyConfig, data) == cfg
    with pytest.raises(ValueError, match="num_actions=4"):
        PolicyConfig(num_actions=4)
    with pytest.raises(ValueError, match="hidden=0"):
        PolicyConfig(hidden=0)
    with pytest.raises(ValueError, match="unknown PolicyConfig field"):
        AttentionPolicy(5, hiden=3)
    p = AttentionPolicy(5, cfg, hidden=7)
    assert p.config.hidden == 7 and p.config.attn_dim == 4 and cfg.hidden == 16


def test_agent_id_bits_reference():
    for n in (1, 2, 3, 8, 9, 1000):
        bits = agent_id_bits(n)
        width = max(1, int(np.ceil(np.log2(n))))
        assert bits.shape == (n, width)
        for i in (0, n // 2, n - 1):
            s = format(i, "b").zfill(width)[::-1]  # least significant bit first
            assert bits[i].tolist() == [1.0 if c == "1" else -1.0 for c in s]
        assert len({tuple(r) for r in bits.tolist()}) == n  # distinct codes


def test_initial_state_init_and_hidden_state_is_used():
    p = AttentionPolicy(6, hidden=10)
    h0 = p.initial_state(3)
    assert h0.shape == (3, 6, 10) and (h0 == 0).all() and h0.dtype == torch.float32
    # CleanRL-style init: actor orthogonal with gain 0.01, critic gain 1, zero biases
    w = p.actor.weight.detach()
    torch.testing.assert_close(w @ w.T, 1e-4 * torch.eye(3), atol=1e-9, rtol=0)
    torch.testing.assert_close(p.critic.weight.norm(), torch.tensor(1.0))
    assert (p.actor.bias == 0).all() and (p.critic.bias == 0).all()
    game = ConsensusGame(ring_graph(6), num_envs=3, seed=0, other_play=True)
    obs = game.reset().to_agent_frame()
    out1 = p(obs, h0)
    out2 = p(obs, out1.hidden)
    assert not torch.allclose(out1.logits, out2.logits)
    torch.testing.assert_close(p(obs, h0).logits, out1.logits)


def test_bad_input_errors():
    game = ConsensusGame(ring_graph(5), num_envs=2, seed=0)
    env_obs = game.reset()
    p = AttentionPolicy(5)
    h = p.initial_state(2)
    with pytest.raises(ValueError, match="to_agent_frame"):
        p(env_obs, h)
    obs = env_obs.to_agent_frame()
    with pytest.raises(ValueError, match="built for 6"):
        AttentionPolicy(6)(obs, AttentionPolicy(6).initial_state(2))
    with pytest.raises(ValueError, match="hidden state has shape"):
        p(obs, torch.zeros(2, 5, 3))
    bad = Observation(obs.signal, obs.own_output, None, obs.t, obs.flips,
                      torch.tensor([[1, 0], [0, 0]]), in_agent_frame=True)
    with pytest.raises(ValueError, match="not sorted by receiver|self loop"):
        p(bad, h)
    with pytest.raises(ValueError, match="num_agents=0"):
        AttentionPolicy(0)


def test_rollout_with_the_game():
    """A few steps of play: actions sampled in the agent frame, mapped back, fed to the game."""
    graph = barabasi_albert_graph(40, 3, seed=1)
    game = ConsensusGame(graph, num_envs=3, other_play=True, p_perc=0.7, allow_wait=False,
                         seed=1)
    policy = AttentionPolicy(40, num_actions=game.num_actions)
    obs, h = game.reset(), policy.initial_state(3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(4):
        own = obs.to_agent_frame()
        with torch.no_grad():
            out = policy(own, h)
        act = torch.multinomial(out.logits.softmax(-1).reshape(-1, 2), 1, generator=gen)
        obs, _, done, _ = game.step(to_env_actions(act.view(3, 40), own.flips))
        h = out.hidden * (~done)[:, None, None]
        assert torch.isfinite(out.belief).all() and ((out.belief > 0) & (out.belief < 1)).all()


def test_edge_structure_cache_follows_the_graph():
    """Alternating between graphs of the same size never reuses a stale edge structure."""
    policy = AttentionPolicy(16, hidden=8)
    h = policy.initial_state(2)
    for seed in (0, 1, 0, 2):
        obs = random_obs(16, 2, seed=seed)
        _close(policy(obs, h), policy(obs, h, dense=True), atol=2e-5)
    # in-place edit of the edge list: ring neighbours i +- 1 become i +- 2
    ei = ring_graph(16).edge_index.clone()
    gen = torch.Generator().manual_seed(0)
    obs = Observation(torch.randn(2, 16, generator=gen),
                      torch.randint(0, 3, (2, 16), generator=gen), None,
                      torch.zeros(2, dtype=torch.long), torch.zeros(2, 16, dtype=torch.bool),
                      ei).to_agent_frame()
    first = policy(obs, h)
    step = (ei[0] - ei[1] + 8) % 16 - 8  # +-1
    ei[0] = (ei[1] + 2 * step) % 16
    _close(policy(obs, h), policy(obs, h, dense=True), atol=2e-5)
    assert not torch.allclose(policy(obs, h).attention, first.attention)


def test_forward_sequence_equals_stepwise_forward():
    g = barabasi_albert_graph(12, 2, seed=3)
    game = ConsensusGame(g, num_envs=3, other_play=True, p_perc=0.7, seed=1)
    torch.manual_seed(0)
    policy = AttentionPolicy(12, hidden=16)
    obs, h = game.reset(), policy.initial_state(3)
    gen = torch.Generator().manual_seed(2)
    seq, outs = [], []
    for _ in range(5):
        own = obs.to_agent_frame()
        out = policy(own, h)
        h = out.hidden
        seq.append(own)
        outs.append(out)
        obs = game.step(torch.randint(0, 3, (3, 12), generator=gen)).obs
    stacked = Observation(
        signal=torch.cat([o.signal for o in seq]),
        own_output=torch.cat([o.own_output for o in seq]),
        edge_active=torch.cat([o.edge_active for o in seq]),
        t=torch.zeros(15, dtype=torch.long),
        flips=torch.cat([o.flips for o in seq]),
        edge_index=seq[0].edge_index,
        in_agent_frame=True,
    )
    full = policy.forward_sequence(stacked, 5)
    for name in ("logits", "value", "belief", "attention", "self_attention", "hidden"):
        want = torch.stack([getattr(o, name) for o in outs])
        torch.testing.assert_close(getattr(full, name), want, msg=name)
    with pytest.raises(ValueError, match="multiple of steps"):
        policy.forward_sequence(stacked, 4)


def test_attention_plan_reused_and_sliced_gives_same_outputs():
    """A plan built once for a stacked batch and sliced per environment (as the trainer
    does across PPO epochs) gives exactly what forward_sequence computes without it."""
    g = barabasi_albert_graph(15, 3, seed=4)
    game = ConsensusGame(g, num_envs=4, other_play=True, p_perc=0.6, seed=2)
    torch.manual_seed(1)
    policy = AttentionPolicy(15, hidden=12)
    obs, gen, seq = game.reset(), torch.Generator().manual_seed(3), []
    for _ in range(3):
        seq.append(obs.to_agent_frame())
        obs = game.step(torch.randint(0, 3, (4, 15), generator=gen)).obs

    def stack(envs: list[int]) -> Observation:
        return Observation(
            signal=torch.cat([o.signal[envs] for o in seq]),
            own_output=torch.cat([o.own_output[envs] for o in seq]),
            edge_active=torch.cat([o.edge_active[envs] for o in seq]),
            t=torch.zeros(3 * len(envs), dtype=torch.long),
            flips=torch.cat([o.flips[envs] for o in seq]),
            edge_index=seq[0].edge_index,
            in_agent_frame=True,
        )

    full = stack([0, 1, 2, 3])
    plan = policy.attention_plan(full)
    e = g.num_edges
    assert tuple(plan.score_index.shape) == (12, e + 15)
    # per receiver: its in-edges' codes and its own output, by sender (a loop over agents)
    src, dst = full.edge_index
    codes, own = full.edge_codes, full.own_output
    pos = 0
    for i in range(15):
        into = torch.nonzero(dst == i)[:, 0]
        k = torch.arange(pos, pos + len(into) + 1)
        code = torch.cat([codes[:, into], own[:, i : i + 1]], 1)
        senders = torch.cat([src[into], torch.tensor([i])])
        order = torch.argsort(senders)
        code, senders = code[:, order], senders[order]
        assert torch.equal(plan.value_col[:, k].long(), 4 * senders + code), i
        assert torch.equal(plan.score_index[:, k].long(), 12 * k + 4 * own[:, i : i + 1] + code)
        pos += len(into) + 1
    assert pos == e + 15
    envs = torch.tensor([3, 1])

    def take(x: torch.Tensor) -> torch.Tensor:
        return x.view(3, 4, -1).index_select(1, envs).reshape(6, -1)

    sub = stack([3, 1])
    with_plan = policy.forward_sequence(sub, 3, plan=plan.map(take))
    without = policy.forward_sequence(sub, 3)
    for name in ("logits", "value", "belief", "attention", "self_attention", "hidden"):
        torch.testing.assert_close(getattr(with_plan, name), getattr(without, name),
                                   rtol=0, atol=0, msg=name)
    with pytest.raises(ValueError, match="attention plan has shape"):
        policy.forward_sequence(sub, 3, plan=plan)



def test_hand_written_gru_matches_nn_gru_and_gradcheck():
    """gru_sequence (step-wise input projection, hand-written backward) and gru_cell
    against torch.nn.GRU: same states and gradients of the input and all four
    parameters, and float64 gradchecks of the backward (T = 1 and T > 1)."""
    from socialmarl.learning._kernels.gru import gru_cell, gru_sequence

    torch.manual_seed(0)
    gru = torch.nn.GRU(6, 5).double()
    for p in gru.parameters():  # nonzero biases so every bias gradient is exercised
        torch.nn.init.normal_(p, std=0.5)
    x = torch.randn(4, 3, 6, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 3, 5, dtype=torch.float64)
    ref, _ = gru(x)
    (ref * w).sum().backward()
    want = [x.grad.clone()] + [p.grad.clone() for p in gru.parameters()]
    x.grad = None
    gru.zero_grad()
    got = gru_sequence(x, gru)
    torch.testing.assert_close(got, ref)
    (got * w).sum().backward()
    for a, b in zip([x.grad] + [p.grad for p in gru.parameters()], want):
        torch.testing.assert_close(a, b)
    # an incoming gradient that is an expanded (stride-0) tensor, as from .sum()
    x.grad = None
    gru_sequence(x, gru).sum().backward()
    gx = x.grad.clone()
    x.grad = None
    gru(x)[0].sum().backward()
    torch.testing.assert_close(gx, x.grad)
    # one step of the cell equals nn.GRU's step from a nonzero state
    h = torch.randn(3, 5, dtype=torch.float64)
    torch.testing.assert_close(gru_cell(x[0], h, gru), gru(x[:1], h[None])[1][0])
    for steps in (1, 3):
        args = (torch.randn(steps, 2, 6, dtype=torch.float64, requires_grad=True),
                *(p.detach().clone().requires_grad_() for p in gru.parameters()))
        fn = lambda xx, *ps: gru_sequence(xx, _as_gru(ps))  # noqa: E731
        assert torch.autograd.gradcheck(fn, args)
    with pytest.raises(ValueError, match="T, M, input_size"):
        gru_sequence(x[0], gru)


def _as_gru(params):
    """A stand-in for an nn.GRU holding the given parameters (gru_sequence reads only
    these four), so that gradcheck can vary them."""
    w_ih, w_hh, b_ih, b_hh = params
    return SimpleNamespace(weight_ih_l0=w_ih, weight_hh_l0=w_hh, bias_ih_l0=b_ih,
                           bias_hh_l0=b_hh)


def test_forward_sequence_same_with_nn_gru(monkeypatch):
    import socialmarl.learning.policy as pol

    g = barabasi_albert_graph(10, 2, seed=5)
    game = ConsensusGame(g, num_envs=2, seed=3)
    torch.manual_seed(2)
    policy = AttentionPolicy(10, hidden=8)
    o0 = game.reset().to_agent_frame()
    o1 = game.step(torch.ones(2, 10, dtype=torch.long)).obs.to_agent_frame()
    stacked = Observation(*(torch.cat([getattr(o, f) for o in (o0, o1)])
                            for f in ("signal", "own_output")),
                          edge_active=None, t=torch.zeros(4, dtype=torch.long),
                          flips=torch.cat([o0.flips, o1.flips]), edge_index=o0.edge_index,
                          in_agent_frame=True)
    outs = []
    for hand in (True, False):
        monkeypatch.setattr(pol, "_HAND_GRU", hand)
        policy.zero_grad()
        out = policy.forward_sequence(stacked, 2)
        (out.logits.sum() + out.value.sum() + out.belief.sum()).backward()
        outs.append((out, [p.grad.clone() for p in policy.parameters()]))
    torch.testing.assert_close(outs[0][0].hidden, outs[1][0].hidden)
    for a, b in zip(outs[0][1], outs[1][1]):
        torch.testing.assert_close(a, b)
