"""The attention policy (the README's "The policy"): one network shared by all agents.

Every agent ``i`` attends, with one head of width ``d``, over the *active* in-neighbours
it observes this step and over itself. A token is a learned embedding of the last output
code (0, 1 or wait, as ``i`` sees it in its own frame) plus a learned embedding of the id
of the token's agent. The query is ``i``'s own token; keys and values are linear maps of
the tokens; scores are scaled dot products and a softmax runs per receiving agent over
its edges plus the self entry. The attention weights are an output of the model: they
are the learned "importance" of each followed account that is compared with human data.

The trunk maps ``[signal, id bits, attention output]`` through ``Linear -> LayerNorm ->
ReLU`` twice and a GRU cell; heads give the actor logits, the critic value and a belief
``P(Psi = 1)`` in the agent's frame. The belief head reads the *detached* GRU output, so a
belief loss trains only that head.

Implementation: because a token is a sum of two embeddings and keys / values are linear,
every key and value splits into a code part (3 rows) and an id part (``N`` rows). The
score of an attention entry (an in-edge or the self entry) then takes one of 12 values
(the receiver's own code x the entry's code) that do not depend on the environment, so
each call builds an ``(E + N, 3, 4)`` table and every environment's scores are one gather
from it. The softmax and the value sum are one fused kernel over the ``(B, E + N)``
entries (:mod:`socialmarl.learning._kernels.sparse_attention`): O(B E) time and memory, no ``N x N``
matrix. ``dense=True`` computes the same attention directly with a
``(B, N, N)`` masked softmax over the token tensor, for small ``N`` and as a reference.

Choices where the design is silent: id bits are ``±1`` floats (bit ``k`` of the agent id,
``max(1, ceil(log2 N))`` bits); embeddings start ``N(0, 1/2)`` so that a token has unit
variance per component; q/k/v maps are orthogonal with gain 1, the trunk orthogonal with
gain ``sqrt(2)``, the GRU orthogonal with gain 1, heads orthogonal with gains 0.01 (actor),
1 (critic) and 1 (belief), all biases zero (as in CleanRL). ``use_attention=False`` is the
ablation that replaces attention by the *mean* of the value-mapped tokens of the active
in-neighbours and self (uniform weights, no query or key parameters).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch
from torch import nn

from ..common.checks import as_bool, as_int, is_number
from ..game.observation import NO_EDGE, NUM_CODES, WAIT, Observation
from ._kernels.gru import gru_cell, gru_sequence
from ._kernels.layer_norm import layer_norm_relu
from ._kernels.segment import EdgeCSR
from ._kernels.sparse_attention import NUM_VALUE_CODES, AttentionLayout, softmax_aggregate

__all__ = [
    "PolicyConfig",
    "PolicyOutput",
    "AttentionPlan",
    "AttentionPolicy",
    "EdgePlanning",
    "agent_id_bits",
    "attention_matrix",
]

_NUM_TOKEN_CODES = NUM_CODES - 1  # 0, 1, wait; NO_EDGE never becomes a token


@dataclass
class PolicyConfig:
    """Sizes of the attention policy. Serialises to JSON with ``config_to_dict``.

    Examples
    --------
    >>> from socialmarl.common.config_io import config_to_dict
    >>> config_to_dict(PolicyConfig(hidden=32))
    {'hidden': 32, 'attn_dim': 8, 'num_actions': 3, 'use_attention': True}
    """

    hidden: int = 50
    """Width of the two dense trunk layers and of the GRU state."""
    attn_dim: int = 8
    """Attention width ``d`` (token, query, key and value size)."""
    num_actions: int = 3
    """3 with the wait action (guess 0, guess 1, wait), 2 without."""
    use_attention: bool = True
    """False: ablation with uniform weights over active in-neighbours and self (a mean of
    the value-mapped tokens) instead of learned attention."""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad field and how to fix it."""
        for name in ("hidden", "attn_dim"):
            setattr(self, name, as_int(getattr(self, name), name, minimum=1))
        if not is_number(self.num_actions) or self.num_actions not in (2, 3):
            raise ValueError(
                f"num_actions={self.num_actions!r}: use 3 with the wait action, 2 without "
                "(match ConsensusGame.num_actions)"
            )
        self.num_actions = as_int(self.num_actions, "num_actions")
        self.use_attention = as_bool(self.use_attention, "use_attention")


