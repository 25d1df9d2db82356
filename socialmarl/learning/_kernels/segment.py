"""Per-receiver ("segment") operations over an edge list, batched over environments.

Attention in socialmarl runs over each agent's in-edges, never over an ``N x N`` matrix.
The functions here are general O(E) segment reductions: a value per entry ``(B, M)`` is
grouped by an ``index`` of shape ``(M,)`` (the receiving agent of each entry) into
``num_segments`` groups. Internally the batch is folded into one flat index
``b * num_segments + index`` so that every reduction is a single 1-D ``scatter_reduce``
/ ``index_add``, which is much faster on CPU than the same reduction along dimension 1.

:class:`EdgeCSR` validates a receiver-sorted edge list (as
:class:`~socialmarl.networks.graph.Graph` keeps it) and holds its compressed-row
offsets. The policy's own attention kernel, which fuses the softmax with the value sum,
is :mod:`socialmarl.learning._kernels.sparse_attention`.
"""

from __future__ import annotations

import torch

__all__ = [
    "EdgeCSR",
    "flat_segment_index",
    "segment_max",
    "segment_softmax",
    "segment_sum",
]


def _check_index(src: torch.Tensor, index: torch.Tensor, num_segments: int) -> None:
    if src.dim() < 2:
        raise ValueError(
            f"src has shape {tuple(src.shape)}; segment ops need (B, M, ...) with a batch "
            "dimension first (use src[None] for a single environment)"
        )
    if index.dim() != 1 or index.shape[0] != src.shape[1]:
        raise ValueError(
            f"index has shape {tuple(index.shape)} but src has {src.shape[1]} entries per "
            "environment; give one segment id per entry, shape (M,)"
        )
    if isinstance(num_segments, bool) or not isinstance(num_segments, int) or num_segments < 0:
        raise ValueError(f"num_segments={num_segments!r}: need an integer >= 0")


def flat_segment_index(index: torch.Tensor, batch: int, num_segments: int) -> torch.Tensor:
    """The flat ``(batch * M,)`` index ``b * num_segments + index[m]``.

    Parameters
    ----------
    index : Tensor of int64, shape (M,)
        Segment of each entry.
    batch : int
        Number of environments ``B``.
    num_segments : int
        Number of segments ``S`` per environment.

    Examples
    --------
    >>> import torch
    >>> flat_segment_index(torch.tensor([0, 2, 2]), 2, 3).tolist()
    [0, 2, 2, 3, 5, 5]
    """
    offs = torch.arange(batch, device=index.device, dtype=index.dtype) * num_segments
    return (index[None, :] + offs[:, None]).reshape(-1)


