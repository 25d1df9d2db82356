"""The policy's O(E) attention kernel: a segment softmax fused with the value sum.

Every agent ``i`` attends over its in-edges and itself. :class:`AttentionLayout` lays
these ``M = E + N`` *entries* out receiver by receiver, and within a receiver by sender
(``i``'s self entry among its in-edges), so the entries of each receiver are one
contiguous segment and every sparse matrix below is a canonical, column-sorted CSR
matrix. :func:`softmax_aggregate` then computes, for ``B`` environments,

    w[b, m]   = exp(s[b, m]) / sum over the segment of m of exp(s)
    out[b, i] = sum over the entries m of i of w[b, m] * z[col[b, m]]

where the value ``z`` of an entry is a row of a small ``(4 N, d)`` table indexed by
``col = 4 * sender + code`` (the policy's values are a sender part plus a code part).
All the work over the ``B x M`` entries is done by

* one segmented maximum (for a stable softmax) and one ``exp``;
* one sparse CSR product with the table widened by a one-hot code block and a column of
  ones, which gives the unnormalised value sum, the weight per code and the softmax
  denominator at once;

and the backward by one sampled dense-dense product (the gradient of every weight), the
transposed CSR product (the gradient of the sender part of the table) and elementwise
work; the softmax's segment sum of ``w * dL/dw`` is the row dot product
``dL/dout[b, i] . out[b, i]``. No per-entry scatter-add remains on the hot path (those
are single-threaded on the CPU); this kernel replaced one that used six of them and
made a PPO minibatch's attention about 3x faster on the project's 2-core machine
(``benchmarks/README.md``).

A receiver's self entry always exists, so no segment is empty and every softmax
denominator is at least 1; entries whose score is ``-inf`` (inactive edges) get weight 0.

*Stacked populations.* With value tables of ``P`` populations (``v_id`` ``(P, N, d)``,
``v_code`` ``(P, 3, d)``) the table is ``(P 4 N, d)`` and ``col = p 4 N + 4 * sender +
code`` for an environment of population ``p``: the same CSR products over a wider table,
so every environment runs against its own population's values with no loop over
populations. Only the backward's reductions over environments (the gradients of the
tables) become per-population sums.
"""

from __future__ import annotations

import warnings

import torch

from .segment import EdgeCSR

__all__ = ["AttentionLayout", "softmax_aggregate"]

NUM_VALUE_CODES = 4
"""Rows per sender in the value table: codes 0, 1, wait, and no-edge (weight 0)."""


def _csr(crow: torch.Tensor, col: torch.Tensor, values: torch.Tensor,
         shape: tuple[int, int]) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR tensor support is in beta"
        return torch.sparse_csr_tensor(crow, col, values, shape, device=values.device)


