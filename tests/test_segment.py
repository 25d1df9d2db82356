"""Segment ops against slow, obviously-correct NumPy loops."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from socialmarl.learning._kernels.segment import (
    EdgeCSR,
    flat_segment_index,
    segment_max,
    segment_softmax,
    segment_sum,
)


def _random_case(seed: int, b: int = 3, m: int = 40, s: int = 9):
    g = torch.Generator().manual_seed(seed)
    index = torch.randint(0, s - 2, (m,), generator=g)  # segments s-2 and s-1 stay empty
    src = torch.randn(b, m, generator=g, dtype=torch.float64) * 3
    return src, index, s


def _ref_segments(src: np.ndarray, index: np.ndarray, s: int, op) -> np.ndarray:
    b = src.shape[0]
    out = np.zeros((b, s) + src.shape[2:])
    for bb in range(b):
        for k in range(s):
            out[bb, k] = op(src[bb, index == k])
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_segment_max_and_sum_match_loops(seed):
    src, index, s = _random_case(seed)
    got_max = segment_max(src, index, s).numpy()
    ref_max = _ref_segments(src.numpy(), index.numpy(), s,
                            lambda v: v.max() if v.size else -np.inf)
    np.testing.assert_array_equal(got_max, ref_max)
    got_sum = segment_sum(src, index, s).numpy()
    ref_sum = _ref_segments(src.numpy(), index.numpy(), s, lambda v: v.sum())
    np.testing.assert_allclose(got_sum, ref_sum, atol=1e-12)


def test_segment_sum_features():
    src, index, s = _random_case(3)
    feat = torch.stack([src, 2 * src, -src], dim=-1)  # (B, M, 3)
    got = segment_sum(feat, index, s).numpy()
    ref = _ref_segments(feat.numpy(), index.numpy(), s, lambda v: v.sum(axis=0))
    np.testing.assert_allclose(got, ref, atol=1e-12)


def _ref_softmax(scores: np.ndarray, index: np.ndarray) -> np.ndarray:
    out = np.zeros_like(scores)
    for b in range(scores.shape[0]):
        for k in np.unique(index):
            sel = index == k
            v = scores[b, sel]
            if np.all(np.isneginf(v)):
                continue
            ex = np.exp(v - v[np.isfinite(v)].max())
            out[b, sel] = ex / ex.sum()
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_segment_softmax_matches_loop_with_masks(seed):
    src, index, s = _random_case(seed)
    g = torch.Generator().manual_seed(100 + seed)
    masked = torch.rand(src.shape, generator=g) < 0.3
    masked[:, index == 0] = True  # segment 0 entirely masked: all zeros, no NaN
    scores = src.masked_fill(masked, float("-inf"))
    got = segment_softmax(scores, index, s)
    ref = _ref_softmax(scores.numpy(), index.numpy())
    np.testing.assert_allclose(got.numpy(), ref, atol=1e-12)
    assert not torch.isnan(got).any()
    assert (got[masked] == 0).all()
    sums = segment_sum(got, index, s)
    nonempty = torch.zeros(s, dtype=torch.bool)
    nonempty[index] = True
    live = segment_sum((~masked).double(), index, s) > 0
    np.testing.assert_allclose(sums[live].numpy(), 1.0, atol=1e-12)
    assert (sums[~live] == 0).all()
    assert not nonempty[s - 1]


def test_segment_softmax_with_cached_flat_index_matches_loop():
    src, index, s = _random_case(5)
    scores = src.masked_fill(torch.rand(src.shape, generator=torch.Generator().manual_seed(1))
                             < 0.3, float("-inf"))
    flat = flat_segment_index(index, scores.shape[0], s)
    got = segment_softmax(scores, index, s, flat_index=flat)
    np.testing.assert_allclose(got.numpy(), _ref_softmax(scores.numpy(), index.numpy()),
                               atol=1e-12)
    with pytest.raises(ValueError, match="flat_index has shape"):
        segment_softmax(scores, index, s, flat_index=flat[:-1])


def test_segment_softmax_is_stable_for_huge_scores():
    index = torch.tensor([0, 0, 1, 1])
    scores = torch.tensor([[1e4, 1e4 - 1.0, -1e4, -1e4 + 2.0]], dtype=torch.float32)
    got = segment_softmax(scores, index, 2)
    a = 1.0 / (1.0 + np.exp(-1.0))
    c = 1.0 / (1.0 + np.exp(-2.0))
    np.testing.assert_allclose(got.numpy(), [[a, 1 - a, 1 - c, c]], rtol=1e-6)


def test_segment_softmax_gradient():
    src, index, s = _random_case(7, b=2, m=12, s=5)
    src.requires_grad_(True)
    w = torch.randn(2, 12, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: segment_softmax(x, index, s) * w, (src,))


def test_flat_index_and_bad_input():
    assert flat_segment_index(torch.tensor([1, 0]), 3, 4).tolist() == [1, 0, 5, 4, 9, 8]
    with pytest.raises(ValueError, match="batch dimension"):
        segment_sum(torch.zeros(5), torch.zeros(5, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="one segment id per entry"):
        segment_softmax(torch.zeros(1, 5), torch.zeros(4, dtype=torch.long), 2)


def test_edge_csr_structure_and_errors():
    csr = EdgeCSR(torch.tensor([[1, 2, 0], [0, 0, 2]]), 3)
    assert csr.crow.tolist() == [0, 2, 2, 3]
    with pytest.raises(ValueError, match="not sorted by receiver"):
        EdgeCSR(torch.tensor([[0, 1], [2, 0]]), 3)
    with pytest.raises(ValueError, match="self loop at agent 1"):
        EdgeCSR(torch.tensor([[1], [1]]), 3)
    with pytest.raises(ValueError, match="duplicate"):
        EdgeCSR(torch.tensor([[1, 1], [0, 0]]), 3)
    with pytest.raises(ValueError, match="agent 5, outside 0..2"):
        EdgeCSR(torch.tensor([[5], [0]]), 3)
    with pytest.raises(ValueError, match=r"must be a \(2, E\)"):
        EdgeCSR(torch.zeros(3, 2, dtype=torch.long), 3)
