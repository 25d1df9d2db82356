"""The policy's GRU, written out: one step for rollouts, whole episodes for PPO updates.

Both compute exactly the function of :class:`torch.nn.GRU` (one layer, gate order r, z, n),
with the parameters of an ``nn.GRU`` module::

    r, z = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr), sigmoid(... z rows ...)
    n    = tanh(x W_in^T + b_in + r (h W_hn^T + b_hn))
    h'   = (1 - z) n + z h

Why not ``nn.GRU`` itself (the tests check all three against it):

* ``tanh`` is computed as ``2 sigmoid(2 x) - 1``, the same function. With torch 2.13's CPU
  build, ``torch.tanh`` runs about 7x slower than ``torch.sigmoid`` on AMD EPYC (Zen 4)
  processors; the GRU's tanh was the largest elementwise cost of a training update there.
* :func:`gru_sequence` runs whole episodes from the zero state with a hand-written
  backward. Its input projection is done step by step, so the ``(M, 3H)`` gate block of
  a step stays in cache instead of streaming a ``(T M, 3H)`` array through memory, and
  forward and backward write into preallocated buffers (no per-step stacking).

*Stacked populations.* :func:`gru_cell_stacked` and :func:`gru_sequence_stacked` run ``P``
GRUs with their own parameters at once (parameters with a leading population dimension
``P``, rows grouped by population: ``(P, R, .)``). They are the same code as the
single-population functions: every step is written over the last two dimensions, and only
the matrix products differ (``addmm`` / ``mm`` on ``(M, .)`` rows, ``baddbmm`` / ``bmm``
on ``(P, R, .)`` rows), so a single population runs exactly the operations it ran before.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = ["gru_cell", "gru_cell_stacked", "gru_sequence", "gru_sequence_stacked"]

_sig_bw = torch.ops.aten.sigmoid_backward.grad_input
_tanh_bw = torch.ops.aten.tanh_backward.grad_input


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """``tanh`` in place as ``2 sigmoid(2 x) - 1`` (see the module docstring)."""
    return x.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)


# Matrix products over the last two dimensions: (M, .) rows of one population, or
# (P, R, .) rows of P populations with one weight matrix each (a batched product).
def _t(w: torch.Tensor) -> torch.Tensor:
    return w.transpose(-1, -2)


def _addmm(c: torch.Tensor, a: torch.Tensor, w: torch.Tensor,
           out: torch.Tensor | None = None) -> torch.Tensor:
    """``c + a @ w``; ``c`` has the shape of the product or is a bias row (no row axis)."""
    if a.dim() == 2:
        return torch.addmm(c, a, w, out=out)
    if c.dim() < a.dim():  # a bias (P, K): the same row for all R rows of a population
        c = c.unsqueeze(-2)
    return torch.baddbmm(c, a, w, out=out)


def _addmm_(acc: torch.Tensor, a: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``acc += a @ w`` in place."""
    return acc.addmm_(a, w) if a.dim() == 2 else acc.baddbmm_(a, w)