class AttentionLayout:
    """Attention entries of an edge list (in-edges and self), sorted by receiver, then sender.

    Parameters
    ----------
    csr : EdgeCSR
        The validated, receiver-sorted edge structure of ``N`` agents and ``E`` edges.

    Attributes
    ----------
    num_nodes, num_edges, num_entries : int
        ``N``, ``E`` and ``M = E + N``.
    receivers, senders : Tensor of int64, shape (M,)
        Receiver and sender of each entry (a self entry has both equal to the agent).
    edge_pos : Tensor of int64, shape (E,)
        Entry of each edge of the edge list.
    self_pos : Tensor of int64, shape (N,)
        Entry of each agent's self entry.
    crow : Tensor of int64, shape (N + 1,)
        Segment offsets: the entries of agent ``i`` are ``crow[i] .. crow[i + 1] - 1``.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.learning._kernels.segment import EdgeCSR
    >>> lay = AttentionLayout(EdgeCSR(torch.tensor([[1, 2, 0], [0, 0, 2]]), 3))
    >>> lay.receivers.tolist(), lay.senders.tolist()
    ([0, 0, 0, 1, 2, 2], [0, 1, 2, 1, 0, 2])
    >>> lay.edge_pos.tolist(), lay.self_pos.tolist()
    ([1, 2, 4], [0, 3, 5])
    """

    def __init__(self, csr: EdgeCSR) -> None:
        n, e = csr.num_nodes, csr.num_edges
        dev = csr.senders.device
        ar_n = torch.arange(n, device=dev)
        self.num_nodes, self.num_edges, self.num_entries = n, e, e + n
        recv = torch.cat([csr.receivers, ar_n])  # the edges, then the self entries
        send = torch.cat([csr.senders, ar_n])
        order = torch.argsort(recv * max(n, 1) + send)  # keys are unique (no self loops)
        pos = torch.empty_like(order)
        pos[order] = torch.arange(e + n, device=dev)
        self.edge_pos, self.self_pos = pos[:e], pos[e:]
        self.receivers, self.senders = recv[order], send[order]
        self.crow = csr.crow + torch.cat([ar_n.new_zeros(1), ar_n + 1])
        # Entries by (sender, receiver): the order of the transposed product.
        self._by_sender = torch.argsort(self.senders * max(n, 1) + self.receivers)
        self._crow_t = torch.cat([ar_n.new_zeros(1), torch.bincount(self.senders,
                                                                    minlength=n).cumsum(0)])
        self._cache: dict[int, dict[str, torch.Tensor]] = {}

    def index_dtype(self, batch: int) -> torch.dtype:
        """int32 for the CSR index tensors of ``batch`` environments where they fit."""
        big = batch * max(self.num_entries, NUM_VALUE_CODES * self.num_nodes)
        return torch.int32 if big < 2**31 - 1 else torch.int64

    def batched(self, batch: int) -> dict[str, torch.Tensor]:
        """Flat index tensors for ``batch`` environments (cached per batch size).

        Keys: ``seg`` (B M,) the segment ``b N + receiver`` of every flat entry ``b M + m``;
        ``crow`` (B N + 1,) int64 segment offsets; ``crow_i`` the same in
        :meth:`index_dtype`; ``perm_t``, ``crow_t``, ``col_t``: the flat entries by
        (environment, sender, receiver) and the CSR structure of the block-diagonal
        ``(B N, B N)`` transposed matrix (row ``b N + sender``, column ``b N + receiver``).
        """
        hit = self._cache.get(batch)
        if hit is not None:
            return hit
        n, m = self.num_nodes, self.num_entries
        dev = self.receivers.device
        itype = self.index_dtype(batch)
        b_m = torch.arange(batch, device=dev)[:, None] * m
        b_n = torch.arange(batch, device=dev)[:, None] * n
        end = torch.tensor([batch * m], device=dev)
        crow = torch.cat([(self.crow[:-1][None, :] + b_m).reshape(-1), end])
        out = {
            "seg": (self.receivers[None, :] + b_n).reshape(-1),
            "crow": crow,
            "crow_i": crow.to(itype),
            "perm_t": (self._by_sender[None, :] + b_m).reshape(-1),
            "crow_t": torch.cat([(self._crow_t[:-1][None, :] + b_m).reshape(-1), end]).to(itype),
            "col_t": (self.receivers[self._by_sender][None, :] + b_n).reshape(-1).to(itype),
        }
        if len(self._cache) >= 8:
            self._cache.pop(next(iter(self._cache)))
        self._cache[batch] = out
        return out


_FUSED_SAMPLED_DOT = True  # torch.sparse.sampled_addmm on the CPU (tests switch it off)


def _sampled_rowdot(crow: torch.Tensor, col: torch.Tensor, rows: torch.Tensor,
                    table: torch.Tensor, seg: torch.Tensor) -> torch.Tensor:
    """``rows[seg[k]] . table[col[k]]`` for every flat entry ``k`` (an SDDMM)."""
    if rows.device.type == "cpu" and _FUSED_SAMPLED_DOT:
        try:  # a fused sampled dense-dense product; several times faster than gathers
            pattern = _csr(crow, col, rows.new_zeros(col.numel()),
                           (rows.shape[0], table.shape[0]))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return torch.sparse.sampled_addmm(pattern, rows, table.t(), beta=0.0).values()
        except (RuntimeError, NotImplementedError):  # pragma: no cover - older torch
            pass
    return (rows.index_select(0, seg) * table.index_select(0, col.long())).sum(-1)


