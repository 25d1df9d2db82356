"""``P`` attention policies as one model: every parameter carries a leading population axis.

:class:`StackedPolicy` holds the parameters of ``P`` :class:`AttentionPolicy` populations
stacked along a first axis and runs all of them in one pass: batched matrix products for
the attention tables, the trunk, the GRU and the heads; one ``(P E + ...)`` gather of
attention scores and one fused softmax over ``P`` value tables
(:func:`~socialmarl.learning._kernels.sparse_attention.softmax_aggregate`); the stacked
layer-norm and GRU kernels of :mod:`socialmarl.learning._kernels`. There is no Python loop
over populations.

Conventions:

* environments are grouped by population: a batch of ``B = P * Bp`` environments, where
  environments ``[p * Bp, (p + 1) * Bp)`` belong to population ``p`` (the trainer's
  layout); :meth:`StackedPolicy.forward_sequence` takes ``T`` such batches stacked
  time-major, entry ``t * B + b``, as :meth:`AttentionPolicy.forward_sequence` does;
* population ``p`` computes exactly what ``population(p)`` (an :class:`AttentionPolicy`
  with its parameters) computes on its environments, up to floating-point rounding;
  a loss summed over populations gives each population's slice the gradient of its own
  loss alone;
* the dense attention path (``dense=True``) is not offered here: use ``population(p)``.

Examples
--------
>>> import torch, socialmarl as sm
>>> pols = [sm.AttentionPolicy(5, hidden=8) for _ in range(3)]
>>> stacked = StackedPolicy.from_policies(pols)
>>> game = sm.ConsensusGame(sm.ring_graph(5), num_envs=6)
>>> obs = game.reset().to_agent_frame()
>>> out = stacked(obs, stacked.initial_state(6))  # environments 2p, 2p + 1: population p
>>> out.logits.shape, out.attention.shape
(torch.Size([6, 5, 3]), torch.Size([6, 10]))
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from ..game.observation import Observation
from ._kernels.gru import gru_cell_stacked, gru_sequence_stacked
from ._kernels.layer_norm import layer_norm_relu_stacked
from ._kernels.sparse_attention import NUM_VALUE_CODES, softmax_aggregate
from .policy import (
    _NUM_TOKEN_CODES,
    AttentionPlan,
    AttentionPolicy,
    EdgePlanning,
    PolicyConfig,
    PolicyOutput,
    agent_id_bits,
)

__all__ = ["StackedPolicy", "STACKED_PARAMETERS"]

#: (stacked parameter name, the AttentionPolicy parameter it stacks), in registration order
STACKED_PARAMETERS = (
    ("code_embed", "code_embed.weight"), ("id_embed", "id_embed.weight"),
    ("query_w", "query.weight"), ("query_b", "query.bias"),
    ("key_w", "key.weight"), ("key_b", "key.bias"),
    ("value_w", "value.weight"), ("value_b", "value.bias"),
    ("fc1_w", "fc1.weight"), ("fc1_b", "fc1.bias"),
    ("norm1_w", "norm1.weight"), ("norm1_b", "norm1.bias"),
    ("fc2_w", "fc2.weight"), ("fc2_b", "fc2.bias"),
    ("norm2_w", "norm2.weight"), ("norm2_b", "norm2.bias"),
    ("gru_w_ih", "gru.weight_ih_l0"), ("gru_w_hh", "gru.weight_hh_l0"),
    ("gru_b_ih", "gru.bias_ih_l0"), ("gru_b_hh", "gru.bias_hh_l0"),
    ("actor_w", "actor.weight"), ("actor_b", "actor.bias"),
    ("critic_w", "critic.weight"), ("critic_b", "critic.bias"),
    ("belief_w", "belief_head.weight"), ("belief_b", "belief_head.bias"),
)


def _t(w: torch.Tensor) -> torch.Tensor:
    """``(P, out, in) -> (P, in, out)``: the stacked weights as right-hand factors."""
    return w.transpose(-1, -2)


class StackedPolicy(EdgePlanning, nn.Module):
    """``P`` populations of :class:`AttentionPolicy` run as one model.

    Parameters
    ----------
    num_agents : int
        Number of agents ``N``.
    num_populations : int
        Number of populations ``P``.
    config : PolicyConfig, optional
        The architecture, the same for every population.

    The populations start from ``P`` fresh :class:`AttentionPolicy` initialisations drawn
    one after another from torch's global generator; :meth:`from_policies` stacks given
    ones (each initialised with its own seed, for instance).
    """

    def __init__(self, num_agents: int, num_populations: int,
                 config: PolicyConfig | None = None) -> None:
        if isinstance(num_populations, bool) or not isinstance(num_populations, int) or (
                num_populations < 1):
            raise ValueError(f"num_populations={num_populations!r}: need an integer >= 1")
        policies = [AttentionPolicy(num_agents, config) for _ in range(num_populations)]
        nn.Module.__init__(self)
        self._init_from(policies)

    @classmethod
    def from_policies(cls, policies: Sequence[AttentionPolicy]) -> StackedPolicy:
        """Stack the parameters of ``policies`` (same ``N`` and config) into one model.

        Examples
        --------
        >>> import socialmarl as sm
        >>> s = StackedPolicy.from_policies([sm.AttentionPolicy(4, hidden=8)] * 2)
        >>> s.num_populations, s.fc1_w.shape
        (2, torch.Size([2, 8, 11]))
        """
        policies = list(policies)
        if not policies:
            raise ValueError("policies is empty; give at least one AttentionPolicy")
        first = policies[0]
        for pol in policies:
            if not isinstance(pol, AttentionPolicy):
                raise TypeError(f"expected AttentionPolicy, got {type(pol).__name__}")
            if pol.num_agents != first.num_agents or pol.config != first.config:
                raise ValueError("every stacked policy needs the same num_agents and config")
        self = cls.__new__(cls)
        nn.Module.__init__(self)
        self._init_from(policies)
        return self

    def _init_from(self, policies: list[AttentionPolicy]) -> None:
        first = policies[0]
        self.num_agents = first.num_agents
        self.num_populations = len(policies)
        self.config = first.config
        self._structure = None
        self._scale = 1.0 / math.sqrt(first.config.attn_dim)
        self.register_buffer("id_bits", agent_id_bits(self.num_agents).to(
            first.fc1.weight.device), persistent=False)
        for mine, theirs in STACKED_PARAMETERS:
            if not first.config.use_attention and theirs.split(".")[0] in ("query", "key"):
                continue
            stacked = torch.stack([pol.get_parameter(theirs).detach() for pol in policies])
            self.register_parameter(mine, nn.Parameter(stacked.clone()))

    # ------------------------------------------------------------------ populations
    def population(self, p: int) -> AttentionPolicy:
        """Population ``p`` as its own :class:`AttentionPolicy` (a copy of its parameters).

        Examples
        --------
        >>> import socialmarl as sm
        >>> pols = [sm.AttentionPolicy(4, hidden=8) for _ in range(2)]
        >>> s = StackedPolicy.from_policies(pols)
        >>> bool(torch.equal(s.population(1).fc2.weight, pols[1].fc2.weight))
        True
        """
        if not 0 <= p < self.num_populations:
            raise IndexError(f"population {p} of {self.num_populations}")
        pol = AttentionPolicy(self.num_agents, self.config).to(self.fc1_w.device)
        with torch.no_grad():
            for mine, theirs in STACKED_PARAMETERS:
                if hasattr(self, mine):
                    pol.get_parameter(theirs).copy_(getattr(self, mine)[p])
        return pol

    def initial_state(self, batch: int, device: str | torch.device | None = None) -> torch.Tensor:
        """``(batch, N, hidden)`` zeros; ``batch`` is a multiple of ``num_populations``."""
        p = self.fc1_w
        return torch.zeros(batch, self.num_agents, self.config.hidden,
                           device=p.device if device is None else device, dtype=p.dtype)

    def _groups(self, rows: int, steps: int = 1) -> int:
        """Environments per population ``Bp`` of a batch of ``rows`` = steps * P * Bp."""
        per_step, rem = divmod(rows, steps)
        bp, rem2 = divmod(per_step, self.num_populations)
        if rem or rem2 or bp == 0:
            raise ValueError(
                f"a batch of {rows} rows is not {steps} steps of {self.num_populations} "
                "populations with the same number of environments each; environments "
                "[p * Bp, (p + 1) * Bp) belong to population p"
            )
        return bp

    # ------------------------------------------------------------------ attention
    def _attend(self, obs: Observation, plan: AttentionPlan | None, bp: int):
        """Sparse attention of every population on its environments (all in one pass)."""
        lay = self._edges(obs.edge_index)
        rows, n = obs.signal.shape
        m = lay.num_entries
        if plan is None:
            plan = self.attention_plan(obs)
        cemb, iemb = self.code_embed, self.id_embed  # (P, 3, d), (P, N, d)
        v_code = cemb @ _t(self.value_w)
        v_id = torch.baddbmm(self.value_b[:, None], iemb, _t(self.value_w))
        num_p = self.num_populations
        if self.config.use_attention:
            sc = self._scale
            q_code = cemb @ _t(self.query_w) * sc
            q_id = torch.baddbmm(self.query_b[:, None], iemb, _t(self.query_w)) * sc
            k_code = cemb @ _t(self.key_w)
            k_id = torch.baddbmm(self.key_b[:, None], iemb, _t(self.key_w))
            q_id_e = q_id.index_select(1, lay.receivers)  # (P, M, d)
            k_id_e = k_id.index_select(1, lay.senders)
            table = ((q_code @ _t(k_code))[:, None]
                     + (k_id_e @ _t(q_code))[..., None]
                     + (q_id_e @ _t(k_code))[:, :, None, :]
                     + (q_id_e * k_id_e).sum(-1)[..., None, None])  # (P, M, 3, 3)
        else:
            table = cemb.new_zeros(num_p, m, _NUM_TOKEN_CODES, _NUM_TOKEN_CODES)
        ninf = table.new_full((num_p, m, _NUM_TOKEN_CODES, 1), float("-inf"))
        table = torch.cat([table, ninf], 3)  # (P, M, 3, 4)
        # each row (environment) reads its population's table and value rows
        pop = (torch.arange(rows, device=plan.score_index.device) // bp) % num_p
        idx = plan.score_index + (pop * (m * _NUM_TOKEN_CODES * (_NUM_TOKEN_CODES + 1)))[
            :, None].to(plan.score_index.dtype)
        scores = table.reshape(-1).index_select(0, idx.reshape(-1)).view(rows, m)
        col = plan.value_col + (pop * (n * NUM_VALUE_CODES))[:, None].to(plan.value_col.dtype)
        out, weights = softmax_aggregate(scores, v_id, v_code, col, lay)
        return weights.index_select(1, lay.edge_pos), weights.index_select(1, lay.self_pos), out

    # ------------------------------------------------------------------ trunk and heads
    def _trunk(self, obs: Observation, att: torch.Tensor, steps: int, bp: int) -> torch.Tensor:
        """``[signal, id bits, attention] -> 2 x (Linear, LayerNorm, ReLU)`` per population.

        Rows come as ``(steps, P, Bp)``; the result is ``(P, steps * Bp * N, hidden)``.
        """
        num_p, n = self.num_populations, self.num_agents
        dt = att.dtype
        w = self.fc1_w  # (P, h, 1 + nb + d)
        nb = self.id_bits.shape[1]
        id_part = torch.baddbmm(self.fc1_b[:, None], self.id_bits.to(dt).expand(num_p, -1, -1),
                                _t(w[:, :, 1: 1 + nb]))  # (P, N, h)
        sig_att = torch.cat([obs.signal.to(dt).unsqueeze(-1), att], -1)  # (rows, N, 1 + d)
        sig_att = sig_att.view(steps, num_p, bp * n, -1).transpose(0, 1)
        sig_att = sig_att.reshape(num_p, steps * bp * n, -1)
        w_sig_att = torch.cat([w[:, :, :1], w[:, :, 1 + nb:]], 2)
        x = sig_att @ _t(w_sig_att)  # (P, S Bp N, h)
        x = (x.view(num_p, steps * bp, n, -1) + id_part[:, None]).view(num_p, -1, x.shape[-1])
        x = layer_norm_relu_stacked(x, self.norm1_w, self.norm1_b)
        x = torch.baddbmm(self.fc2_b[:, None], x, _t(self.fc2_w))
        return layer_norm_relu_stacked(x, self.norm2_w, self.norm2_b)

    def _heads(self, hn: torch.Tensor):
        """``(logits, value, belief_logit)`` from GRU outputs ``(..., P, R, hidden)``."""
        a = self.config.num_actions
        w = torch.cat([self.actor_w, self.critic_w], 1)  # (P, A + 1, h)
        bias = torch.cat([self.actor_b, self.critic_b], 1)
        y = hn @ _t(w) + bias[:, None]
        belief = (hn.detach() @ _t(self.belief_w) + self.belief_b[:, None])[..., 0]
        return y[..., :a], y[..., a], belief

    # ------------------------------------------------------------------ forward
    def forward(self, obs: Observation, h: torch.Tensor, *,
                plan: AttentionPlan | None = None) -> PolicyOutput:
        """One step of every population on its environments (see the module's layout).

        Parameters
        ----------
        obs : Observation
            ``B = P * Bp`` environments in the agents' frames.
        h : Tensor, shape (B, N, hidden)
        plan : AttentionPlan, optional
            :meth:`attention_plan` of ``obs``.

        Returns
        -------
        PolicyOutput
            Shaped as :meth:`AttentionPolicy.forward`'s, environments in input order.
        """
        if not obs.in_agent_frame:
            raise ValueError("the policy needs obs.to_agent_frame()")
        rows, n = obs.signal.shape
        bp = self._groups(rows)
        num_p = self.num_populations
        a_edge, a_self, att = self._attend(obs, plan, bp)
        x = self._trunk(obs, att, 1, bp)  # (P, Bp N, h)
        hn = gru_cell_stacked(x, h.reshape(num_p, bp * n, -1), self.gru_w_ih, self.gru_w_hh,
                              self.gru_b_ih, self.gru_b_hh)
        logits, value, belief_logit = self._heads(hn)
        return PolicyOutput(
            logits=logits.reshape(rows, n, -1), value=value.reshape(rows, n),
            belief=torch.sigmoid(belief_logit).reshape(rows, n),
            belief_logit=belief_logit.reshape(rows, n), attention=a_edge,
            self_attention=a_self, hidden=hn.reshape(rows, n, -1),
        )

    def forward_sequence(self, obs: Observation, steps: int, *,
                         plan: AttentionPlan | None = None) -> PolicyOutput:
        """Whole episodes of every population from the zero state (the training path).

        ``obs`` stacks ``steps`` batches of ``B = P * Bp`` environments time-major (entry
        ``t * B + b``); the result is shaped as :meth:`AttentionPolicy.forward_sequence`'s.
        """
        if not obs.in_agent_frame:
            raise ValueError("the policy needs obs.to_agent_frame()")
        rows, n = obs.signal.shape
        bp = self._groups(rows, steps)
        num_p, b = self.num_populations, rows // steps
        a_edge, a_self, att = self._attend(obs, plan, bp)
        x = self._trunk(obs, att, steps, bp)  # (P, T Bp N, h)
        x = x.view(num_p, steps, bp * n, -1).transpose(0, 1).contiguous()  # (T, P, R, h)
        hs = gru_sequence_stacked(x, self.gru_w_ih, self.gru_w_hh, self.gru_b_ih,
                                  self.gru_b_hh)  # (T, P, R, H)
        logits, value, belief_logit = self._heads(hs)
        return PolicyOutput(
            logits=logits.reshape(steps, b, n, -1), value=value.reshape(steps, b, n),
            belief=torch.sigmoid(belief_logit).reshape(steps, b, n),
            belief_logit=belief_logit.reshape(steps, b, n),
            attention=a_edge.view(steps, b, -1), self_attention=a_self.view(steps, b, n),
            hidden=hs.reshape(steps, b, n, -1),
        )