def _mm(a: torch.Tensor, w: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    return torch.mm(a, w, out=out) if a.dim() == 2 else torch.bmm(a, w, out=out)


def _colsum_(acc: torch.Tensor, blk: torch.Tensor, ones: torch.Tensor) -> None:
    """``acc += blk.sum(-2)`` as a matrix-vector product (a ``sum`` is ~5x slower)."""
    if blk.dim() == 2:
        acc.addmv_(blk.t(), ones)
    else:  # (P, 1, R) @ (P, R, K): the (P, K, R) @ (P, R, 1) form is ~10x slower
        acc.unsqueeze(-2).baddbmm_(ones.unsqueeze(-2), blk)


def _cell(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
          b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One step with ordinary autograd, on ``(M, .)`` or ``(P, R, .)`` rows."""
    hd = h.shape[-1]
    gi = _addmm(b_ih, x, _t(w_ih))
    gh = _addmm(b_hh, h, _t(w_hh))
    rz = torch.sigmoid(gi[..., : 2 * hd] + gh[..., : 2 * hd])
    r, z = rz[..., :hd], rz[..., hd:]
    n = torch.sigmoid(2.0 * torch.addcmul(gi[..., 2 * hd :], r, gh[..., 2 * hd :])) * 2.0 - 1.0
    return torch.addcmul(n, z, h - n)


def _check_stacked(x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                   b_ih: torch.Tensor, b_hh: torch.Tensor, x_dims: str) -> None:
    """Raise ``ValueError`` unless the stacked parameters fit ``x`` of shape ``x_dims``."""
    if w_ih.dim() != 3 or w_hh.dim() != 3 or b_ih.dim() != 2 or b_hh.dim() != 2:
        raise ValueError(
            "stacked GRU parameters need a leading population dimension: w_ih (P, 3H, I), "
            f"w_hh (P, 3H, H), b_ih and b_hh (P, 3H); got shapes {tuple(w_ih.shape)}, "
            f"{tuple(w_hh.shape)}, {tuple(b_ih.shape)}, {tuple(b_hh.shape)}"
        )
    p, h3, i = w_ih.shape
    hd = h3 // 3
    want = {"w_ih": (p, 3 * hd, i), "w_hh": (p, 3 * hd, hd), "b_ih": (p, 3 * hd),
            "b_hh": (p, 3 * hd)}
    got = {"w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh}
    for name, shape in want.items():
        if tuple(got[name].shape) != shape:
            raise ValueError(f"{name} has shape {tuple(got[name].shape)}; expected {shape} "
                             f"(P = {p} populations, hidden size {hd}, input size {i})")
    if x.dim() != len(x_dims.split(",")) or x.shape[-3] != p or x.shape[-1] != i:
        raise ValueError(f"x must be ({x_dims}) with P = {p} and I = {i}; "
                         f"got shape {tuple(x.shape)}")


def gru_cell(x: torch.Tensor, h: torch.Tensor, gru: nn.GRU) -> torch.Tensor:
    """One GRU step for ``M`` rows: ``x`` ``(M, I)``, ``h`` ``(M, H)`` -> ``(M, H)``.

    Uses the parameters of the one-layer ``gru``; differentiable with ordinary autograd.

    Examples
    --------
    >>> import torch
    >>> gru = torch.nn.GRU(3, 4)
    >>> x, h = torch.randn(5, 3), torch.randn(5, 4)
    >>> ref = gru(x[None], h[None])[1][0]
    >>> bool(torch.allclose(gru_cell(x, h, gru), ref, atol=1e-6))
    True
    """
    return _cell(x, h, gru.weight_ih_l0, gru.weight_hh_l0, gru.bias_ih_l0, gru.bias_hh_l0)


def gru_cell_stacked(x: torch.Tensor, h: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                     b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """One GRU step of ``P`` populations at once, each with its own parameters.

    Parameters
    ----------
    x : Tensor, shape (P, R, I)
        Inputs; ``x[p]`` are the ``R`` rows of population ``p``.
    h : Tensor, shape (P, R, H)
        States.
    w_ih, w_hh : Tensor, shapes (P, 3H, I) and (P, 3H, H)
        ``weight_ih_l0`` and ``weight_hh_l0`` of each population's ``nn.GRU`` (gate rows
        in the order r, z, n).
    b_ih, b_hh : Tensor, shape (P, 3H)
        ``bias_ih_l0`` and ``bias_hh_l0`` of each population.

    Returns
    -------
    Tensor, shape (P, R, H)
        The new states: ``out[p]`` equals ``gru_cell(x[p], h[p], gru_p)``. Differentiable
        with ordinary autograd in every argument.

    Examples
    --------
    >>> import torch
    >>> grus = [torch.nn.GRU(3, 4) for _ in range(2)]
    >>> w_ih, w_hh, b_ih, b_hh = (torch.stack([getattr(g, name) for g in grus]) for name in
    ...     ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
    >>> x, h = torch.randn(2, 5, 3), torch.randn(2, 5, 4)
    >>> out = gru_cell_stacked(x, h, w_ih, w_hh, b_ih, b_hh)
    >>> bool(torch.allclose(out[1], gru_cell(x[1], h[1], grus[1]), atol=1e-6))
    True
    """
    _check_stacked(x, w_ih, w_hh, b_ih, b_hh, "P, R, I")
    want = (*x.shape[:2], w_hh.shape[-1])
    if tuple(h.shape) != want:
        raise ValueError(f"h has shape {tuple(h.shape)}; expected (P, R, H) = {want}")
    return _cell(x, h, w_ih, w_hh, b_ih, b_hh)


def gru_sequence(x: torch.Tensor, gru: nn.GRU) -> torch.Tensor:
    """Whole sequences from the zero state: ``x`` ``(T, M, I)`` -> states ``(T, M, H)``.

    Equal to ``gru(x)[0]`` for a one-layer ``nn.GRU``, with a hand-written backward that
    returns the gradients of ``x`` and of all four GRU parameters.

    Examples
    --------
    >>> import torch
    >>> gru = torch.nn.GRU(3, 4)
    >>> x = torch.randn(6, 5, 3)
    >>> bool(torch.allclose(gru_sequence(x, gru), gru(x)[0], atol=1e-6))
    True
    """
    if x.dim() != 3:
        raise ValueError(f"x must be (T, M, input_size); got shape {tuple(x.shape)}")
    return _GRUSequence.apply(x.contiguous(), gru.weight_ih_l0, gru.bias_ih_l0,
                              gru.weight_hh_l0, gru.bias_hh_l0)


def gru_sequence_stacked(x: torch.Tensor, w_ih: torch.Tensor, w_hh: torch.Tensor,
                         b_ih: torch.Tensor, b_hh: torch.Tensor) -> torch.Tensor:
    """Whole sequences of ``P`` populations from the zero state, each with its own GRU.

    Parameters
    ----------
    x : Tensor, shape (T, P, R, I)
        Inputs; ``x[:, p]`` are the ``R`` sequences of population ``p``.
    w_ih, w_hh, b_ih, b_hh : Tensor, shapes (P, 3H, I), (P, 3H, H), (P, 3H), (P, 3H)
        Each population's ``nn.GRU`` parameters (as in :func:`gru_cell_stacked`).

    Returns
    -------
    Tensor, shape (T, P, R, H)
        The states: ``out[:, p]`` equals ``gru_sequence(x[:, p], gru_p)``, with the same
        hand-written backward (batched matrix products) for ``x`` and all four
        parameters.

    Examples
    --------
    >>> import torch
    >>> grus = [torch.nn.GRU(3, 4) for _ in range(2)]
    >>> params = [torch.stack([getattr(g, name) for g in grus]) for name in
    ...           ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    >>> x = torch.randn(6, 2, 5, 3)
    >>> out = gru_sequence_stacked(x, *params)
    >>> out.shape, bool(torch.allclose(out[:, 0], grus[0](x[:, 0])[0], atol=1e-6))
    (torch.Size([6, 2, 5, 4]), True)
    """
    _check_stacked(x, w_ih, w_hh, b_ih, b_hh, "T, P, R, I")
    return _GRUSequence.apply(x.contiguous(), w_ih, b_ih, w_hh, b_hh)


class _GRUSequence(torch.autograd.Function):
    """Forward and hand-written backward of :func:`gru_sequence` and its stacked form.

    ``x`` is ``(T, M, I)`` with parameters ``(3H, .)`` or ``(T, P, R, I)`` with parameters
    ``(P, 3H, .)``; a step is written over the last two dimensions of either.

    Saved per step for the backward: the states, ``r`` and ``z``, ``n``, ``W_hn h + b_hn``
    and ``h - n``. The backward of step ``t`` builds, per row, the block
    ``D = [dn' | dr' | dz' | dg_hn]`` (pre-activation gradients): its first ``3H`` columns are
    the input-gate gradient in the order (n, r, z) and its last ``3H`` the hidden-gate
    gradient in the order (r, z, n), so each needs one matrix product with a row-permuted
    ``W_ih`` or with ``W_hh`` itself.
    """

    @staticmethod
    def forward(ctx, x, w_ih, b_ih, w_hh, b_hh):
        t_len, *rows, _ = x.shape  # rows: (M,) or (P, R)
        hd = w_hh.shape[-1]
        h2 = 2 * hd
        states = x.new_empty(t_len + 1, *rows, hd)
        states[0].zero_()
        rz = x.new_empty(t_len, *rows, h2)
        n_all = x.new_empty(t_len, *rows, hd)
        ghn = x.new_empty(t_len, *rows, hd)
        hmn = x.new_empty(t_len, *rows, hd)
        gi = x.new_empty(*rows, hd)
        # r, z biases summed
        b_fold = b_ih + torch.cat([b_hh[..., :h2], b_hh.new_zeros(*b_hh.shape[:-1], hd)], -1)
        b_rz, b_in, b_n = b_fold[..., :h2], b_fold[..., h2:], b_hh[..., h2:]
        wi_rz_t, wi_n_t = _t(w_ih[..., :h2, :]), _t(w_ih[..., h2:, :])
        wh_rz_t, wh_n_t = _t(w_hh[..., :h2, :]), _t(w_hh[..., h2:, :])
        for t in range(t_len):
            h = states[t]
            g = rz[t]
            _addmm(b_rz, x[t], wi_rz_t, out=g)
            _addmm(b_in, x[t], wi_n_t, out=gi)
            if t:  # the hidden products accumulate into the r, z gate block
                _addmm_(g, h, wh_rz_t)
                _addmm(b_n, h, wh_n_t, out=ghn[t])
            else:  # h = 0
                ghn[t].copy_(b_n.unsqueeze(-2).expand_as(ghn[t]))
            g.sigmoid_()
            n = n_all[t]
            _tanh_(torch.addcmul(gi, g[..., :hd], ghn[t], out=n))
            torch.sub(h, n, out=hmn[t])
            torch.addcmul(n, g[..., hd:], hmn[t], out=states[t + 1])
        ctx.save_for_backward(x, w_ih, w_hh, states, rz, n_all, ghn, hmn)
        return states[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hs):
        x, w_ih, w_hh, states, rz, n_all, ghn, hmn = ctx.saved_tensors
        t_len, *rows, hd = n_all.shape
        h2, h3 = 2 * hd, 3 * hd
        # W_ih with rows in the order n, r, z
        w_nrz = torch.cat([w_ih[..., h2:, :], w_ih[..., :h2, :]], -2)
        blk = x.new_empty(*rows, 4 * hd)  # [dn' | dr' | dz' | dg_hn] of one step
        s1, s2, carry = (x.new_empty(*rows, hd) for _ in range(3))
        dx = torch.empty_like(x)
        dw_nrz = w_ih.new_zeros(w_ih.shape)
        dw_hh = w_hh.new_zeros(w_hh.shape)
        db = x.new_zeros(*rows[:-1], 4 * hd)
        ones = x.new_ones(rows)
        dh = None
        for t in range(t_len - 1, -1, -1):
            dh = grad_hs[t] if dh is None else dh.add_(grad_hs[t])
            r, z, n = rz[t, ..., :hd], rz[t, ..., hd:], n_all[t]
            torch.mul(dh, z, out=s1)  # carried to h_{t-1} directly
            torch.sub(dh, s1, out=s2)  # dL/dn
            dnp = _tanh_bw(s2, n, grad_input=blk[..., :hd])
            _sig_bw(torch.mul(dnp, ghn[t], out=s2), r, grad_input=blk[..., hd:h2])
            _sig_bw(torch.mul(dh, hmn[t], out=s2), z, grad_input=blk[..., h2:h3])
            torch.mul(dnp, r, out=blk[..., h3:])
            dgi = blk[..., :h3]
            _mm(dgi, w_nrz, out=dx[t])
            _addmm_(dw_nrz, _t(dgi), x[t])
            _colsum_(db, blk, ones)
            if t:
                dgh = blk[..., hd:]
                _addmm_(dw_hh, _t(dgh), states[t])
                dh = _addmm(s1, dgh, w_hh, out=carry)
        d_w_ih = torch.cat([dw_nrz[..., hd:, :], dw_nrz[..., :hd, :]], -2)
        d_b_ih = torch.cat([db[..., hd:h3], db[..., :hd]], -1)
        d_b_hh = torch.cat([db[..., hd:h3], db[..., h3:]], -1)
        return dx, d_w_ih, d_b_ih, dw_hh, d_b_hh
