"""The fused segment softmax + value sum against loop references, and its gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from socialmarl.learning._kernels import sparse_attention
from socialmarl.learning._kernels.segment import EdgeCSR
from socialmarl.learning._kernels.sparse_attention import AttentionLayout, softmax_aggregate
from socialmarl.networks.graph import Graph


def random_graph(n: int, seed: int, p: float = 0.3, isolated: int = 1) -> Graph:
    rng = np.random.default_rng(seed)
    pairs = [(j, i) for i in range(n - isolated) for j in range(n)
             if i != j and rng.random() < p]
    return Graph.from_edges(n, np.array(pairs, dtype=np.int64).reshape(-1, 2))


def layout_of(g: Graph) -> AttentionLayout:
    return AttentionLayout(EdgeCSR(g.edge_index, g.num_nodes))


@pytest.mark.parametrize("n,seed", [(1, 0), (4, 1), (13, 2), (30, 3)])
def test_layout_matches_a_loop(n, seed):
    g = random_graph(n, seed, isolated=min(n, 2))
    lay = layout_of(g)
    src, dst = g.edge_index.tolist()
    recv, send, edge_pos, self_pos, crow = [], [], [0] * len(src), [0] * n, [0]
    for i in range(n):  # per receiver: its in-edges and itself, by sender
        for j in range(n):
            ks = [k for k in range(len(src)) if dst[k] == i and src[k] == j]
            if j == i:
                self_pos[i] = len(recv)
            elif ks:
                edge_pos[ks[0]] = len(recv)
            else:
                continue
            recv.append(i)
            send.append(j)
        crow.append(len(recv))
    assert lay.receivers.tolist() == recv and lay.senders.tolist() == send
    assert lay.edge_pos.tolist() == edge_pos and lay.self_pos.tolist() == self_pos
    assert lay.crow.tolist() == crow and lay.num_entries == len(src) + n


def random_problem(n: int, b: int, d: int, seed: int, dtype=torch.float64):
    """Scores with masked (-inf, code 3) edges, values, codes; self entries never masked."""
    g = random_graph(n, seed)
    lay = layout_of(g)
    gen = torch.Generator().manual_seed(seed)
    m = lay.num_entries
    code = torch.randint(0, 4, (b, m), generator=gen)
    code[:, lay.self_pos] = torch.randint(0, 3, (b, n), generator=gen)
    scores = 2.0 * torch.randn(b, m, generator=gen, dtype=dtype)
    scores[code == 3] = float("-inf")
    v_id = torch.randn(n, d, generator=gen, dtype=dtype)
    v_code = torch.randn(3, d, generator=gen, dtype=dtype)
    col = 4 * lay.senders[None, :] + code
    return lay, scores, v_id, v_code, code, col


def loop_reference(lay, scores, v_id, v_code, code):
    s, vi, vc = (x.detach().numpy() for x in (scores, v_id, v_code))
    b, m = s.shape
    n, d = vi.shape
    w, out = np.zeros((b, m)), np.zeros((b, n, d))
    for bb in range(b):
        for i in range(n):
            ks = [k for k in range(m) if int(lay.receivers[k]) == i]
            ex = np.exp(s[bb, ks] - s[bb, ks].max())
            w[bb, ks] = ex / ex.sum()
            for k in ks:
                c = int(code[bb, k])
                if c < 3:
                    out[bb, i] += w[bb, k] * (vi[int(lay.senders[k])] + vc[c])
    return w, out


@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_loop_reference_and_rows_sum_to_one(seed, fused, monkeypatch):
    monkeypatch.setattr(sparse_attention, "_FUSED_SAMPLED_DOT", fused)
    lay, scores, v_id, v_code, code, col = random_problem(11 + seed, 3, 4, seed)
    out, w = softmax_aggregate(scores, v_id, v_code, col, lay)
    w_ref, out_ref = loop_reference(lay, scores, v_id, v_code, code)
    np.testing.assert_allclose(w.numpy(), w_ref, atol=1e-12)
    np.testing.assert_allclose(out.numpy(), out_ref, atol=1e-12)
    sums = torch.zeros(3, lay.num_nodes, dtype=w.dtype).index_add_(1, lay.receivers, w)
    torch.testing.assert_close(sums, torch.ones_like(sums))
    assert (w[code == 3] == 0).all()


@pytest.mark.parametrize("fused", [True, False])
def test_gradcheck_through_outputs_and_weights(fused, monkeypatch):
    monkeypatch.setattr(sparse_attention, "_FUSED_SAMPLED_DOT", fused)
    lay, scores, v_id, v_code, code, col = random_problem(7, 2, 3, seed=5)
    finite = torch.isfinite(scores)
    base = scores.clone()
    gen = torch.Generator().manual_seed(0)
    mix = torch.randn(2, lay.num_entries, generator=gen, dtype=torch.float64)

    def fn(s_active, vi, vc):  # gradcheck perturbs only the active scores
        s = base.masked_scatter(finite, s_active)
        out, w = softmax_aggregate(s, vi, vc, col, lay)
        return out, w * mix

    inputs = (scores[finite].clone().requires_grad_(), v_id.requires_grad_(),
              v_code.requires_grad_())
    assert torch.autograd.gradcheck(fn, inputs)
    assert torch.autograd.gradcheck(lambda *a: fn(*a)[0], inputs)  # weights unused
    assert torch.autograd.gradcheck(lambda *a: fn(*a)[1], inputs)  # output unused


def test_large_scores_are_stable_and_float32_matches_float64():
    lay, scores, v_id, v_code, code, col = random_problem(20, 4, 8, seed=7)
    big = scores * 500.0
    out, w = softmax_aggregate(big, v_id, v_code, col, lay)
    assert torch.isfinite(out).all() and torch.isfinite(w).all()
    o32, w32 = softmax_aggregate(scores.float(), v_id.float(), v_code.float(), col.int(), lay)
    o64, w64 = softmax_aggregate(scores, v_id, v_code, col, lay)
    torch.testing.assert_close(o32.double(), o64, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(w32.double(), w64, atol=1e-6, rtol=1e-5)


def test_graph_without_edges_is_self_attention_only():
    lay = AttentionLayout(EdgeCSR(torch.zeros((2, 0), dtype=torch.long), 3))
    v_id, v_code = torch.randn(3, 2), torch.randn(3, 2)
    code = torch.tensor([[0, 2, 1]])
    out, w = softmax_aggregate(torch.randn(1, 3), v_id, v_code, 4 * lay.senders + code, lay)
    assert (w == 1).all()
    torch.testing.assert_close(out[0], v_id + v_code[code[0]])


def test_bad_shapes_are_errors():
    lay, scores, v_id, v_code, code, col = random_problem(6, 2, 3, seed=1)
    with pytest.raises(ValueError, match="entries per environment"):
        softmax_aggregate(scores[:, 1:], v_id, v_code, col, lay)
    with pytest.raises(ValueError, match="value_col has shape"):
        softmax_aggregate(scores, v_id, v_code, col[:1], lay)


def test_sparse_matrices_are_canonical_csr():
    """Columns sorted and unique within every row (what cuSPARSE-backed products expect)."""
    lay, scores, v_id, v_code, code, col = random_problem(17, 3, 2, seed=4)
    idx = lay.batched(3)
    b, n, m = 3, lay.num_nodes, lay.num_entries
    flat_col = col.reshape(-1).to(idx["crow_i"].dtype)
    torch.sparse_csr_tensor(idx["crow_i"], flat_col, torch.ones(b * m), (b * n, 4 * n),
                            check_invariants=True)
    torch.sparse_csr_tensor(idx["crow_t"], idx["col_t"], torch.ones(b * m), (b * n, b * n),
                            check_invariants=True)
    for crow, c in ((idx["crow_i"], flat_col), (idx["crow_t"], idx["col_t"])):
        for r in range(b * n):
            row = c[crow[r] : crow[r + 1]]
            assert bool((row[1:] > row[:-1]).all()), r