def softmax_aggregate(scores: torch.Tensor, v_id: torch.Tensor, v_code: torch.Tensor,
                      value_col: torch.Tensor, layout: AttentionLayout
                      ) -> tuple[torch.Tensor, torch.Tensor]:
    """Segment softmax of ``scores`` and the weighted sum of the entries' values.

    Parameters
    ----------
    scores : Tensor, shape (B, M)
        Attention score of every entry, in the layout's order; ``-inf`` masks an entry.
    v_id : Tensor, shape (N, d) or (P, N, d)
        Sender part of the values; with a leading ``P``, one table per population.
    v_code : Tensor, shape (3, d) or (P, 3, d)
        Code part of the values (codes 0, 1 and wait); stacked exactly when ``v_id`` is.
    value_col : Tensor of int, shape (B, M)
        ``4 * sender + code`` of every entry (code 3 for a masked entry). With stacked
        tables, ``p * 4 N + 4 * sender + code`` for the entries of an environment of
        population ``p``: a row of the ``(P 4 N, d)`` table. All entries of an
        environment must belong to the same population (any order of environments).
    layout : AttentionLayout

    Returns
    -------
    out : Tensor, shape (B, N, d)
        ``out[b, i] = sum_m w[b, m] (v_id[sender_m] + v_code[code_bm])`` over ``i``'s entries
        (with stacked tables, those of the population of environment ``b``).
    weights : Tensor, shape (B, M)
        The softmax weights; they sum to 1 over each receiver's entries.

    Both are differentiable in ``scores``, ``v_id`` and ``v_code``.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.learning._kernels.segment import EdgeCSR
    >>> lay = AttentionLayout(EdgeCSR(torch.tensor([[1], [0]]), 2))  # 1 -> 0
    >>> scores = torch.tensor([[0.0, 0.0, 5.0]])  # entries: edge 1->0, self 0, self 1
    >>> col = 4 * lay.senders[None] + torch.tensor([[0, 1, 2]])
    >>> out, w = softmax_aggregate(scores, torch.zeros(2, 1), torch.tensor([[1.0], [3.0],
    ...                            [7.0]]), col, lay)
    >>> w.tolist(), out[0, :, 0].tolist()
    ([[0.5, 0.5, 1.0]], [2.0, 7.0])

    Two populations, the second environment in population 1 (offset ``4 N = 8``):

    >>> v_code = torch.tensor([[[1.0], [3.0], [7.0]], [[-1.0], [-3.0], [-7.0]]])
    >>> out, w = softmax_aggregate(scores.repeat(2, 1), torch.zeros(2, 2, 1), v_code,
    ...                            col.repeat(2, 1) + torch.tensor([[0], [8]]), lay)
    >>> out[:, :, 0].tolist()
    [[2.0, 7.0], [-2.0, -7.0]]
    """
    b, m = scores.shape
    if m != layout.num_entries:
        raise ValueError(f"scores have {m} entries per environment; the layout has "
                         f"{layout.num_entries} (E + N)")
    if tuple(value_col.shape) != (b, m):
        raise ValueError(f"value_col has shape {tuple(value_col.shape)}; expected {(b, m)}")
    n = layout.num_nodes
    stacked = v_id.dim() == 3
    lead = tuple(v_id.shape[:1]) if stacked else ()
    if (v_id.dim() not in (2, 3) or v_id.shape[-2] != n
            or tuple(v_code.shape) != (*lead, NUM_VALUE_CODES - 1, v_id.shape[-1])):
        raise ValueError(
            f"v_id and v_code must be (N, d) and (3, d), or (P, N, d) and (P, 3, d) for P "
            f"populations, with N = {n}; got {tuple(v_id.shape)} and {tuple(v_code.shape)}")
    return _SoftmaxAggregate.apply(scores, v_id, v_code, value_col, layout)


