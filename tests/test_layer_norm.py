"""layer_norm_relu: the same values and gradients as relu(nn.LayerNorm(x))."""

from __future__ import annotations

import pytest
import torch

from socialmarl.learning._kernels.layer_norm import layer_norm_relu


def _norm(h: int, seed: int, dtype=torch.float32) -> torch.nn.LayerNorm:
    gen = torch.Generator().manual_seed(seed)
    norm = torch.nn.LayerNorm(h).to(dtype)
    with torch.no_grad():  # random affine parameters, so weight and bias gradients differ
        norm.weight.copy_(torch.rand(h, generator=gen, dtype=dtype) + 0.5)
        norm.bias.copy_(torch.randn(h, generator=gen, dtype=dtype))
    return norm


@pytest.mark.parametrize("shape", [(7, 5), (3, 4, 6), (2, 3, 4, 9)])
def test_matches_native_values_and_gradients(shape):
    gen = torch.Generator().manual_seed(len(shape))
    x = (3.0 * torch.randn(*shape, generator=gen, dtype=torch.float64) + 1.5).requires_grad_()
    g = torch.randn(*shape, generator=gen, dtype=torch.float64)
    norm = _norm(shape[-1], seed=1, dtype=torch.float64)
    params = [x, norm.weight, norm.bias]
    want = torch.relu(norm(x))
    got = layer_norm_relu(x, norm)
    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)
    for a, b, name in zip(torch.autograd.grad(got, params, g),
                          torch.autograd.grad(want, params, g), ("x", "weight", "bias")):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10, msg=name)


def test_gradcheck_and_grads_of_frozen_parameters():
    x = torch.randn(6, 4, dtype=torch.float64, requires_grad=True)
    norm = _norm(4, seed=2, dtype=torch.float64)
    assert torch.autograd.gradcheck(
        lambda a, w, b: layer_norm_relu(a, _with(norm, w, b)), (x, norm.weight, norm.bias)
    )
    norm.weight.requires_grad_(False)  # the bias alone (and x) still get gradients
    layer_norm_relu(x, norm).sum().backward()
    assert norm.weight.grad is None and norm.bias.grad is not None and x.grad is not None


def _with(norm, w, b):
    class _N:
        normalized_shape, weight, bias, eps = norm.normalized_shape, w, b, norm.eps
    return _N


def test_float32_rows_like_the_policy():
    """The trunk's shape at training time; float32 against float64 ground truth."""
    x = torch.randn(40, 100, 50).requires_grad_()
    norm = _norm(50, seed=3)
    g = torch.randn(40, 100, 50)
    dx, dw, db = torch.autograd.grad(layer_norm_relu(x, norm), [x, norm.weight, norm.bias], g)
    x64 = x.detach().double().requires_grad_()
    n64 = torch.nn.LayerNorm(50).double()
    n64.load_state_dict({k: v.double() for k, v in norm.state_dict().items()})
    ref = torch.autograd.grad(torch.relu(n64(x64)), [x64, n64.weight, n64.bias], g.double())
    torch.testing.assert_close(dx.double(), ref[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(dw.double(), ref[1], atol=1e-3, rtol=1e-5)
    torch.testing.assert_close(db.double(), ref[2], atol=1e-3, rtol=1e-5)


def test_bad_norm_is_an_error():
    with pytest.raises(ValueError, match="affine LayerNorm over the last dimension"):
        layer_norm_relu(torch.zeros(2, 4), torch.nn.LayerNorm(4, elementwise_affine=False))
    with pytest.raises(ValueError, match="last dimension"):
        layer_norm_relu(torch.zeros(2, 4), torch.nn.LayerNorm(3))