def segment_max(src: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Largest entry of each segment, ``(B, M) -> (B, S)``; empty segments give ``-inf``.

    Parameters
    ----------
    src : Tensor, shape (B, M)
        Values per environment and entry.
    index : Tensor of int64, shape (M,)
        Segment of each entry, in ``0 .. num_segments - 1``.
    num_segments : int
        Number of segments ``S``.

    Examples
    --------
    >>> import torch
    >>> segment_max(torch.tensor([[1.0, 5.0, 2.0]]), torch.tensor([0, 0, 2]), 3).tolist()
    [[5.0, -inf, 2.0]]
    """
    _check_index(src, index, num_segments)
    b = src.shape[0]
    out = src.new_full((b * num_segments,), float("-inf"))
    flat = flat_segment_index(index, b, num_segments)
    out = out.scatter_reduce(0, flat, src.reshape(-1), reduce="amax", include_self=True)
    return out.view(b, num_segments)


def segment_sum(src: torch.Tensor, index: torch.Tensor, num_segments: int) -> torch.Tensor:
    """Sum of the entries of each segment, ``(B, M, *F) -> (B, S, *F)`` (0 where empty).

    Parameters
    ----------
    src : Tensor, shape (B, M, *F)
        Values (scalars or feature vectors) per environment and entry.
    index : Tensor of int64, shape (M,)
        Segment of each entry.
    num_segments : int
        Number of segments ``S``.

    Examples
    --------
    >>> import torch
    >>> segment_sum(torch.tensor([[1.0, 5.0, 2.0]]), torch.tensor([0, 0, 2]), 3).tolist()
    [[6.0, 0.0, 2.0]]
    """
    _check_index(src, index, num_segments)
    b, m = src.shape[:2]
    feat = src.shape[2:]
    flat = flat_segment_index(index, b, num_segments)
    out = src.new_zeros((b * num_segments, *feat))
    out = out.index_add(0, flat, src.reshape(b * m, *feat))
    return out.view(b, num_segments, *feat)


def segment_softmax(scores: torch.Tensor, index: torch.Tensor, num_segments: int, *,
                    flat_index: torch.Tensor | None = None) -> torch.Tensor:
    """Softmax of ``scores`` within each segment (stable; masked entries hold ``-inf``).

    Each segment is shifted by its (detached) maximum before ``exp``, so large scores do
    not overflow; the result does not depend on the shift. Entries equal to ``-inf`` get
    weight exactly 0; a segment whose entries are all ``-inf`` gets all zeros, not NaN.
    Cost O(B * M): one ``scatter_reduce``, one ``exp``, one ``index_add``.

    Parameters
    ----------
    scores : Tensor, shape (B, M)
        Scores per environment and entry.
    index : Tensor of int64, shape (M,)
        Segment (receiving agent) of each entry.
    num_segments : int
        Number of segments ``S``.
    flat_index : Tensor of int64, shape (B * M,), optional
        ``flat_segment_index(index, B, num_segments)``, when the caller caches it.

    Returns
    -------
    Tensor, shape (B, M)
        Weights that sum to 1 over each non-empty segment.

    Examples
    --------
    >>> import torch
    >>> w = segment_softmax(torch.tensor([[0.0, 0.0, 3.0, float("-inf")]]),
    ...                     torch.tensor([0, 0, 1, 1]), 2)
    >>> w.tolist()
    [[0.5, 0.5, 1.0, 0.0]]
    """
    _check_index(scores, index, num_segments)
    b = scores.shape[0]
    if flat_index is None:
        flat = flat_segment_index(index, b, num_segments)
    elif flat_index.shape != (scores.numel(),):
        raise ValueError(
            f"flat_index has shape {tuple(flat_index.shape)}; expected ({scores.numel()},) "
            "from flat_segment_index(index, B, num_segments)"
        )
    else:
        flat = flat_index
    return _SegmentSoftmax.apply(scores, flat, b * num_segments)


class _SegmentSoftmax(torch.autograd.Function):
    """Segment softmax with a hand-written backward ``w * (g - segment_sum(w g))``.

    Autograd through the forward's ``exp`` / ``index_add`` / ``index_select`` / ``div``
    chain costs about twice as many passes over the ``(B, M)`` entries; masked (``-inf``)
    entries have ``w = 0`` and so get gradient 0.
    """

    @staticmethod
    def forward(ctx, scores, flat, total):
        shift = scores.new_full((total,), float("-inf")).scatter_reduce_(
            0, flat, scores.reshape(-1), reduce="amax", include_self=True
        )
        shift = torch.where(torch.isfinite(shift), shift, torch.zeros_like(shift))
        e = torch.sub(scores, shift.index_select(0, flat).view_as(scores)).exp_()
        denom = e.new_zeros(total).index_add_(0, flat, e.reshape(-1))
        # A non-empty segment has denominator >= 1 (its maximum contributes exp(0) = 1).
        denom = torch.where(denom > 0, denom, torch.ones_like(denom))
        w = e.div_(denom.index_select(0, flat).view_as(e))
        ctx.save_for_backward(w, flat)
        ctx.total = total
        return w

    @staticmethod
    def backward(ctx, grad_w):
        w, flat = ctx.saved_tensors
        gw = grad_w * w
        ssum = gw.new_zeros(ctx.total).index_add_(0, flat, gw.reshape(-1))
        return gw.addcmul_(w, ssum.index_select(0, flat).view_as(w), value=-1.0), None, None


class EdgeCSR:
    """Validated compressed-row structure of a receiver-sorted edge list.

    Parameters
    ----------
    edge_index : Tensor of int64, shape (2, E)
        Row 0 senders, row 1 receivers, sorted by receiver (as
        :class:`~socialmarl.networks.graph.Graph` keeps it).
    num_nodes : int
        Number of agents ``N``.

    Raises
    ------
    ValueError
        If the shape is wrong, an id is out of range, the edges are not sorted by
        receiver, there is a self loop or a duplicate edge.

    Examples
    --------
    >>> import torch
    >>> csr = EdgeCSR(torch.tensor([[1, 2, 0], [0, 0, 2]]), 3)
    >>> csr.crow.tolist()
    [0, 2, 2, 3]
    """

    def __init__(self, edge_index: torch.Tensor, num_nodes: int) -> None:
        ei = edge_index
        if not isinstance(ei, torch.Tensor) or ei.dim() != 2 or ei.shape[0] != 2:
            shape = tuple(ei.shape) if isinstance(ei, torch.Tensor) else type(ei).__name__
            raise ValueError(f"edge_index has shape {shape}; it must be a (2, E) tensor")
        if ei.is_floating_point() or ei.dtype == torch.bool:
            raise ValueError(f"edge_index has dtype {ei.dtype}; node ids must be integers")
        ei = ei.long()
        n = int(num_nodes)
        src, dst = ei[0].contiguous(), ei[1].contiguous()
        e = int(src.numel())
        if e:
            lo, hi = int(ei.min()), int(ei.max())
            if lo < 0 or hi >= n:
                bad = lo if lo < 0 else hi
                raise ValueError(
                    f"edge_index refers to agent {bad}, outside 0..{n - 1}; the observation "
                    "and the policy must have the same number of agents"
                )
            if bool((dst[1:] < dst[:-1]).any()):
                raise ValueError(
                    "edge_index is not sorted by receiver (row 1); build the game from a "
                    "socialmarl Graph, which keeps edges sorted, or sort the edges first"
                )
            loops = src == dst
            if bool(loops.any()):
                k = int(torch.nonzero(loops)[0])
                raise ValueError(
                    f"edge_index has a self loop at agent {int(src[k])}; an agent always "
                    "attends to itself, so drop self loops (Graph.remove_self_loops())"
                )
            if int(torch.unique(dst * n + src).numel()) != e:
                raise ValueError(
                    "edge_index has duplicate edges; merge them first "
                    "(Graph.from_edges(..., merge='sum'))"
                )
        self.senders = src
        self.receivers = dst
        self.num_nodes = n
        self.num_edges = e
        self.crow = torch.searchsorted(dst, torch.arange(n + 1, device=dst.device))