class _SoftmaxAggregate(torch.autograd.Function):
    @staticmethod
    def forward(ctx, scores, v_id, v_code, value_col, layout):
        ctx.set_materialize_grads(False)
        b, m = scores.shape
        *lead, n, d = v_id.shape  # lead: () or (P,)
        rows = (lead[0] if lead else 1) * NUM_VALUE_CODES * n  # P 4 N table rows
        idx = layout.batched(b)
        seg, crow = idx["seg"], idx["crow_i"]
        if rows >= 2**31 - 1:  # pragma: no cover - columns beyond int32
            crow = idx["crow"]
        col = value_col.reshape(-1).to(crow.dtype)
        # Value table rows (p 4 N +) 4 j + c: [v_id[j] + v_code[c] | one-hot(c) | 1]; code 3
        # (no edge) gets weight 0, so its value part is never counted.
        vc4 = torch.cat([v_code, v_code.new_zeros(*lead, 1, d)], -2)
        zv = (v_id.unsqueeze(-2) + vc4.unsqueeze(-3)).reshape(-1, d)
        eye = torch.eye(NUM_VALUE_CODES, dtype=v_id.dtype, device=v_id.device).repeat(
            rows // NUM_VALUE_CODES, 1)
        table = torch.cat([zv, eye, eye.new_ones(rows, 1)], 1)
        s = scores.reshape(-1)
        shift = torch.segment_reduce(s, "max", offsets=idx["crow"])  # (B N,), finite
        e = torch.sub(s, shift.index_select(0, seg)).exp_()
        p = _csr(crow, col, e, (b * n, rows)) @ table  # (B N, d + 5)
        denom = p[:, -1:]  # >= 1: a segment's maximum contributes exp(0)
        out = p[:, :d] / denom
        per_code = p[:, d : d + NUM_VALUE_CODES] / denom  # total weight per code
        w = e.div_(denom.reshape(-1).index_select(0, seg))
        if lead:  # the population of every environment (read from its first entry)
            ctx.save_for_backward(w, out, per_code, zv, col, torch.div(
                col[::m], n * NUM_VALUE_CODES, rounding_mode="floor").long())
        else:
            ctx.save_for_backward(w, out, per_code, zv, col)
        ctx.layout = layout
        ctx.shape = (b, m, n, d, *lead)
        return out.view(b, n, d), w.view(b, m)

    @staticmethod
    def backward(ctx, grad_out, grad_w):
        w, out, per_code, zv, col, *pop = ctx.saved_tensors
        b, m, n, d, *lead = ctx.shape
        idx = ctx.layout.batched(b)
        seg = idx["seg"]
        need_s, need_id, need_code = ctx.needs_input_grad[:3]
        g_scores = g_id = g_code = None
        go = None if grad_out is None else grad_out.reshape(b * n, d).contiguous()
        if need_s:
            gw = w.new_zeros(b * m) if go is None else _sampled_rowdot(
                idx["crow_i"], col, go, zv, seg)
            rowdot = w.new_zeros(b * n) if go is None else (go * out).sum(-1)
            if grad_w is not None:
                gww = grad_w.reshape(-1)
                gw = gw + gww
                rowdot = rowdot.index_add(0, seg, w * gww)
            g_scores = gw.sub_(rowdot.index_select(0, seg)).mul_(w).view(b, m)
        nc = NUM_VALUE_CODES - 1
        if go is not None and need_code:
            if lead:  # per environment (B, 3, d), then summed by population
                g_env = torch.bmm(per_code.view(b, n, -1)[:, :, :nc].transpose(1, 2),
                                  go.view(b, n, d))
                g_code = go.new_zeros(lead[0], nc * d).index_add_(0, pop[0],
                                                                  g_env.view(b, nc * d))
                g_code = g_code.view(lead[0], nc, d)
            else:
                g_code = per_code[:, :nc].t() @ go
        if go is not None and need_id:
            w_t = w.index_select(0, idx["perm_t"])
            g_id = (_csr(idx["crow_t"], idx["col_t"], w_t, (b * n, b * n)) @ go)
            if lead:
                g_id = go.new_zeros(lead[0], n * d).index_add_(0, pop[0], g_id.view(b, n * d))
                g_id = g_id.view(lead[0], n, d)
            else:
                g_id = g_id.view(b, n, d).sum(0)
        return g_scores, g_id, g_code, None, None