@dataclass
class PolicyOutput:
    """What :meth:`AttentionPolicy.forward` returns for ``B`` environments of ``N`` agents.

    Attributes
    ----------
    logits : Tensor, shape (B, N, num_actions)
        Actor logits, in each agent's own frame.
    value : Tensor, shape (B, N)
        Critic value.
    belief : Tensor, shape (B, N)
        ``sigmoid(belief_logit)``: the agent's ``P(Psi = 1)`` in its own frame.
    belief_logit : Tensor, shape (B, N)
        Logit of the belief head (computed from the detached GRU output).
    attention : Tensor, shape (B, E)
        Weight that the receiver of each edge puts on the sender; 0 on inactive edges.
    self_attention : Tensor, shape (B, N)
        Weight each agent puts on itself; with ``attention`` it sums to 1 per agent.
    hidden : Tensor, shape (B, N, hidden)
        The new GRU state.
    """

    logits: torch.Tensor
    value: torch.Tensor
    belief: torch.Tensor
    belief_logit: torch.Tensor
    attention: torch.Tensor
    self_attention: torch.Tensor
    hidden: torch.Tensor


@dataclass
class AttentionPlan:
    """Index tensors of the sparse attention that depend only on the observation.

    Built by :meth:`AttentionPolicy.attention_plan`; a trainer that runs the same
    observations through the policy several times (PPO epochs) builds it once and passes
    it to :meth:`AttentionPolicy.forward_sequence`. Entries ``m`` are in the order of
    :class:`~socialmarl.learning._kernels.sparse_attention.AttentionLayout`: by receiving
    agent, then by sender (the self entry among the in-edges). The leading shape is the
    observation's batch ``(B,)`` or any shape that reshapes to it.

    Attributes
    ----------
    score_index : Tensor of int32 or int64, shape (..., E + N)
        Flat index ``(entry, receiver's own code, code)`` into the ``(E + N, 3, 4)``
        table of scores, where ``code`` is the entry's token code (0, 1, wait;
        ``NO_EDGE`` for an inactive edge).
    value_col : Tensor of int32 or int64, shape (..., E + N)
        ``4 * sender + code``: the entry's row in the ``(4 N, d)`` table of values
        (so ``value_col % 4`` is the entry's code).

    Plans depend on the observation and the graph only, not on the parameters, so one
    plan serves every policy on the same graph.

    Examples
    --------
    >>> from socialmarl.game.game import ConsensusGame
    >>> from socialmarl.networks.generators import ring_graph
    >>> game = ConsensusGame(ring_graph(5), num_envs=2, seed=0)
    >>> plan = AttentionPolicy(5).attention_plan(game.reset().to_agent_frame())
    >>> tuple(plan.score_index.shape)  # 10 directed ring edges + 5 self entries
    (2, 15)
    """

    score_index: torch.Tensor
    value_col: torch.Tensor

    def map(self, fn) -> AttentionPlan:
        """A plan with ``fn`` applied to every tensor (to slice or reshape the batch)."""
        return AttentionPlan(fn(self.score_index), fn(self.value_col))


def agent_id_bits(num_agents: int, device: str | torch.device | None = None) -> torch.Tensor:
    """``(N, max(1, ceil(log2 N)))`` binary codes of the agent ids as ``±1`` floats.

    Bit ``k`` (column ``k``) of agent ``i`` is ``(i >> k) & 1``, mapped 0 -> -1, 1 -> +1.

    Examples
    --------
    >>> agent_id_bits(3).tolist()
    [[-1.0, -1.0], [1.0, -1.0], [-1.0, 1.0]]
    """
    if isinstance(num_agents, bool) or not isinstance(num_agents, int) or num_agents < 1:
        raise ValueError(f"num_agents={num_agents!r}: need an integer >= 1")
    nbits = max(1, math.ceil(math.log2(num_agents)))
    ids = torch.arange(num_agents, device=device)
    bits = (ids[:, None] >> torch.arange(nbits, device=device)[None, :]) & 1
    return bits.to(torch.float32) * 2.0 - 1.0


