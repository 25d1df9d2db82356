"""Exact, batched execution of asynchronous micro-steps.

An asynchronous rule (voter, q-voter, Sznajd, Deffuant) advances one *step* as ``M = N``
random micro-steps per replica, applied one after another. Micro-step ``k`` of replica
``r`` *reads* a few agents' opinions (``reads[r, k]``), computes new opinions from them and
*writes* a few agents (``writes[r, k]``); node id ``N`` means "nothing" (padding, or a
micro-step that does nothing such as an agent without in-neighbours).

Three engines give the *same* result as applying the micro-steps one by one:

``"sequential"``
    A loop over the ``M`` micro-steps, each applied to all ``R`` replicas at once (one
    gather, the rule's arithmetic, one scatter). Best when ``R`` is large on a CPU.
``"rounds"``
    A dependency scheduler. Accesses are sorted per (replica, agent) in time order; a
    micro-step runs in the first round in which every earlier access it depends on has run:
    a read waits for every earlier write of that agent, a write waits for every earlier
    read or write of it. Micro-steps of one round touch disjoint agents (apart from shared
    reads), so a round is one batched gather / compute / scatter. The number of rounds is
    the length of the longest dependency chain (about 10-30 for N = 1000 on a
    Barabasi-Albert graph), not ``M``. Best for few replicas, and on GPUs.

``"levels"``
    The same scheduling idea, computed once per step instead of re-scanned per round: one
    stable sort of the accesses by (replica, agent) links every micro-step to the previous
    and next micro-step touching each of its agents (reads are treated like writes, which
    only adds dependencies), and Kahn's algorithm then runs ready micro-steps one batched
    round at a time, with work per round proportional to the round's size. Best on a CPU
    for up to about 128 replicas of micro-steps touching few agents (Deffuant).

``"auto"`` picks ``"rounds"`` on CUDA devices, or for at most 20 replicas when a
micro-step touches at most 16 agents; ``"sequential"`` otherwise. Both engines are exact,
so the choice only changes speed (tests check them against each other and against a
plain-Python loop). Pure copy micro-steps (the voter model) have a third exact path,
:func:`run_copy_steps`, which resolves who-copied-whom chains by pointer jumping.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = [
    "ENGINES", "AUTO_LEVELS_MAX_REPLICAS", "run_micro_steps", "run_copy_steps", "choose_engine",
]

ENGINES = ("auto", "sequential", "rounds", "levels")

#: On a CPU ``auto`` uses the rounds engine up to this many replicas (the measured
#: crossover with the sequential engine, one thread, was 16-32 replicas for the q-voter and
#: Deffuant rules on a Barabasi-Albert graph with N = 1000; see benchmarks/RULES.md) ...
AUTO_ROUNDS_MAX_REPLICAS = 20
#: ... and when a micro-step reads and writes at most this many agents (wide writes, as in
#: the Sznajd rule, make long dependency chains).
AUTO_ROUNDS_MAX_ACCESSES = 16
#: Deffuant steps use the "levels" engine up to this many replicas on a CPU (measured
#: crossover with the sequential engine: 128-256 replicas; see benchmarks/RULES.md).
AUTO_LEVELS_MAX_REPLICAS = 128
#: The voter's copy micro-steps use :func:`run_copy_steps` up to this many replicas on a CPU
#: (measured crossover with the sequential engine: 32-64 replicas).
AUTO_COPY_MAX_REPLICAS = 32

Micro = Callable[
    [torch.Tensor, dict[str, torch.Tensor]], tuple[torch.Tensor, torch.Tensor | None]
]


def choose_engine(engine: str, device: torch.device, replicas: int, accesses: int) -> str:
    """Resolve ``engine`` ("auto", "sequential", "rounds", "levels") to a concrete engine.

    ``"auto"`` never picks ``"levels"`` here; rules that profit from it (Deffuant) ask for
    it themselves.

    Examples
    --------
    >>> import torch
    >>> choose_engine("auto", torch.device("cpu"), 1, 2), choose_engine("auto",
    ...     torch.device("cpu"), 64, 2)
    ('rounds', 'sequential')
    """
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r}; choose one of {list(ENGINES)}")
    if engine != "auto":
        return engine
    if device.type == "cuda" or (
        replicas <= AUTO_ROUNDS_MAX_REPLICAS and accesses <= AUTO_ROUNDS_MAX_ACCESSES
    ):
        return "rounds"
    return "sequential"


def run_micro_steps(
    x: torch.Tensor,
    reads: torch.Tensor,
    writes: torch.Tensor,
    micro: Micro,
    aux: dict[str, torch.Tensor] | None = None,
    engine: str = "auto",
) -> torch.Tensor:
    """Apply ``M`` micro-steps per replica in order, exactly, with a batched engine.

    Parameters
    ----------
    x : Tensor (R, N)
        Opinions before the step (not modified).
    reads : Tensor (R, M, nr) of int64
        Agents whose opinions micro-step ``k`` reads, in the order ``micro`` expects them;
        ``N`` for none (the value then read is meaningless and must not be used).
    writes : Tensor (R, M, nw) of int64
        Agents micro-step ``k`` may write; ``N`` for none.
    micro : callable
        ``micro(values, aux) -> (new, mask)``: ``values`` (K, nr) are the opinions read by
        ``K`` micro-steps, ``aux`` holds their rows of each ``aux`` tensor, ``new`` (K, nw)
        the opinions to write (dtype of ``x``) and ``mask`` (K, nw) of bool, or None, which
        writes to apply (a masked-off write leaves the agent unchanged).
    aux : dict of Tensor (R, M, ...), optional
        Per-micro-step inputs of ``micro`` (random numbers, for instance).
    engine : {"auto", "sequential", "rounds", "levels"}

    Returns
    -------
    Tensor (R, N)
        Opinions after the ``M`` micro-steps.

    Examples
    --------
    Two micro-steps of a copy rule: agent 0 copies agent 1, then agent 2 copies agent 0.

    >>> import torch
    >>> x = torch.tensor([[0, 1, 0]])
    >>> reads, writes = torch.tensor([[[1], [0]]]), torch.tensor([[[0], [2]]])
    >>> copy = lambda v, aux: (v, None)
    >>> run_micro_steps(x, reads, writes, copy, engine="rounds").tolist()
    [[1, 1, 1]]
    >>> run_micro_steps(x, reads, writes, copy, engine="levels").tolist()
    [[1, 1, 1]]
    """
    if x.dim() != 2:
        raise ValueError(f"x has shape {tuple(x.shape)}; expected (replicas, N)")
    r, n = x.shape
    if reads.dim() != 3 or writes.dim() != 3 or reads.shape[:2] != writes.shape[:2]:
        raise ValueError(
            f"reads {tuple(reads.shape)} and writes {tuple(writes.shape)} must be (R, M, k) "
            "with the same R and M"
        )
    if reads.shape[0] != r:
        raise ValueError(f"reads are for {reads.shape[0]} replicas but x has {r}")
    aux = dict(aux or {})
    m = reads.shape[1]
    if m == 0:
        return x.clone()
    kind = choose_engine(engine, x.device, r, reads.shape[2] + writes.shape[2])
    if kind == "sequential":
        return _sequential(x, reads, writes, micro, aux)
    if kind == "levels":
        return _levels(x, reads, writes, micro, aux)
    return _rounds(x, reads, writes, micro, aux)


def _padded(x: torch.Tensor) -> torch.Tensor:
    r, n = x.shape
    xp = torch.empty(r, n + 1, dtype=x.dtype, device=x.device)
    xp[:, :n] = x
    xp[:, n] = 0
    return xp.view(-1)


def _sequential(
    x: torch.Tensor,
    reads: torch.Tensor,
    writes: torch.Tensor,
    micro: Micro,
    aux: dict[str, torch.Tensor],
) -> torch.Tensor:
    r, n = x.shape
    m, nr, nw = reads.shape[1], reads.shape[2], writes.shape[2]
    dev = x.device
    xp = _padded(x)
    off = (torch.arange(r, device=dev) * (n + 1)).view(r, 1, 1)
    rf = (reads + off).transpose(0, 1).reshape(m, r * nr)  # one contiguous row per micro-step
    wf = (writes + off).transpose(0, 1).reshape(m, r * nw)
    sent = (off.view(r, 1) + n).expand(r, nw).reshape(-1)
    keys = list(aux)
    auxm = [aux[k].transpose(0, 1).contiguous() for k in keys]
    empty: dict[str, torch.Tensor] = {}
    for k in range(m):
        vals = xp.index_select(0, rf[k]).view(r, nr)
        new, mask = micro(vals, dict(zip(keys, [a[k] for a in auxm])) if keys else empty)
        tgt = wf[k] if mask is None else torch.where(mask.reshape(-1), wf[k], sent)
        xp.index_copy_(0, tgt, new.reshape(-1))
    return xp.view(r, n + 1)[:, :n].clone()


def _rounds(
    x: torch.Tensor,
    reads: torch.Tensor,
    writes: torch.Tensor,
    micro: Micro,
    aux: dict[str, torch.Tensor],
) -> torch.Tensor:
    r, n = x.shape
    m, nr, nw = reads.shape[1], reads.shape[2], writes.shape[2]
    na = nr + nw
    dev = x.device
    long = torch.long
    # ---- accesses that carry dependencies -------------------------------------------------
    # A read of an agent the same micro-step writes is covered by the write; repeated writes
    # of one agent within a micro-step count once.
    rdep = reads.masked_fill((reads.unsqueeze(-1) == writes.unsqueeze(-2)).any(-1), n)
    if nw > 1:
        ws = writes.sort(-1).values
        dup = torch.zeros_like(ws, dtype=torch.bool)
        dup[..., 1:] = ws[..., 1:] == ws[..., :-1]
        wdep = ws.masked_fill(dup, n)
    else:
        wdep = writes
    node = torch.cat([rdep, wdep], -1)  # (R, M, na)
    sentinel = node == n
    dummy = r * n  # one chain for all "nothing" accesses: always ready
    chain = (node + (torch.arange(r, device=dev) * n).view(r, 1, 1)).masked_fill(sentinel, dummy)
    key = chain * m + torch.arange(m, device=dev).view(1, m, 1)
    skey, order = torch.sort(key.view(-1))
    a = skey.numel()
    pos = torch.empty(a, dtype=long, device=dev)
    pos[order] = torch.arange(a, device=dev)
    schain = torch.div(skey, m, rounding_mode="floor")
    nchains = dummy + 1
    start = torch.searchsorted(schain, torch.arange(nchains, device=dev))
    chain_end = torch.cat([start[1:], torch.tensor([a], device=dev)])
    is_w = torch.zeros(na, dtype=torch.bool, device=dev)
    is_w[nr:] = True
    sw = is_w.expand(r, m, na).reshape(-1)[order]
    big = a + 1
    wpos = torch.where(sw, torch.arange(a, device=dev), torch.full((a,), big, device=dev))
    at_or_after = torch.flip(torch.cummin(torch.flip(wpos, [0]), 0).values, [0])
    after = torch.cat([at_or_after[1:], torch.tensor([big], device=dev)])
    after = torch.where(after < chain_end[schain], after, torch.full_like(after, big))
    first_w = at_or_after[start.clamp_max(a - 1)]
    first_w = torch.where(first_w < chain_end, first_w, torch.full_like(first_w, big))
    first_w[dummy] = big
    exec_cnt = torch.zeros(nchains, dtype=long, device=dev)
    c = chain.view(r * m, na)
    p = pos.view(r * m, na)
    rel = (p - start[c]).masked_fill(sentinel.view(r * m, na), 0)
    nxt = after[p]
    # ---- values ---------------------------------------------------------------------------
    xp = _padded(x)
    off = (torch.arange(r, device=dev) * (n + 1)).view(r, 1, 1)
    rf = (reads + off).view(r * m, nr)
    wf = (writes + off).view(r * m, nw)
    sent = (off.view(r, 1) + n).expand(r, m).reshape(r * m, 1)
    ids = torch.arange(r * m, device=dev).view(-1, 1)
    # One row per pending micro-step: chains, sorted positions, rank in chain, next write
    # after each access, flat value indices to read and write, "nothing" index, id.
    info = torch.cat([c, p, rel, nxt, rf, wf, sent, ids], 1)
    c_rd, c_wr = slice(0, nr), slice(nr, na)
    p_rd, rel_wr = slice(na, na + nr), slice(2 * na + nr, 3 * na)
    nxt_wr = slice(3 * na + nr, 4 * na)
    v_rd, v_wr = slice(4 * na, 4 * na + nr), slice(4 * na + nr, 5 * na)
    auxf = {k: v.reshape(r * m, *v.shape[2:]) for k, v in aux.items()}
    empty: dict[str, torch.Tensor] = {}
    while info.shape[0]:
        ready = (first_w.take(info[:, c_rd]) > info[:, p_rd]).all(1)
        ready &= (exec_cnt.take(info[:, c_wr]) == info[:, rel_wr]).all(1)
        rows = info[ready]
        if rows.shape[0] == 0:  # cannot happen: the earliest pending micro-step is ready
            raise RuntimeError("the rounds engine found no runnable micro-step (a bug)")
        info = info[~ready]
        vals = xp.take(rows[:, v_rd])
        new, mask = micro(vals, {k: v[rows[:, -1]] for k, v in auxf.items()} if auxf else empty)
        tgt = rows[:, v_wr]
        if mask is not None:
            tgt = torch.where(mask, tgt, rows[:, -2:-1])
        xp.index_copy_(0, tgt.reshape(-1), new.reshape(-1))
        acc = rows[:, :na].reshape(-1)
        exec_cnt.index_add_(0, acc, torch.ones_like(acc))
        first_w.index_copy_(0, rows[:, c_wr].reshape(-1), rows[:, nxt_wr].reshape(-1))
        exec_cnt[dummy] = 0
        first_w[dummy] = big
    return xp.view(r, n + 1)[:, :n].clone()


def _levels(
    x: torch.Tensor,
    reads: torch.Tensor,
    writes: torch.Tensor,
    micro: Micro,
    aux: dict[str, torch.Tensor],
) -> torch.Tensor:
    r, n = x.shape
    m, nr = reads.shape[1], reads.shape[2]
    dev = x.device
    rm = r * m
    # Every agent a micro-step touches (read or written, once) orders it after the previous
    # micro-step of its replica touching that agent. Conservative for shared reads, exact.
    # Write slots that repeat a read slot, or write nothing, add no agent.
    cols = [reads[..., c] for c in range(nr)]
    for c in range(writes.shape[2]):
        w = writes[..., c]
        if not any(torch.equal(w, q) for q in cols) and not bool((w == n).all()):
            cols.append(w)
    na = len(cols)
    same_rw = na == nr and (writes is reads or torch.equal(writes, reads))
    node = (reads if na == nr else torch.stack(cols, -1)).to(
        torch.int32, memory_format=torch.contiguous_format, copy=True
    )
    for c in range(1, na):  # an agent listed twice in one micro-step counts once
        node[..., c].masked_fill_((node[..., :c] == node[..., c:c + 1]).any(-1), n)
    # chain of an access: (replica, agent), "nothing" as one more agent per replica. A stable
    # sort by chain keeps each chain's accesses in time order.
    if dev.type == "cpu" and n < 2**15 - 1:
        # per replica, agents as int16: NumPy's stable sort is then a radix sort (~3x faster)
        a16 = node.view(r, m * na).to(torch.int16).numpy()
        rows = np.argsort(a16, axis=1, kind="stable")
        snode = torch.from_numpy(np.take_along_axis(a16, rows, 1))
        first = torch.ones(r, m * na, dtype=torch.bool, device=dev)  # first access of chain
        torch.ne(snode[:, 1:], snode[:, :-1], out=first[:, 1:])
        first = first.view(-1).logical_or_(snode.view(-1) == n)
        order = torch.from_numpy(rows).add_(
            torch.arange(r, device=dev).view(r, 1) * (m * na)
        ).view(-1)
    else:
        roff = (torch.arange(r, device=dev, dtype=torch.int32) * (n + 1)).view(r, 1, 1)
        schain, order = torch.sort((node + roff).view(-1), stable=True)
        first = torch.ones(order.numel(), dtype=torch.bool, device=dev)
        torch.ne(schain[1:], schain[:-1], out=first[1:])
        first |= (node == n).view(-1).take(order)
    a = order.numel()
    step = order >> 1 if na == 2 else torch.div(order, na, rounding_mode="floor")
    # Kahn's algorithm, one batched round at a time: a micro-step waits for the previous
    # access of each of its chains (its predecessors, at most ``na``) and, once run, releases
    # the next access of each chain (its successors). Work per round is the size of the round.
    nxt = torch.empty(a, dtype=torch.long, device=dev)  # micro-step of the next access
    nxt[-1] = rm
    nxt[:-1] = step[1:].masked_fill(first[1:], rm)
    succ = torch.empty_like(nxt).index_copy_(0, order, nxt).view(rm, na)  # rm for none
    indeg = torch.zeros(rm + 1, dtype=torch.long, device=dev)
    indeg.index_add_(0, step, (~first).long())
    indeg[rm] = 2**62  # the "none" successor never becomes ready
    owner = torch.empty(rm + 1, dtype=torch.long, device=dev)
    frontier = torch.nonzero(indeg[:rm] == 0).view(-1)
    # ---- apply the rounds in order -------------------------------------------------------
    xp = _padded(x)
    off = (torch.arange(r, device=dev) * (n + 1)).view(r, 1, 1)
    nw = writes.shape[2]
    # one row per micro-step: flat value indices to read and write, successors
    rf = (reads + off).reshape(rm, nr)
    wf = rf if same_rw else (writes + off).reshape(rm, nw)
    auxf = {k: v.reshape(rm, *v.shape[2:]) for k, v in aux.items()}
    empty: dict[str, torch.Tensor] = {}
    while frontier.numel():
        rd = rf.index_select(0, frontier)
        vals = xp.take(rd)
        new, mask = micro(vals, {k: v[frontier] for k, v in auxf.items()} if auxf else empty)
        tgt = rd if same_rw else wf.index_select(0, frontier)
        if mask is not None:
            sent = (torch.div(frontier, m, rounding_mode="floor") * (n + 1) + n).view(-1, 1)
            tgt = torch.where(mask, tgt, sent)
        xp.index_copy_(0, tgt.view(-1), new.reshape(-1))
        sc = succ.index_select(0, frontier).view(-1)
        indeg.index_add_(0, sc, torch.full_like(sc, -1))
        cand = sc[indeg.take(sc) == 0]
        # a successor of two micro-steps of this round is listed twice: keep one
        k = torch.arange(cand.numel(), device=dev)
        owner.index_copy_(0, cand, k)
        frontier = cand[owner.take(cand) == k]
    return xp.view(r, n + 1)[:, :n].clone()


def run_copy_steps(x: torch.Tensor, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Apply micro-steps "agent ``dst[r, k]`` takes the opinion of agent ``src[r, k]``" in order.

    The exact result of the asynchronous voter step, found without a loop over micro-steps:
    the value micro-step ``k`` writes is the value ``src[r, k]`` held just before ``k``, that
    is the value written by the last earlier micro-step into ``src[r, k]`` (found by one
    sort and a binary search), or its initial value if there is none. These "copied from"
    links form chains that pointer jumping resolves in ``log2(chain length)`` rounds.
    ``dst = N`` marks a micro-step that does nothing.

    Parameters
    ----------
    x : Tensor (R, N)
    src, dst : Tensor (R, M) of int64

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0, 1, 0]])
    >>> run_copy_steps(x, torch.tensor([[1, 0, 2]]), torch.tensor([[0, 2, 1]])).tolist()
    [[1, 1, 1]]
    """
    r, n = x.shape
    m = src.shape[1]
    dev = x.device
    if m == 0:
        return x.clone()
    off = (torch.arange(r, device=dev) * (n + 1)).view(r, 1)
    k = torch.arange(m, device=dev).view(1, m)
    valid = dst < n
    big = r * (n + 1) * m + m
    wkey = torch.where(valid, (dst + off) * m + k, big).view(-1)
    skey, order = torch.sort(wkey)
    sgrp = torch.div(skey, m, rounding_mode="floor")
    # last earlier write into src[r, k]: the largest key below (src group, k)
    sflat = (src + off).view(-1)
    pos = torch.searchsorted(skey, (sflat * m + k.expand(r, m).reshape(-1))) - 1
    posc = pos.clamp_min(0)
    ptr = torch.where((pos >= 0) & (sgrp.take(posc) == sflat), order.take(posc), -1)
    val = _padded(x).take(sflat)
    while True:
        active = ptr >= 0
        if not bool(active.any()):
            break
        p = ptr.clamp_min(0)
        pp = ptr.take(p)
        done = active & (pp < 0)
        val = torch.where(done, val.take(p), val)
        ptr = torch.where(done, -1, torch.where(active, pp, ptr))
    # final value of each agent: what its last writer wrote, else unchanged
    grp = (torch.arange(n, device=dev).view(1, n) + off).view(-1)
    last = torch.searchsorted(skey, (grp + 1) * m) - 1
    lastc = last.clamp_min(0)
    has = (last >= 0) & (sgrp.take(lastc) == grp)
    return torch.where(has, val.take(order.take(lastc)), x.reshape(-1)).view(r, n)
