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
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable

__all__ = ["gru_cell", "gru_sequence"]

_sig_bw = torch.ops.aten.sigmoid_backward.grad_input
_tanh_bw = torch.ops.aten.tanh_backward.grad_input


def _tanh_(x: torch.Tensor) -> torch.Tensor:
    """``tanh`` in place as ``2 sigmoid(2 x) - 1`` (see the module docstring)."""
    return x.mul_(2.0).sigmoid_().mul_(2.0).sub_(1.0)


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
    hd = h.shape[-1]
    gi = torch.addmm(gru.bias_ih_l0, x, gru.weight_ih_l0.t())
    gh = torch.addmm(gru.bias_hh_l0, h, gru.weight_hh_l0.t())
    rz = torch.sigmoid(gi[:, : 2 * hd] + gh[:, : 2 * hd])
    r, z = rz[:, :hd], rz[:, hd:]
    n = torch.sigmoid(2.0 * torch.addcmul(gi[:, 2 * hd :], r, gh[:, 2 * hd :])) * 2.0 - 1.0
    return torch.addcmul(n, z, h - n)


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


class _GRUSequence(torch.autograd.Function):
    """Forward and hand-written backward of :func:`gru_sequence`.

    Saved per step for the backward: the states, ``r`` and ``z``, ``n``, ``W_hn h + b_hn``
    and ``h - n``. The backward of step ``t`` builds, per row, the block
    ``D = [dn' | dr' | dz' | dg_hn]`` (pre-activation gradients): its first ``3H`` columns are
    the input-gate gradient in the order (n, r, z) and its last ``3H`` the hidden-gate
    gradient in the order (r, z, n), so each needs one matrix product with a row-permuted
    ``W_ih`` or with ``W_hh`` itself.
    """

    @staticmethod
    def forward(ctx, x, w_ih, b_ih, w_hh, b_hh):
        t_len, m, _ = x.shape
        hd = w_hh.shape[1]
        h2 = 2 * hd
        states = x.new_empty(t_len + 1, m, hd)
        states[0].zero_()
        rz = x.new_empty(t_len, m, h2)
        n_all = x.new_empty(t_len, m, hd)
        ghn = x.new_empty(t_len, m, hd)
        hmn = x.new_empty(t_len, m, hd)
        gi = x.new_empty(m, hd)
        b_fold = b_ih + torch.cat([b_hh[:h2], b_hh.new_zeros(hd)])  # r, z biases summed
        b_rz, b_in, b_n = b_fold[:h2], b_fold[h2:], b_hh[h2:]
        wi_rz_t, wi_n_t = w_ih[:h2].t(), w_ih[h2:].t()
        wh_rz_t, wh_n_t = w_hh[:h2].t(), w_hh[h2:].t()
        for t in range(t_len):
            h = states[t]
            g = rz[t]
            torch.addmm(b_rz, x[t], wi_rz_t, out=g)
            torch.addmm(b_in, x[t], wi_n_t, out=gi)
            if t:  # the hidden products accumulate into the r, z gate block
                g.addmm_(h, wh_rz_t)
                torch.addmm(b_n, h, wh_n_t, out=ghn[t])
            else:  # h = 0
                ghn[t].copy_(b_n.expand(m, hd))
            g.sigmoid_()
            n = n_all[t]
            _tanh_(torch.addcmul(gi, g[:, :hd], ghn[t], out=n))
            torch.sub(h, n, out=hmn[t])
            torch.addcmul(n, g[:, hd:], hmn[t], out=states[t + 1])
        ctx.save_for_backward(x, w_ih, w_hh, states, rz, n_all, ghn, hmn)
        return states[1:]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_hs):
        x, w_ih, w_hh, states, rz, n_all, ghn, hmn = ctx.saved_tensors
        t_len, m, hd = n_all.shape
        h2, h3 = 2 * hd, 3 * hd
        w_nrz = torch.cat([w_ih[h2:], w_ih[:h2]])  # W_ih with rows in the order n, r, z
        blk = x.new_empty(m, 4 * hd)  # [dn' | dr' | dz' | dg_hn] of one step
        s1, s2, carry = x.new_empty(m, hd), x.new_empty(m, hd), x.new_empty(m, hd)
        dx = torch.empty_like(x)
        dw_nrz = w_ih.new_zeros(w_ih.shape)
        dw_hh = w_hh.new_zeros(w_hh.shape)
        db = x.new_zeros(4 * hd)
        ones = x.new_ones(m)
        dh = None
        for t in range(t_len - 1, -1, -1):
            dh = grad_hs[t] if dh is None else dh.add_(grad_hs[t])
            r, z, n = rz[t, :, :hd], rz[t, :, hd:], n_all[t]
            torch.mul(dh, z, out=s1)  # carried to h_{t-1} directly
            torch.sub(dh, s1, out=s2)  # dL/dn
            dnp = _tanh_bw(s2, n, grad_input=blk[:, :hd])
            _sig_bw(torch.mul(dnp, ghn[t], out=s2), r, grad_input=blk[:, hd:h2])
            _sig_bw(torch.mul(dh, hmn[t], out=s2), z, grad_input=blk[:, h2:h3])
            torch.mul(dnp, r, out=blk[:, h3:])
            dgi = blk[:, :h3]
            torch.mm(dgi, w_nrz, out=dx[t])
            dw_nrz.addmm_(dgi.t(), x[t])
            db.addmv_(blk.t(), ones)  # column sums as a product (a sum(0) is ~5x slower)
            if t:
                dgh = blk[:, hd:]
                dw_hh.addmm_(dgh.t(), states[t])
                dh = torch.addmm(s1, dgh, w_hh, out=carry)
        d_w_ih = torch.cat([dw_nrz[hd:], dw_nrz[:hd]])
        d_b_ih = torch.cat([db[hd:h3], db[:hd]])
        d_b_hh = torch.cat([db[hd:h3], db[h3:]])
        return dx, d_w_ih, d_b_ih, dw_hh, d_b_hh