def attention_matrix(obs: Observation, out: PolicyOutput) -> torch.Tensor:
    """``(B, N, N)`` dense attention: entry ``[b, i, j]`` is the weight ``i`` puts on ``j``.

    The diagonal holds ``out.self_attention``; pairs without an (active) edge are 0, and
    every row sums to 1. Memory grows as ``N**2``: for small graphs, plots and teaching.

    Examples
    --------
    >>> import torch
    >>> from socialmarl.game.game import ConsensusGame
    >>> from socialmarl.networks.generators import ring_graph
    >>> game = ConsensusGame(ring_graph(5), num_envs=2, seed=0)
    >>> obs = game.reset().to_agent_frame()
    >>> policy = AttentionPolicy(5)
    >>> out = policy(obs, policy.initial_state(2))
    >>> a = attention_matrix(obs, out)
    >>> a.shape, bool(torch.allclose(a.sum(-1), torch.ones(2, 5)))
    (torch.Size([2, 5, 5]), True)
    """
    b, n = out.self_attention.shape
    src, dst = obs.edge_index[0], obs.edge_index[1]
    mat = out.self_attention.new_zeros(b, n, n)
    mat[:, dst, src] = out.attention
    idx = torch.arange(n, device=mat.device)
    mat[:, idx, idx] = out.self_attention
    return mat


def _orthogonal(layer: nn.Linear, gain: float) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class EdgePlanning:
    """The observation-dependent half of the sparse attention, shared by every policy class.

    Needs ``self.num_agents`` and ``self._structure`` (``None`` at first); gives the cached,
    validated :class:`AttentionLayout` of an edge list and :meth:`attention_plan`. The plans
    depend on the observations only, never on parameters, so any policy's plan serves any
    other's (the trainer builds one per step and reuses it in the PPO epochs).
    """

    num_agents: int
    _structure: tuple | None

    def _edges(self, edge_index: torch.Tensor) -> AttentionLayout:
        """The validated edge structure as attention entries (cached per edge list)."""
        # The cache holds a reference to the tensor, so its memory cannot be reused by
        # another edge list while cached; in-place edits bump ``_version``.
        key = (edge_index.data_ptr(), tuple(edge_index.shape), edge_index.stride(),
               edge_index.device, edge_index._version)
        hit = self._structure
        if hit is not None and hit[0] == key and hit[1] is edge_index:
            return hit[2]
        layout = AttentionLayout(EdgeCSR(edge_index, self.num_agents))
        self._structure = (key, edge_index, layout)
        return layout

    def attention_plan(self, obs: Observation) -> AttentionPlan:
        """The observation-dependent index tensors of the sparse attention.

        Pass the result to :meth:`encode` / :meth:`forward_sequence` (``plan=``) to reuse
        it across several passes over the same observations; slicing a plan's batch with
        :meth:`AttentionPlan.map` gives the plan of the same slice of the observation.
        """
        lay = self._edges(obs.edge_index)
        m = lay.num_entries
        fits = m * _NUM_TOKEN_CODES * NUM_CODES < 2**31 - 1  # int32 indices are faster
        itype = torch.int32 if fits else torch.int64
        own = obs.own_output.to(itype)
        b = own.shape[0]
        # Each entry's code in the layout's order: the sender's last output as the
        # receiver sees it (a self entry: the agent's own), NO_EDGE where inactive.
        code = own.index_select(1, lay.senders)
        own_recv = own.index_select(1, lay.receivers)  # (B, M): the receiver's own code
        if obs.in_agent_frame:  # undo the sender's flip, apply the receiver's
            swap = obs.flips.index_select(1, lay.senders) ^ obs.flips.index_select(
                1, lay.receivers)
            code = torch.where(swap & (code <= 1), 1 - code, code)
        if obs.edge_active is not None:
            active = torch.ones(b, m, dtype=torch.bool, device=own.device)
            active.index_copy_(1, lay.edge_pos, obs.edge_active)
            code = code.masked_fill_(~active, NO_EDGE)
        ent = torch.arange(m, device=own.device, dtype=itype) * (_NUM_TOKEN_CODES * NUM_CODES)
        score_index = own_recv.mul_(NUM_CODES).add_(code).add_(ent)
        value_col = code.add_((lay.senders * NUM_VALUE_CODES).to(itype))
        return AttentionPlan(score_index, value_col)


