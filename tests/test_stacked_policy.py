"""StackedPolicy: P populations in one model equal P AttentionPolicy modules, each on its
environments, forward, over whole episodes and in every gradient."""

from __future__ import annotations

import pytest
import torch

import socialmarl as sm
from socialmarl.game.observation import Observation
from socialmarl.learning.population import STACKED_PARAMETERS, StackedPolicy

STACKED_NAME = {theirs: mine for mine, theirs in STACKED_PARAMETERS}

P, BP, T = 3, 2, 4


def _slice(obs: Observation, rows: torch.Tensor) -> Observation:
    return Observation(
        signal=obs.signal[rows], own_output=obs.own_output[rows],
        edge_active=None if obs.edge_active is None else obs.edge_active[rows],
        t=obs.t[rows], flips=obs.flips[rows], edge_index=obs.edge_index, in_agent_frame=True)


def _episode(p_perc: float = 0.7):
    """T consecutive agent-frame observations of P * BP environments, with inactive edges."""
    g = sm.erdos_renyi_graph(9, 0.4, seed=3)
    game = sm.ConsensusGame(g, num_envs=P * BP, other_play=True, p_perc=p_perc, seed=1,
                            episode_length=T)
    obs, seq = game.reset(), []
    gen = torch.Generator().manual_seed(0)
    for _ in range(T):
        seq.append(obs.to_agent_frame())
        obs = game.step(torch.randint(0, 3, (P * BP, 9), generator=gen)).obs
    return g, seq


def _policies(use_attention: bool = True):
    torch.manual_seed(0)
    pols = [sm.AttentionPolicy(9, hidden=12, attn_dim=4, use_attention=use_attention).double()
            for _ in range(P)]
    with torch.no_grad():  # give every parameter (zero biases too) distinct values
        for pol in pols:
            for w in pol.parameters():
                w.add_(0.1 * torch.randn_like(w))
    return pols


@pytest.mark.parametrize("use_attention", [True, False])
def test_one_step_equals_each_population_alone(use_attention):
    g, seq = _episode()
    obs = seq[1]
    obs = Observation(obs.signal.double(), obs.own_output, obs.edge_active, obs.t, obs.flips,
                      obs.edge_index, True)
    pols = _policies(use_attention)
    stacked = StackedPolicy.from_policies(pols)
    h = torch.randn(P * BP, 9, 12, dtype=torch.float64)
    out = stacked(obs, h)
    loss = (out.logits ** 2).sum() + out.value.sum() + out.belief.sum()
    loss.backward()
    for p, pol in enumerate(pols):
        rows = torch.arange(p * BP, (p + 1) * BP)
        ref = pol(_slice(obs, rows), h[rows])
        for field in ("logits", "value", "belief", "attention", "self_attention", "hidden"):
            torch.testing.assert_close(getattr(out, field)[rows], getattr(ref, field),
                                       rtol=1e-10, atol=1e-10)
        ((ref.logits ** 2).sum() + ref.value.sum() + ref.belief.sum()).backward()
        for name, w in pol.named_parameters():  # every gradient, slice p, by name
            torch.testing.assert_close(getattr(stacked, STACKED_NAME[name]).grad[p], w.grad,
                                       rtol=1e-9, atol=1e-10)


def test_whole_episodes_equal_each_population_alone():
    g, seq = _episode()
    b = P * BP
    stacked_obs = Observation(
        torch.cat([o.signal for o in seq]).double(), torch.cat([o.own_output for o in seq]),
        torch.cat([o.edge_active for o in seq]), torch.cat([o.t for o in seq]),
        torch.cat([o.flips for o in seq]), seq[0].edge_index, True)
    pols = _policies()
    stacked = StackedPolicy.from_policies(pols)
    plan = stacked.attention_plan(stacked_obs)
    out = stacked.forward_sequence(stacked_obs, T, plan=plan)
    assert out.logits.shape == (T, b, 9, 3)
    (out.logits.sum() + (out.value ** 2).sum()).backward()
    for p, pol in enumerate(pols):
        rows = torch.cat([t * b + torch.arange(p * BP, (p + 1) * BP) for t in range(T)])
        ref = pol.forward_sequence(_slice(stacked_obs, rows), T)
        torch.testing.assert_close(out.logits[:, p * BP:(p + 1) * BP], ref.logits,
                                   rtol=1e-10, atol=1e-10)
        torch.testing.assert_close(out.attention[:, p * BP:(p + 1) * BP], ref.attention,
                                   rtol=1e-10, atol=1e-10)
        (ref.logits.sum() + (ref.value ** 2).sum()).backward()
        torch.testing.assert_close(stacked.gru_w_hh.grad[p], pol.gru.weight_hh_l0.grad,
                                   rtol=1e-9, atol=1e-10)
        torch.testing.assert_close(stacked.id_embed.grad[p], pol.id_embed.weight.grad,
                                   rtol=1e-9, atol=1e-10)


def test_population_round_trip_and_bad_batches():
    pols = _policies()
    stacked = StackedPolicy.from_policies(pols)
    for p, pol in enumerate(pols):
        back = stacked.population(p)
        for a, b in zip(back.state_dict().values(), pol.float().state_dict().values()):
            torch.testing.assert_close(a.double(), b.double())
    g, seq = _episode()
    with pytest.raises(ValueError, match="not 1 steps of 3 populations"):
        stacked(_slice(seq[0], torch.arange(4)), torch.zeros(4, 9, 12, dtype=torch.float64))
    with pytest.raises(ValueError, match="same num_agents and config"):
        StackedPolicy.from_policies([sm.AttentionPolicy(9), sm.AttentionPolicy(8)])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_equals_cpu():
    g, seq = _episode()
    pols = [p.float() for p in _policies()]
    stacked = StackedPolicy.from_policies(pols)
    h = torch.randn(P * BP, 9, 12)
    ref = stacked(seq[1], h)
    gpu = StackedPolicy.from_policies(pols).cuda()
    out = gpu(seq[1].to("cuda"), h.cuda())
    torch.testing.assert_close(out.logits.cpu(), ref.logits, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out.attention.cpu(), ref.attention, rtol=1e-4, atol=1e-5)
