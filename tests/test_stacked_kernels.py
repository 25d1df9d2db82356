"""Stacked-population kernels: each equals a loop over populations of the single kernel.

``P = 3`` populations with their own parameters; forward values and every gradient are
compared against the single-population kernels run once per population and against plain
torch references (``layer_norm`` + ``relu``, ``nn.GRU``, a dense masked softmax), in
float64 (to 1e-10) and float32 (to 1e-5), plus float64 gradchecks of small cases.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from socialmarl.learning._kernels import sparse_attention
from socialmarl.learning._kernels.gru import (
    gru_cell,
    gru_cell_stacked,
    gru_sequence,
    gru_sequence_stacked,
)
from socialmarl.learning._kernels.layer_norm import layer_norm_relu, layer_norm_relu_stacked
from socialmarl.learning._kernels.segment import EdgeCSR
from socialmarl.learning._kernels.sparse_attention import AttentionLayout, softmax_aggregate
from socialmarl.networks.graph import Graph

P = 3
TOL = {torch.float64: {"atol": 1e-10, "rtol": 1e-10}, torch.float32: {"atol": 1e-5, "rtol": 1e-5}}
DTYPES = [torch.float64, torch.float32]


def _grads(out, inputs, weight):
    """Gradients of ``sum(out * weight)`` (``out`` and ``weight`` may be tuples)."""
    if isinstance(out, torch.Tensor):
        out, weight = (out,), (weight,)
    loss = sum((o * w).sum() for o, w in zip(out, weight))
    return torch.autograd.grad(loss, inputs)


def _close(got, want, dtype, msg=""):
    torch.testing.assert_close(got, want, **TOL[dtype], msg=msg)


def _leaf(t):
    return t.detach().clone().requires_grad_()


# --------------------------------------------------------------------------- layer norm
def _ln_inputs(shape, dtype, seed):
    gen = torch.Generator().manual_seed(seed)
    h = shape[-1]
    x = 3.0 * torch.randn(*shape, generator=gen, dtype=dtype) + 1.5
    w = torch.rand(P, h, generator=gen, dtype=dtype) + 0.5  # a different affine per population
    b = torch.randn(P, h, generator=gen, dtype=dtype)
    g = torch.randn(*shape, generator=gen, dtype=dtype)
    return _leaf(x), _leaf(w), _leaf(b), g


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(P, 7, 5), (P, 40, 50), (P, 2, 3, 6)])
def test_layer_norm_stacked_matches_loop_and_torch(shape, dtype):
    x, w, b, g = _ln_inputs(shape, dtype, seed=len(shape))
    got = layer_norm_relu_stacked(x, w, b)
    g_got = _grads(got, (x, w, b), g)
    # the single-population kernel once per population, through nn.LayerNorm modules
    x_l, w_l, b_l = _leaf(x), _leaf(w), _leaf(b)
    loop = []
    for p in range(P):
        norm = SimpleNamespace(normalized_shape=(shape[-1],), weight=w_l[p], bias=b_l[p],
                               eps=1e-5)
        loop.append(layer_norm_relu(x_l[p], norm))
    loop = torch.stack(loop)
    g_loop = _grads(loop, (x_l, w_l, b_l), g)
    # plain torch
    x_t, w_t, b_t = _leaf(x), _leaf(w), _leaf(b)
    ref = torch.stack([torch.relu(F.layer_norm(x_t[p], shape[-1:], w_t[p], b_t[p]))
                       for p in range(P)])
    g_ref = _grads(ref, (x_t, w_t, b_t), g)
    _close(got, loop, dtype)
    _close(got, ref, dtype)
    for a, c, r, name in zip(g_got, g_loop, g_ref, ("x", "weight", "bias")):
        _close(a, c, dtype, name)
        _close(a, r, dtype, name)


def test_layer_norm_stacked_gradcheck_and_partial_gradients():
    x, w, b, _ = _ln_inputs((P, 4, 5), torch.float64, seed=7)
    assert torch.autograd.gradcheck(layer_norm_relu_stacked, (x, w, b))
    assert torch.autograd.gradcheck(lambda a, ww, bb: layer_norm_relu_stacked(a, ww, bb, 1e-3),
                                    (x, w, b))
    w.requires_grad_(False)
    x.requires_grad_(False)
    layer_norm_relu_stacked(x, w, b).sum().backward()
    assert b.grad is not None and w.grad is None and x.grad is None


def test_layer_norm_single_population_stack_equals_layer_norm_relu():
    x, w, b, g = _ln_inputs((1, 30, 8), torch.float64, seed=3)
    norm = SimpleNamespace(normalized_shape=(8,), weight=w[0], bias=b[0], eps=1e-5)
    got = layer_norm_relu_stacked(x, w[:1], b[:1])
    torch.testing.assert_close(got[0], layer_norm_relu(x[0], norm), atol=1e-13, rtol=0)


def test_layer_norm_stacked_bad_shapes():
    x, w, b, _ = _ln_inputs((P, 4, 5), torch.float64, seed=0)
    with pytest.raises(ValueError, match=r"weight and bias must both be \(P, H\)"):
        layer_norm_relu_stacked(x, w[0], b[0])
    with pytest.raises(ValueError, match=r"x must be \(P, R, H\)"):
        layer_norm_relu_stacked(x[:2], w, b)
    with pytest.raises(ValueError, match=r"x must be \(P, R, H\)"):
        layer_norm_relu_stacked(x[..., :4], w, b)


# --------------------------------------------------------------------------- GRU
def _grus(i, hd, dtype, seed):
    """P GRUs with random nonzero biases; their parameters stacked as (P, ...)."""
    torch.manual_seed(seed)
    grus = [torch.nn.GRU(i, hd).to(dtype) for _ in range(P)]
    for gru in grus:
        for p in gru.parameters():
            torch.nn.init.normal_(p, std=0.5)
    names = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
    stacked = [_leaf(torch.stack([getattr(g, n) for g in grus])) for n in names]
    return grus, stacked


def _as_gru(w_ih, w_hh, b_ih, b_hh):
    return SimpleNamespace(weight_ih_l0=w_ih, weight_hh_l0=w_hh, bias_ih_l0=b_ih,
                           bias_hh_l0=b_hh)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gru_cell_stacked_matches_loop_and_nn_gru(dtype):
    i, hd, r = 6, 5, 7
    grus, params = _grus(i, hd, dtype, seed=0)
    gen = torch.Generator().manual_seed(1)
    x = _leaf(torch.randn(P, r, i, generator=gen, dtype=dtype))
    h = _leaf(torch.randn(P, r, hd, generator=gen, dtype=dtype))
    g = torch.randn(P, r, hd, generator=gen, dtype=dtype)
    got = gru_cell_stacked(x, h, *params)
    g_got = _grads(got, [x, h, *params], g)
    # the single-population cell once per population
    xl, hl, pl = _leaf(x), _leaf(h), [_leaf(t) for t in params]
    loop = torch.stack([gru_cell(xl[p], hl[p], _as_gru(*(t[p] for t in pl))) for p in range(P)])
    g_loop = _grads(loop, [xl, hl, *pl], g)
    # nn.GRU modules
    ref = torch.stack([grus[p](x[p, None].detach(), h[p, None].detach())[1][0]
                       for p in range(P)])
    _close(got, loop, dtype)
    _close(got, ref, dtype)
    for a, c, name in zip(g_got, g_loop, ("x", "h", "w_ih", "w_hh", "b_ih", "b_hh")):
        _close(a, c, dtype, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("steps", [1, 4])
def test_gru_sequence_stacked_matches_loop_and_nn_gru(steps, dtype):
    i, hd, r = 6, 5, 4
    grus, params = _grus(i, hd, dtype, seed=steps)
    gen = torch.Generator().manual_seed(2)
    x = _leaf(torch.randn(steps, P, r, i, generator=gen, dtype=dtype))
    g = torch.randn(steps, P, r, hd, generator=gen, dtype=dtype)
    got = gru_sequence_stacked(x, *params)
    assert got.shape == (steps, P, r, hd)
    g_got = _grads(got, [x, *params], g)
    # gru_sequence once per population
    xl, pl = _leaf(x), [_leaf(t) for t in params]
    loop = torch.stack([gru_sequence(xl[:, p], _as_gru(*(t[p] for t in pl)))
                        for p in range(P)], 1)
    g_loop = _grads(loop, [xl, *pl], g)
    # nn.GRU modules, their own gradients
    xr = _leaf(x)
    ref = torch.stack([grus[p](xr[:, p])[0] for p in range(P)], 1)
    mods = [list(gru.parameters()) for gru in grus]  # w_ih, w_hh, b_ih, b_hh
    g_ref = _grads(ref, [xr] + [q for ps in mods for q in ps], g)
    g_ref = [g_ref[0]] + [torch.stack(g_ref[1 + k::4]) for k in range(4)]
    _close(got, loop, dtype)
    _close(got, ref, dtype)
    for a, c, e, name in zip(g_got, g_loop, g_ref, ("x", "w_ih", "w_hh", "b_ih", "b_hh")):
        _close(a, c, dtype, name)
        _close(a, e, dtype, name)


def test_gru_sequence_stacked_expanded_gradient_and_gradcheck():
    grus, params = _grus(3, 2, torch.float64, seed=5)
    x = torch.randn(3, P, 2, 3, dtype=torch.float64, requires_grad=True)
    gru_sequence_stacked(x, *params).sum().backward()  # an expanded (stride-0) gradient
    gx = x.grad.clone()
    x.grad = None
    torch.stack([grus[p](x[:, p])[0] for p in range(P)], 1).sum().backward()
    torch.testing.assert_close(gx, x.grad, atol=1e-12, rtol=0)
    for steps in (1, 3):
        args = (torch.randn(steps, P, 2, 3, dtype=torch.float64, requires_grad=True),
                *(_leaf(t) for t in params))
        assert torch.autograd.gradcheck(gru_sequence_stacked, args)
    h = torch.randn(P, 2, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gru_cell_stacked, (_leaf(x[0]), h, *params))


def test_gru_single_population_stack_equals_gru_sequence():
    grus, params = _grus(4, 3, torch.float64, seed=9)
    x = torch.randn(5, 1, 6, 4, dtype=torch.float64)
    got = gru_sequence_stacked(x, *(t[:1] for t in params))
    want = gru_sequence(x[:, 0], grus[0])
    torch.testing.assert_close(got[:, 0], want, atol=1e-13, rtol=0)


def test_gru_stacked_bad_shapes():
    _, (w_ih, w_hh, b_ih, b_hh) = _grus(4, 3, torch.float64, seed=0)
    x = torch.randn(5, P, 2, 4, dtype=torch.float64)
    with pytest.raises(ValueError, match="leading population dimension"):
        gru_sequence_stacked(x, w_ih[0], w_hh[0], b_ih[0], b_hh[0])
    with pytest.raises(ValueError, match="w_hh has shape"):
        gru_sequence_stacked(x, w_ih, w_hh[:2], b_ih, b_hh)
    with pytest.raises(ValueError, match=r"x must be \(T, P, R, I\)"):
        gru_sequence_stacked(x[0], w_ih, w_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match=r"x must be \(T, P, R, I\)"):
        gru_sequence_stacked(x[:, :2], w_ih, w_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match=r"h has shape"):
        gru_cell_stacked(x[0], torch.zeros(P, 2, 4, dtype=torch.float64), w_ih, w_hh, b_ih,
                         b_hh)


# --------------------------------------------------------------------------- attention
def _attention_problem(n, bp, d, seed, dtype, order=None):
    """P populations x ``bp`` environments: scores with masked (-inf, code 3) edges,
    per-population value tables and ``value_col`` with each environment's offset.

    ``order`` permutes the environments (the kernel takes any order)."""
    rng = np.random.default_rng(seed)
    pairs = [(j, i) for i in range(n - 1) for j in range(n) if i != j and rng.random() < 0.3]
    g = Graph.from_edges(n, np.array(pairs, dtype=np.int64).reshape(-1, 2))
    lay = AttentionLayout(EdgeCSR(g.edge_index, n))
    gen = torch.Generator().manual_seed(seed)
    m, b = lay.num_entries, P * bp
    code = torch.randint(0, 4, (b, m), generator=gen)
    code[:, lay.self_pos] = torch.randint(0, 3, (b, n), generator=gen)
    scores = 2.0 * torch.randn(b, m, generator=gen, dtype=dtype)
    scores[code == 3] = float("-inf")
    v_id = torch.randn(P, n, d, generator=gen, dtype=dtype)
    v_code = torch.randn(P, 3, d, generator=gen, dtype=dtype)
    pop = torch.arange(P).repeat_interleave(bp)  # environments grouped by population
    if order is not None:
        pop = pop[order]
    col = 4 * lay.senders[None, :] + code  # within the population's table
    return lay, scores, v_id, v_code, code, col, pop


def _dense_attention(lay, scores, v_id, v_code, code, pop):
    """(B, N, N) masked softmax, in plain differentiable torch."""
    b, m = scores.shape
    n, d = v_id.shape[1:]
    recv, send = lay.receivers, lay.senders
    dense = scores.new_full((b, n, n), float("-inf"))
    dense = dense.index_put((torch.arange(b)[:, None], recv[None], send[None]), scores)
    att = torch.softmax(dense, -1)
    vc4 = torch.cat([v_code, v_code.new_zeros(P, 1, d)], 1)  # code 3: value 0, weight 0
    vals = v_code.new_zeros(b, n, n, d).index_put(
        (torch.arange(b)[:, None], recv[None], send[None]),
        v_id[pop][:, send] + vc4[pop[:, None], code])
    out = torch.einsum("bij,bijd->bid", att, vals)
    return out, att[:, recv, send]


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shuffle", [False, True])
def test_softmax_aggregate_stacked_matches_loop_and_dense(dtype, fused, shuffle, monkeypatch):
    monkeypatch.setattr(sparse_attention, "_FUSED_SAMPLED_DOT", fused)
    bp, d = 2, 4
    order = torch.randperm(P * bp, generator=torch.Generator().manual_seed(4)) if shuffle \
        else None
    lay, scores, v_id, v_code, code, col, pop = _attention_problem(12, bp, d, 3, dtype, order)
    n = lay.num_nodes
    gen = torch.Generator().manual_seed(8)
    go = torch.randn(P * bp, n, d, generator=gen, dtype=dtype)
    gw = torch.randn(P * bp, lay.num_entries, generator=gen, dtype=dtype)
    s, vi, vc = _leaf(scores), _leaf(v_id), _leaf(v_code)
    out, w = softmax_aggregate(s, vi, vc, col + (4 * n) * pop[:, None], lay)
    g_got = _grads((out, w), (s, vi, vc), (go, gw))
    assert (w[code == 3] == 0).all()
    # the single-population kernel once per population, on its environments
    s_l, vi_l, vc_l = _leaf(scores), _leaf(v_id), _leaf(v_code)
    out_l, w_l = torch.zeros_like(out), torch.zeros_like(w)
    for p in range(P):
        envs = (pop == p).nonzero()[:, 0]
        o, ww = softmax_aggregate(s_l[envs], vi_l[p], vc_l[p], col[envs], lay)
        out_l, w_l = out_l.index_copy(0, envs, o), w_l.index_copy(0, envs, ww)
    g_loop = _grads((out_l, w_l), (s_l, vi_l, vc_l), (go, gw))
    # dense reference
    s_r, vi_r, vc_r = _leaf(scores), _leaf(v_id), _leaf(v_code)
    out_r, w_r = _dense_attention(lay, s_r, vi_r, vc_r, code, pop)
    g_ref = _grads((out_r, w_r), (s_r, vi_r, vc_r), (go, gw))
    for got_t, loop_t, ref_t, name in zip((out, w, *g_got), (out_l, w_l, *g_loop),
                                          (out_r, w_r, *g_ref),
                                          ("out", "w", "scores", "v_id", "v_code")):
        _close(got_t, loop_t, dtype, name)
        _close(got_t, ref_t, dtype, name)


def test_softmax_aggregate_stacked_gradcheck():
    lay, scores, v_id, v_code, code, col, pop = _attention_problem(6, 1, 3, 5, torch.float64)
    col = col + (4 * lay.num_nodes) * pop[:, None]
    finite = torch.isfinite(scores)
    mix = torch.randn(scores.shape, generator=torch.Generator().manual_seed(0),
                      dtype=torch.float64)

    def fn(s_active, vi, vc):  # gradcheck perturbs only the active scores
        out, w = softmax_aggregate(scores.masked_scatter(finite, s_active), vi, vc, col, lay)
        return out, w * mix

    inputs = (_leaf(scores[finite]), _leaf(v_id), _leaf(v_code))
    assert torch.autograd.gradcheck(fn, inputs)
    assert torch.autograd.gradcheck(lambda *a: fn(*a)[0], inputs)  # weights unused
    assert torch.autograd.gradcheck(lambda *a: fn(*a)[1], inputs)  # output unused


def test_softmax_aggregate_single_population_stack_equals_unstacked():
    lay, scores, v_id, v_code, code, col, _ = _attention_problem(9, 1, 3, 2, torch.float64)
    out, w = softmax_aggregate(scores, v_id[:1], v_code[:1], col, lay)
    out1, w1 = softmax_aggregate(scores, v_id[0], v_code[0], col, lay)
    torch.testing.assert_close(out, out1, atol=0, rtol=0)
    torch.testing.assert_close(w, w1, atol=0, rtol=0)


def test_softmax_aggregate_bad_tables():
    lay, scores, v_id, v_code, code, col, _ = _attention_problem(6, 1, 3, 1, torch.float64)
    with pytest.raises(ValueError, match="v_id and v_code must be"):
        softmax_aggregate(scores, v_id, v_code[0], col, lay)  # stacked v_id, flat v_code
    with pytest.raises(ValueError, match="v_id and v_code must be"):
        softmax_aggregate(scores, v_id[:, 1:], v_code, col, lay)  # wrong N
    with pytest.raises(ValueError, match="v_id and v_code must be"):
        softmax_aggregate(scores, v_id, v_code[:2], col, lay)  # P differs