class AttentionPolicy(EdgePlanning, nn.Module):
    """Actor, critic and belief heads over attention to neighbours; shared by all agents.

    Parameters
    ----------
    num_agents : int
        Number of agents ``N`` (the size of the id embedding).
    config : PolicyConfig, optional
        Sizes; keyword arguments override its fields (``hidden=64, num_actions=2``).

    Examples
    --------
    >>> import torch
    >>> from socialmarl.game.game import ConsensusGame
    >>> from socialmarl.networks.generators import karate_club
    >>> game = ConsensusGame(karate_club(), num_envs=4, other_play=True, seed=0)
    >>> obs = game.reset().to_agent_frame()
    >>> policy = AttentionPolicy(game.num_agents, hidden=32)
    >>> h = policy.initial_state(4)
    >>> out = policy(obs, h)
    >>> out.logits.shape, out.attention.shape, out.hidden.shape
    (torch.Size([4, 34, 3]), torch.Size([4, 156]), torch.Size([4, 34, 32]))
    """

    def __init__(self, num_agents: int, config: PolicyConfig | None = None, **overrides) -> None:
        super().__init__()
        if isinstance(num_agents, bool) or not isinstance(num_agents, int) or num_agents < 1:
            raise ValueError(f"num_agents={num_agents!r}: need an integer >= 1")
        if config is None:
            config = PolicyConfig()
        elif not isinstance(config, PolicyConfig):
            raise TypeError(f"config must be a PolicyConfig, got {type(config).__name__}")
        if overrides:
            names = {f.name for f in dataclasses.fields(PolicyConfig)}
            bad = sorted(set(overrides) - names)
            if bad:
                raise ValueError(
                    f"unknown PolicyConfig field(s) {bad}; valid fields are {sorted(names)}"
                )
            config = dataclasses.replace(config, **overrides)
        else:
            config.validate()
        self.config = config
        self.num_agents = num_agents
        d, hdim = config.attn_dim, config.hidden
        self.register_buffer("id_bits", agent_id_bits(num_agents), persistent=False)
        self.code_embed = nn.Embedding(_NUM_TOKEN_CODES, d)
        self.id_embed = nn.Embedding(num_agents, d)
        nn.init.normal_(self.code_embed.weight, std=math.sqrt(0.5))
        nn.init.normal_(self.id_embed.weight, std=math.sqrt(0.5))
        if config.use_attention:
            self.query = _orthogonal(nn.Linear(d, d), 1.0)
            self.key = _orthogonal(nn.Linear(d, d), 1.0)
        else:
            self.query = None
            self.key = None
        self.value = _orthogonal(nn.Linear(d, d), 1.0)
        in_dim = 1 + self.id_bits.shape[1] + d
        self.fc1 = _orthogonal(nn.Linear(in_dim, hdim), math.sqrt(2.0))
        self.norm1 = nn.LayerNorm(hdim)
        self.fc2 = _orthogonal(nn.Linear(hdim, hdim), math.sqrt(2.0))
        self.norm2 = nn.LayerNorm(hdim)
        # One GRU layer: a single step in forward(), whole episodes in forward_sequence().
        self.gru = nn.GRU(hdim, hdim)
        for name, p in self.gru.named_parameters():
            if "bias" in name:
                nn.init.zeros_(p)
            else:
                nn.init.orthogonal_(p, 1.0)
        self.actor = _orthogonal(nn.Linear(hdim, config.num_actions), 0.01)
        self.critic = _orthogonal(nn.Linear(hdim, 1), 1.0)
        self.belief_head = _orthogonal(nn.Linear(hdim, 1), 1.0)
        self._scale = 1.0 / math.sqrt(d)
        self._structure: tuple | None = None  # (key, edge_index, AttentionLayout)

    # ------------------------------------------------------------------ helpers
    def initial_state(self, batch: int, device: str | torch.device | None = None) -> torch.Tensor:
        """``(batch, N, hidden)`` zeros: the GRU state at the start of an episode.

        ``device`` defaults to the device of the parameters. Reset a running state at
        episode ends with ``h * (~done)[:, None, None]``.

        Examples
        --------
        >>> AttentionPolicy(4, hidden=8).initial_state(2).shape
        torch.Size([2, 4, 8])
        """
        p = self.fc1.weight
        return torch.zeros(batch, self.num_agents, self.config.hidden,
                           device=p.device if device is None else device, dtype=p.dtype)

    def _check(self, obs: Observation, h: torch.Tensor | None) -> None:
        """Validate ``obs`` and the hidden state ``h`` (``None``: no state to check)."""
        if not isinstance(obs, Observation):
            raise TypeError(f"obs must be an Observation, got {type(obs).__name__}")
        if not obs.in_agent_frame:
            raise ValueError(
                "the policy needs the observation in the agents' own frames "
                "(in_agent_frame=False); pass obs.to_agent_frame()"
            )
        b, n = obs.signal.shape
        if n != self.num_agents:
            raise ValueError(
                f"the observation has {n} agents but the policy was built for "
                f"{self.num_agents}; build AttentionPolicy(num_agents={n})"
            )
        want = (b, n, self.config.hidden)
        if h is not None and tuple(h.shape) != want:
            raise ValueError(
                f"hidden state has shape {tuple(h.shape)}; expected (B, N, hidden) = {want} "
                "(start from policy.initial_state(B))"
            )
        dev = self.fc1.weight.device
        h_dev = dev if h is None else h.device
        if obs.signal.device != dev or h_dev != dev or obs.edge_index.device != dev:
            raise ValueError(
                f"observation on {obs.signal.device} (edges on {obs.edge_index.device}) and "
                f"hidden state on {h_dev} but the "
                f"policy is on {dev}; move them with obs.to(device) and h.to(device)"
            )

    # ------------------------------------------------------------------ attention
    def _attend_sparse(
        self, obs: Observation, plan: AttentionPlan | None = None
    ) -> tuple[torch.Tensor, ...]:
        """O(B E) attention: (edge weights (B, E), self weights (B, N), output (B, N, d)).

        Entries ``m`` (:class:`~socialmarl.learning._kernels.sparse_attention.AttentionLayout`) have
        receiver ``i``, sender ``j`` and code ``c`` (``NO_EDGE`` if inactive). With ``o``
        the receiver's own code and ``Q``/``K``/``V`` the code (``c``) and id parts of the
        linear maps, the score is ``(Q_c[o] + Q_id[i]) . (K_c[c] + K_id[j])``. For each
        entry it takes one of 12 values (3 own codes x 4 codes) that do not depend on
        the environment: a ``(M, 3, 4)`` table is built once per call and every
        environment's scores are one gather from it. An inactive edge reads ``-inf``,
        so it gets weight 0 without a separate mask. The softmax and the value sum
        ``sum_m w_m (V_id[j] + V_code[c])`` are :func:`softmax_aggregate`.
        """
        lay = self._edges(obs.edge_index)
        b, n = obs.signal.shape
        m = lay.num_entries
        if plan is None:
            plan = self.attention_plan(obs)
        elif tuple(plan.score_index.shape) != (b, m):
            raise ValueError(
                f"attention plan has shape {tuple(plan.score_index.shape)} but the observation "
                f"needs (B, E + N) = {(b, m)}; build it with policy.attention_plan(obs)"
            )
        cemb, iemb = self.code_embed.weight, self.id_embed.weight
        # v_m = W_v (E_code[c_m] + E_id[j_m]) + b_v = V_code[c_m] + V_id[j_m]
        v_code = cemb @ self.value.weight.t()  # (3, d)
        v_id = torch.addmm(self.value.bias, iemb, self.value.weight.t())  # (N, d)
        if self.query is not None:
            sc = self._scale
            q_code = cemb @ self.query.weight.t() * sc  # the 1/sqrt(d) folded into q
            q_id = torch.addmm(self.query.bias, iemb, self.query.weight.t()) * sc
            k_code = cemb @ self.key.weight.t()
            k_id = torch.addmm(self.key.bias, iemb, self.key.weight.t())
            q_id_e = q_id.index_select(0, lay.receivers)  # (M, d)
            k_id_e = k_id.index_select(0, lay.senders)
            # table[m, o, c] = Q_c[o].K_c[c] + Q_c[o].K_id[j] + Q_id[i].K_c[c] + Q_id[i].K_id[j]
            table = ((q_code @ k_code.t())[None]
                     + (k_id_e @ q_code.t())[:, :, None]
                     + (q_id_e @ k_code.t())[:, None, :]
                     + (q_id_e * k_id_e).sum(-1)[:, None, None])  # (M, 3, 3)
        else:
            table = cemb.new_zeros(m, _NUM_TOKEN_CODES, _NUM_TOKEN_CODES)
        ninf = table.new_full((m, _NUM_TOKEN_CODES, 1), float("-inf"))
        table = torch.cat([table, ninf], 2)  # (M, 3, 4): code NO_EDGE reads -inf
        scores = table.view(-1).index_select(0, plan.score_index.reshape(-1)).view(b, m)
        out, weights = softmax_aggregate(scores, v_id, v_code, plan.value_col, lay)
        a_edge = weights.index_select(1, lay.edge_pos)
        a_self = weights.index_select(1, lay.self_pos)
        return a_edge, a_self, out

    def _attend_dense(self, obs: Observation) -> tuple[torch.Tensor, ...]:
        """Reference attention with a (B, N, N) masked softmax over the token tensor."""
        self._edges(obs.edge_index)  # same validation as the sparse path
        b, n = obs.signal.shape
        codes = obs.dense()  # [b, i, j]: what i sees of j; diagonal = own output
        mask = codes != NO_EDGE
        tokens = self.code_embed(codes.clamp(max=WAIT)) + self.id_embed.weight  # (B, N, N, d)
        idx = torch.arange(n, device=codes.device)
        values = self.value(tokens)
        if self.query is not None:
            q = self.query(tokens[:, idx, idx])  # own token of each agent
            keys = self.key(tokens)
            scores = torch.einsum("bid,bijd->bij", q, keys) * self._scale
        else:
            scores = torch.zeros(b, n, n, device=codes.device, dtype=values.dtype)
        scores = scores.masked_fill(~mask, float("-inf"))
        att = torch.softmax(scores, dim=-1)
        out = torch.einsum("bij,bijd->bid", att, values)
        src, dst = obs.edge_index[0], obs.edge_index[1]
        return att[:, dst, src], att[:, idx, idx], out

    # ------------------------------------------------------------------ forward
    def encode(
        self, obs: Observation, *, dense: bool = False, plan: AttentionPlan | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The non-recurrent part: attention and the dense trunk.

        Returns ``(x, attention, self_attention)`` with ``x`` of shape ``(B, N, hidden)``,
        the GRU's input. Any batch size works, so a trainer can encode all steps of a
        rollout at once (stack them along ``B``) and run only the GRU step by step.
        ``plan`` (from :meth:`attention_plan` of the same observation) skips rebuilding
        the attention's index tensors; the dense path ignores it.
        """
        if dense:
            a_edge, a_self, att = self._attend_dense(obs)
        else:
            a_edge, a_self, att = self._attend_sparse(obs, plan)
        dt = att.dtype
        # fc1([signal, id bits, att]) split by input block: the id-bit part is the same in
        # every environment, so it is one (N, hidden) table instead of a (B, N, .) concat;
        # signal and attention output go through one matrix product (so the signal
        # column's weight gradient is a matrix product too, not a broadcast product).
        w = self.fc1.weight
        nb = self.id_bits.shape[1]
        id_part = torch.addmm(self.fc1.bias, self.id_bits.to(dt), w[:, 1 : 1 + nb].t())
        sig_att = torch.cat([obs.signal.to(dt).unsqueeze(-1), att], -1)  # (B, N, 1 + d)
        w_sig_att = torch.cat([w[:, :1], w[:, 1 + nb :]], 1)
        x = (sig_att.view(-1, sig_att.shape[-1]) @ w_sig_att.t()).view(*att.shape[:-1], -1)
        x = x.add_(id_part)  # in place: the product's backward needs only its inputs
        x = layer_norm_relu(x, self.norm1)  # relu(norm(x)), faster backward on the CPU
        x = layer_norm_relu(self.fc2(x), self.norm2)
        return x, a_edge, a_self

    def heads(self, hn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits, value, belief_logit)`` from GRU outputs ``(..., hidden)``.

        The belief head reads the detached GRU output: its loss trains only the head.
        Actor and critic run as one matrix product (their weights stacked).
        """
        a = self.config.num_actions
        w = torch.cat([self.actor.weight, self.critic.weight])
        bias = torch.cat([self.actor.bias, self.critic.bias])
        y = nn.functional.linear(hn, w, bias)
        return y[..., :a], y[..., a], self.belief_head(hn.detach()).squeeze(-1)

    def forward(self, obs: Observation, h: torch.Tensor, *, dense: bool = False,
                plan: AttentionPlan | None = None) -> PolicyOutput:
        """One step for all ``B x N`` agents.

        Parameters
        ----------
        obs : Observation
            In the agents' frames (``obs.to_agent_frame()``), with ``N`` agents.
        h : Tensor, shape (B, N, hidden)
            GRU state (``initial_state(B)`` at the start of an episode).
        dense : bool
            Compute attention with an ``(B, N, N)`` masked softmax instead of the O(E)
            segment softmax (same result; for small ``N`` and for checking).
        plan : AttentionPlan, optional
            :meth:`attention_plan` of ``obs`` (any policy's: plans do not depend on the
            parameters), when the caller keeps it; built here otherwise.

        Returns
        -------
        PolicyOutput
        """
        self._check(obs, h)
        b, n = obs.signal.shape
        x, a_edge, a_self = self.encode(obs, dense=dense, plan=plan)
        if _HAND_GRU:
            hn = gru_cell(x.reshape(b * n, -1), h.reshape(b * n, -1), self.gru).view(b, n, -1)
        else:
            _, hn = self.gru(x.reshape(1, b * n, -1), h.reshape(1, b * n, -1).contiguous())
            hn = hn.view(b, n, -1)
        logits, value, belief_logit = self.heads(hn)
        return PolicyOutput(
            logits=logits,
            value=value,
            belief=torch.sigmoid(belief_logit),
            belief_logit=belief_logit,
            attention=a_edge,
            self_attention=a_self,
            hidden=hn,
        )

    def forward_sequence(
        self, obs: Observation, steps: int, *, plan: AttentionPlan | None = None
    ) -> PolicyOutput:
        """Whole episodes at once, starting from the zero state: the training path.

        Parameters
        ----------
        obs : Observation
            ``steps`` consecutive observations stacked time-major along the batch axis:
            entry ``t * B + b`` is step ``t`` of environment ``b`` (in the agents' frames).
        steps : int
            Episode length ``T``; the batch size must be a multiple of it.
        plan : AttentionPlan, optional
            :meth:`attention_plan` of ``obs``, to reuse across PPO epochs.

        Returns
        -------
        PolicyOutput
            Every field with a leading time axis: ``logits`` ``(T, B, N, A)``, ``value``
            ``(T, B, N)``, ``attention`` ``(T, B, E)``, ``hidden`` ``(T, B, N, hidden)``.
            Equal to calling :meth:`forward` step by step from ``initial_state``.

        Examples
        --------
        >>> import torch
        >>> from socialmarl.game.game import ConsensusGame
        >>> from socialmarl.networks.generators import ring_graph
        >>> from socialmarl.game.observation import Observation
        >>> game = ConsensusGame(ring_graph(4), num_envs=2, seed=0)
        >>> policy, obs = AttentionPolicy(4, hidden=8), game.reset()
        >>> seq = [obs.to_agent_frame(), game.step(torch.ones(2, 4, dtype=torch.long)).obs]
        >>> seq[1] = seq[1].to_agent_frame()
        >>> stacked = Observation(*(torch.cat([getattr(o, f) for o in seq])
        ...     for f in ("signal", "own_output")), edge_active=None, t=torch.zeros(4),
        ...     flips=torch.cat([o.flips for o in seq]), edge_index=obs.edge_index,
        ...     in_agent_frame=True)
        >>> policy.forward_sequence(stacked, 2).logits.shape
        torch.Size([2, 2, 4, 3])
        """
        tb, n = obs.signal.shape
        if steps < 1 or tb % steps:
            raise ValueError(f"batch {tb} is not a multiple of steps={steps}")
        b = tb // steps
        self._check(obs, None)
        x, a_edge, a_self = self.encode(obs, plan=plan)
        if _HAND_GRU:
            hs = gru_sequence(x.reshape(steps, b * n, -1), self.gru)
        else:
            hs, _ = self.gru(x.reshape(steps, b * n, -1))
        hs = hs.view(steps, b, n, -1)
        logits, value, belief_logit = self.heads(hs)
        return PolicyOutput(
            logits=logits,
            value=value,
            belief=torch.sigmoid(belief_logit),
            belief_logit=belief_logit,
            attention=a_edge.view(steps, b, -1),
            self_attention=a_self.view(steps, b, n),
            hidden=hs,
        )

    def attention_matrix(self, obs: Observation, out: PolicyOutput) -> torch.Tensor:
        """``(B, N, N)`` dense attention of ``out``; see :func:`attention_matrix`."""
        return attention_matrix(obs, out)


# the written-out GRU of socialmarl.learning._kernels.gru instead of nn.GRU (tests check both)
_HAND_GRU = True
