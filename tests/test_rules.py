"""Tests of socialmarl.rules against slow, obviously-correct plain-Python references.

Every random rule takes its random numbers from ``Rule.draw``; the references below read
the same numbers (converted to Python lists) and apply the textbook update one agent or one
micro-step at a time, so trajectories must agree exactly (binary rules) or to rounding
(continuous rules).
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from graphlib import CycleError, TopologicalSorter
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch

import socialmarl
import socialmarl.rules
from socialmarl.game.game import ConsensusGame
from socialmarl.networks.generators import barabasi_albert_graph, ring_graph
from socialmarl.networks.graph import Graph
from socialmarl.rules import (
    RULES,
    Deffuant,
    DeGroot,
    FriedkinJohnsen,
    HegselmannKrause,
    MajorityRule,
    QVoter,
    Rule,
    RuleContext,
    Sznajd,
    TruthSeeking,
    Voter,
    make_rule,
    pick_in_neighbour,
    run_micro_steps,
    score_opinions,
    simulate,
    to_guess,
)
from socialmarl.rules.engines import run_copy_steps


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """These tensors are tiny: one thread avoids OpenMP spin-waiting on a busy machine."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


# ------------------------------------------------------------------ graphs and helpers


def random_graph(n: int, p: float, seed: int, *, weighted: bool = False, loops: bool = True):
    """A directed random graph with some agents lacking in-neighbours, and self loops."""
    rng = np.random.default_rng(seed)
    a = rng.random((n, n)) < p
    a[:, 0] = False  # agent 0 listens to nobody
    if not loops:
        np.fill_diagonal(a, False)
    else:
        a[np.arange(n), np.arange(n)] = rng.random(n) < 0.3
    recv, send = np.nonzero(a)
    w = rng.uniform(0.1, 2.0, len(send)) if weighted else None
    return Graph(n, np.stack([send, recv]), w, name=f"random{seed}")


GRAPHS = [random_graph(9, 0.35, 1), random_graph(12, 0.2, 2), ring_graph(7)]


def edges_py(graph: Graph) -> list[tuple[int, int]]:
    """(sender, receiver) pairs in graph order, self loops dropped."""
    ei = graph.edge_index.tolist()
    return [(s, r) for s, r in zip(ei[0], ei[1]) if s != r]


def in_neighbours(graph: Graph) -> list[list[int]]:
    nb: list[list[int]] = [[] for _ in range(graph.num_nodes)]
    for s, r in edges_py(graph):
        nb[r].append(s)
    return [sorted(v) for v in nb]


def choose(options: list[int], u: float) -> int:
    """Slot ``min(floor(u * d), d - 1)`` of ``options`` (the documented mapping)."""
    d = len(options)
    return options[min(int(math.floor(u * d)), d - 1)]


def run_manual(rule, graph, steps, replicas, seed, engine="auto", dtype=None):
    """Step a rule by hand, keeping every step's random numbers for the reference."""
    ctx = rule.prepare(graph)
    gen = torch.Generator().manual_seed(seed)
    dtype = dtype or rule.default_dtype()
    ep = rule.episode(ctx, replicas, gen)
    x = rule.initial(ctx, replicas, gen, dtype, ep)
    ep["initial"] = x.clone()
    frames, draws = [x], []
    for _ in range(steps):
        d = rule.draw(ctx, replicas, gen)
        x = rule.step(x, ctx, d, ep, engine)
        frames.append(x)
        draws.append({k: v.tolist() for k, v in d.items()})
    return torch.stack(frames, 1), draws, ep


# ------------------------------------------------------------------ references


def ref_voter_async(x, nbrs, d):
    x = list(x)
    for a, u in zip(d["agent"], d["u"]):
        if nbrs[a]:
            x[a] = x[choose(nbrs[a], u)]
    return x


def ref_voter_sync(x, nbrs, d):
    return [x[choose(nbrs[i], d["u"][i])] if nbrs[i] else x[i] for i in range(len(x))]


def ref_qvoter(x, nbrs, d, q, eps, noise):
    x = list(x)
    for k, a in enumerate(d["agent"]):
        if not nbrs[a]:
            continue
        panel = [x[choose(nbrs[a], d["u"][k][s])] for s in range(q)]
        unanimous = len(set(panel)) == 1
        event = d["noise"][k] < eps
        if noise == "nonconformity":
            if unanimous:
                x[a] = panel[0]
            elif event:
                x[a] = 1 - x[a]
        else:
            if event:
                x[a] = 1 if d["coin"][k] < 0.5 else 0
            elif unanimous:
                x[a] = panel[0]
    return x


def ref_majority(x, nbrs, d, tie, include_self):
    out = []
    for i in range(len(x)):
        if not nbrs[i]:
            out.append(x[i])
            continue
        votes = [x[j] for j in nbrs[i]] + ([x[i]] if include_self else [])
        ones, zeros = votes.count(1), votes.count(0)
        if ones > zeros:
            out.append(1)
        elif zeros > ones:
            out.append(0)
        else:
            out.append(x[i] if tie == "keep" else int(d["coin"][i] < 0.5))
    return out


def ref_sznajd(x, edges, d):
    x = list(x)
    for e in d["edge"]:
        j, i = edges[e]
        if x[i] == x[j]:
            for s, r in edges:
                if s in (i, j):
                    x[r] = x[i]
    return x


def ref_deffuant(x, graph, d, eps, mu, symmetric, selection):
    x = list(x)
    edges, nbrs = edges_py(graph), in_neighbours(graph)
    pairs = []
    if selection == "edge":
        pairs = [(edges[e][1], edges[e][0]) for e in d["edge"]]
    else:
        pairs = [(a, choose(nbrs[a], u)) for a, u in zip(d["agent"], d["u"]) if nbrs[a]]
    for i, j in pairs:
        xi, xj = x[i], x[j]
        if abs(xi - xj) < eps:
            x[i] = xi + mu * (xj - xi)
            if symmetric:
                x[j] = xj + mu * (xi - xj)
    return x


def ref_weights(graph: Graph, self_weight, weighted=True) -> np.ndarray:
    """Row-stochastic W built entry by entry from the documented rule."""
    n = graph.num_nodes
    ei = graph.edge_index.tolist()
    ws = graph.edge_weight.tolist() if (weighted and graph.edge_weight is not None) else None
    raw = np.zeros((n, n))
    for k, (s, r) in enumerate(zip(ei[0], ei[1])):
        if s != r:
            raw[r, s] = ws[k] if ws is not None else 1.0
    w = np.zeros((n, n))
    for i in range(n):
        total = raw[i].sum()
        if total <= 0:
            w[i, i] = 1.0
            continue
        if self_weight is None:
            own = total / np.count_nonzero(raw[i]) if ws is not None else 1.0
            w[i] = raw[i] / (total + own)
            w[i, i] = own / (total + own)
        else:
            w[i] = (1 - self_weight) * raw[i] / total
            w[i, i] = self_weight
    return w


def ref_hk(x, nbrs, eps):
    out = []
    for i in range(len(x)):
        group = [x[i]] + [x[j] for j in nbrs[i] if abs(x[j] - x[i]) <= eps]
        out.append(sum(group) / len(group))
    return out


# ------------------------------------------------------------------ exact agreement


@pytest.mark.parametrize("graph", GRAPHS, ids=lambda g: g.name)
@pytest.mark.parametrize("engine", ["sequential", "rounds", "auto"])  # auto: pointer jumping
def test_voter_async_matches_reference(graph, engine):
    traj, draws, _ = run_manual(Voter(), graph, 4, 3, seed=5, engine=engine)
    nbrs = in_neighbours(graph)
    for r in range(3):
        x = traj[r, 0].tolist()
        for t, d in enumerate(draws):
            x = ref_voter_async(x, nbrs, {k: v[r] for k, v in d.items()})
            assert traj[r, t + 1].tolist() == x


@pytest.mark.parametrize("graph", GRAPHS, ids=lambda g: g.name)
def test_voter_sync_matches_reference(graph):
    traj, draws, _ = run_manual(Voter(asynchronous=False), graph, 4, 3, seed=6)
    nbrs = in_neighbours(graph)
    for r in range(3):
        x = traj[r, 0].tolist()
        for t, d in enumerate(draws):
            x = ref_voter_sync(x, nbrs, {k: v[r] for k, v in d.items()})
            assert traj[r, t + 1].tolist() == x


@pytest.mark.parametrize("noise", ["nonconformity", "independence"])
@pytest.mark.parametrize("engine", ["sequential", "rounds", "levels"])
def test_qvoter_matches_reference(noise, engine):
    rule = QVoter(q=3, epsilon=0.3, noise=noise)
    for graph in GRAPHS:
        traj, draws, _ = run_manual(rule, graph, 4, 3, seed=7, engine=engine)
        nbrs = in_neighbours(graph)
        for r in range(3):
            x = traj[r, 0].tolist()
            for t, d in enumerate(draws):
                x = ref_qvoter(x, nbrs, {k: v[r] for k, v in d.items()}, 3, 0.3, noise)
                assert traj[r, t + 1].tolist() == x


@pytest.mark.parametrize("tie", ["keep", "random"])
@pytest.mark.parametrize("include_self", [False, True])
def test_majority_matches_reference(tie, include_self):
    rule = MajorityRule(tie=tie, include_self=include_self)
    for graph in GRAPHS:
        traj, draws, _ = run_manual(rule, graph, 4, 3, seed=8)
        nbrs = in_neighbours(graph)
        for r in range(3):
            x = traj[r, 0].tolist()
            for t, d in enumerate(draws):
                x = ref_majority(x, nbrs, {k: v[r] for k, v in d.items()}, tie, include_self)
                assert traj[r, t + 1].tolist() == x


@pytest.mark.parametrize("engine", ["sequential", "rounds", "levels"])
def test_sznajd_matches_reference(engine):
    for graph in GRAPHS:
        traj, draws, _ = run_manual(Sznajd(), graph, 3, 3, seed=9, engine=engine)
        edges = edges_py(graph)
        for r in range(3):
            x = traj[r, 0].tolist()
            for t, d in enumerate(draws):
                x = ref_sznajd(x, edges, {k: v[r] for k, v in d.items()})
                assert traj[r, t + 1].tolist() == x


@pytest.mark.parametrize("selection", ["edge", "node"])
@pytest.mark.parametrize("symmetric", [True, False])
@pytest.mark.parametrize("engine", ["sequential", "rounds", "levels"])
def test_deffuant_matches_reference(selection, symmetric, engine):
    rule = Deffuant(epsilon=0.4, mu=0.3, symmetric=symmetric, selection=selection)
    for graph in GRAPHS:
        traj, draws, _ = run_manual(rule, graph, 4, 3, seed=10, engine=engine,
                                    dtype=torch.float64)
        for r in range(3):
            x = traj[r, 0].tolist()
            for t, d in enumerate(draws):
                x = ref_deffuant(x, graph, {k: v[r] for k, v in d.items()}, 0.4, 0.3,
                                 symmetric, selection)
                np.testing.assert_allclose(traj[r, t + 1].numpy(), x, rtol=0, atol=1e-12)


@pytest.mark.parametrize("self_weight", [None, 0.0, 0.4])
def test_degroot_and_fj_match_reference_iteration(self_weight):
    graph = random_graph(10, 0.3, 3, weighted=True)
    w = ref_weights(graph, self_weight)
    assert np.allclose(w.sum(1), 1.0)
    np.testing.assert_allclose(DeGroot(self_weight=self_weight).weight_matrix(graph).numpy(),
                               w, atol=1e-14)
    s = np.linspace(0.0, 0.9, 10)
    for rule in (DeGroot(self_weight=self_weight),
                 FriedkinJohnsen(stubbornness=s.tolist(), self_weight=self_weight)):
        traj = simulate(rule, graph, 6, replicas=2, seed=1, dtype=torch.float64).numpy()
        for r in range(2):
            x0 = traj[r, 0]
            x = x0.copy()
            for t in range(6):
                x = w @ x if rule.name == "degroot" else s * x0 + (1 - s) * (w @ x)
                np.testing.assert_allclose(traj[r, t + 1], x, atol=1e-12)


def test_unweighted_degroot_ignores_weights():
    graph = random_graph(8, 0.4, 4, weighted=True)
    w = ref_weights(graph, None, weighted=False)
    np.testing.assert_allclose(DeGroot(weighted=False).weight_matrix(graph).numpy(), w,
                               atol=1e-14)


def test_hk_matches_reference():
    for graph in GRAPHS:
        nbrs = in_neighbours(graph)
        traj = simulate(HegselmannKrause(epsilon=0.25), graph, 5, replicas=3, seed=11,
                        dtype=torch.float64)
        for r in range(3):
            x = traj[r, 0].tolist()
            for t in range(5):
                x = ref_hk(x, nbrs, 0.25)
                np.testing.assert_allclose(traj[r, t + 1].numpy(), x, atol=1e-12)


def test_hk_replica_blocks_match_reference():
    graph = GRAPHS[0]
    nbrs = in_neighbours(graph)
    rule = HegselmannKrause(epsilon=0.3)
    rule.cpu_block = 2  # 5 replicas run as blocks of 2, 2 and 1
    traj = simulate(rule, graph, 3, replicas=5, seed=13, dtype=torch.float64)
    for r in range(5):
        x = traj[r, 0].tolist()
        for t in range(3):
            x = ref_hk(x, nbrs, 0.3)
            np.testing.assert_allclose(traj[r, t + 1].numpy(), x, atol=1e-12)


def test_truth_seeking_matches_reference():
    graph = random_graph(25, 0.2, 7)
    nbrs = in_neighbours(graph)
    for alpha, sigma in ((0.3, 1.0), (0.7, 2.0), (1.0, 0.5), (0.0, 1.0), (0.6, 0.0)):
        rule = TruthSeeking(alpha=alpha, sigma=sigma, p_signal=0.7)
        traj, ep = simulate(rule, graph, 5, replicas=6, seed=12, return_episode=True)
        for r in range(6):
            sig = ep["signal"][r].tolist()
            llr = [((v - 0.5) / sigma**2 if sigma > 0 else math.copysign(1e12, v - 0.5))
                   if v != 0.5 else 0.0 for v in sig]
            g = traj[r, 0].tolist()
            for i, v in enumerate(llr):  # step 0 states the signal (coin on a tie)
                if v != 0:
                    assert g[i] == (1 if v > 0 else 0)
            for t in range(5):
                new = []
                for i in range(graph.num_nodes):
                    m = (sum(2 * g[j] - 1 for j in nbrs[i]) / len(nbrs[i])) if nbrs[i] else 0.0
                    score = alpha * llr[i] + (1 - alpha) * m
                    new.append(1 if score > 0 else 0 if score < 0 else g[i])
                g = new
                assert traj[r, t + 1].tolist() == g
        # signals are drawn like the game's: Psi + sigma * eps, or 0.5 without a signal
        has = ep["signal"] != 0.5
        assert 0 < float(has.double().mean()) < 1


# ------------------------------------------------------------------ engines and determinism


@pytest.mark.parametrize("rule", [Voter(), QVoter(q=2, epsilon=0.2), Deffuant(epsilon=0.3),
                                  Sznajd()], ids=lambda r: r.name)
def test_engines_agree_on_a_larger_graph(rule):
    graph = barabasi_albert_graph(150, 3, directed=True, reciprocity=0.5, seed=1)
    dt = None if rule.binary else torch.float64
    a = simulate(rule, graph, 3, replicas=5, seed=2, engine="sequential", dtype=dt)
    b = simulate(rule, graph, 3, replicas=5, seed=2, engine="rounds", dtype=dt)
    c = simulate(rule, graph, 3, replicas=5, seed=2, engine="levels", dtype=dt)
    assert torch.equal(a, b) and torch.equal(a, c)


def test_levels_engine_on_dense_collisions_and_duplicate_accesses():
    # few agents, many micro-steps: long dependency chains; a micro-step may read an agent
    # twice and write it (listed as read and write), or touch nothing (agent id N = 5)
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(3, 5, generator=gen, dtype=torch.float64)
    idle = (torch.rand(3, 400, 1, generator=gen) < 0.1).expand(3, 400, 2)
    reads = torch.randint(0, 5, (3, 400, 2), generator=gen)
    w1 = torch.randint(0, 6, (3, 400), generator=gen)
    writes = torch.stack([reads[..., 0], w1.masked_fill(w1 == reads[..., 0], 5)], -1)
    reads, writes = reads.masked_fill(idle, 5), writes.masked_fill(idle, 5)
    coef = torch.rand(3, 400, generator=gen, dtype=torch.float64)

    def micro(v, aux):
        new = 0.5 * v[:, :1] + aux["c"].unsqueeze(1) * v[:, 1:]
        return torch.cat([new, v[:, :1] - 0.1], 1), None

    out = run_micro_steps(x, reads, writes, micro, {"c": coef}, "levels")
    seq = run_micro_steps(x, reads, writes, micro, {"c": coef}, "sequential")
    np.testing.assert_allclose(out.numpy(), seq.numpy(), rtol=0, atol=1e-12)
    # non-contiguous inputs, left unchanged
    rt = reads.transpose(0, 1).contiguous().transpose(0, 1)
    before = rt.clone()
    out2 = run_micro_steps(x, rt, writes, micro, {"c": coef}, "levels")
    assert torch.equal(out2, out) and torch.equal(rt, before)
    expect = x.tolist()
    for r in range(3):
        e = expect[r] + [0.0]
        for k in range(400):
            if bool(idle[r, k, 0]):
                continue
            i, j = reads[r, k].tolist()
            w0, w1 = writes[r, k].tolist()
            vi, vj = e[i], e[j]
            e[w0] = 0.5 * vi + float(coef[r, k]) * vj
            e[w1] = vi - 0.1
            e[5] = 0.0
        expect[r] = e[:5]
    np.testing.assert_allclose(out.numpy(), expect, rtol=0, atol=1e-12)


def test_copy_steps_equal_sequential_engine_on_long_chains():
    # few agents and many micro-steps make long who-copied-whom chains
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(0, 50, (4, 6), generator=gen)
    src = torch.randint(0, 6, (4, 300), generator=gen)
    dst = torch.randint(0, 7, (4, 300), generator=gen)  # 6 = "nothing"
    src = torch.where(dst < 6, src, 6)
    seq = run_micro_steps(x, src[..., None], dst[..., None], lambda v, a: (v, None), None,
                          "sequential")
    assert torch.equal(run_copy_steps(x, src, dst), seq)
    expect = x.tolist()
    for r in range(4):
        for s_, d_ in zip(src[r].tolist(), dst[r].tolist()):
            if d_ < 6:
                expect[r][d_] = expect[r][s_]
    assert seq.tolist() == expect


def test_run_micro_steps_masked_writes_and_order():
    # micro-step 0: agent 1 writes 5 (masked off); 1: agent 0 copies agent 2; 2: agent 2 <- 7
    x = torch.tensor([[0, 1, 2]])
    reads = torch.tensor([[[1], [2], [0]]])
    writes = torch.tensor([[[1], [0], [2]]])
    val = torch.tensor([[5, 0, 7]])

    def micro(v, aux):
        new = torch.where(aux["val"] > 0, aux["val"], v[:, 0])
        return new.unsqueeze(1), (aux["mask"]).unsqueeze(1)

    mask = torch.tensor([[False, True, True]])
    for engine in ("sequential", "rounds", "levels"):
        out = run_micro_steps(x, reads, writes, micro, {"val": val, "mask": mask}, engine)
        assert out.tolist() == [[2, 1, 7]]


def test_simulate_equals_manual_stepping_and_is_deterministic():
    graph = GRAPHS[1]
    for name, cls in RULES.items():
        rule = cls()
        dt = None if rule.binary else torch.float64
        traj, _, _ = run_manual(rule, graph, 3, 2, seed=21, dtype=dt)
        again = simulate(rule, graph, 3, replicas=2, seed=21, dtype=dt)
        assert torch.equal(traj, again), name
        gen = torch.Generator().manual_seed(21)
        assert torch.equal(simulate(rule, graph, 3, replicas=2, seed=gen, dtype=dt), traj)
    a = simulate("voter", GRAPHS[0], 5, replicas=4, seed=1)
    b = simulate("voter", GRAPHS[0], 5, replicas=4, seed=2)
    assert not torch.equal(a, b)


def test_make_rule_and_registry():
    assert set(RULES) == {"voter", "qvoter", "majority", "sznajd", "degroot",
                          "friedkin_johnsen", "deffuant", "hk", "truth_seeking"}
    assert make_rule("qvoter", q=4).q == 4
    for name, cls in RULES.items():
        assert cls.name == name
        assert cls.binary == (cls().default_dtype() == torch.long)
    assert socialmarl.RULES is RULES and socialmarl.make_rule is make_rule
    assert socialmarl.simulate_rule is simulate


# ------------------------------------------------------------------ adding a rule


@dataclass(eq=False)
class AntiVoter(Rule):
    """Anti-voter model (Matloff 1977), asynchronous: a random agent takes the opposite of
    a random in-neighbour's opinion. A whole new rule: this class plus one registry line."""

    name: ClassVar[str] = "anti_voter"
    binary: ClassVar[bool] = True
    asynchronous: ClassVar[bool] = True

    def draw(self, ctx: RuleContext, replicas: int, generator: torch.Generator):
        n, dev = ctx.num_nodes, ctx.device
        return {
            "agent": torch.randint(0, n, (replicas, n), generator=generator, device=dev),
            "u": torch.rand(replicas, n, generator=generator, device=dev, dtype=torch.float64),
        }

    def step(self, x, ctx, draws, episode=None, engine="auto"):
        agent, n = draws["agent"], ctx.num_nodes
        nb = pick_in_neighbour(ctx, agent, draws["u"])
        writes = torch.where(nb < n, agent, torch.full_like(agent, n))
        return run_micro_steps(x, nb.unsqueeze(-1), writes.unsqueeze(-1),
                               lambda v, aux: (1 - v, None), None, engine)


def test_a_new_rule_is_one_class_and_one_registry_line(monkeypatch):
    monkeypatch.setitem(RULES, AntiVoter.name, AntiVoter)  # the line in registry.RULES
    graph = GRAPHS[0]
    assert isinstance(make_rule("anti_voter"), AntiVoter)
    assert isinstance(socialmarl.make_rule("anti_voter"), AntiVoter)
    traj, draws, _ = run_manual(AntiVoter(), graph, 4, 3, seed=5)
    for engine in ("auto", "sequential", "rounds", "levels"):
        assert torch.equal(simulate("anti_voter", graph, 4, replicas=3, seed=5, engine=engine),
                           traj)
    assert torch.equal(AntiVoter().run(graph, 4, 3, seed=5), traj)
    nbrs = in_neighbours(graph)
    for r in range(3):
        x = traj[r, 0].tolist()
        for t, d in enumerate(draws):
            for i, u in zip(d["agent"][r], d["u"][r]):
                if nbrs[i]:
                    x[i] = 1 - x[choose(nbrs[i], u)]
            assert x == traj[r, t + 1].tolist()


# ------------------------------------------------------------------ module structure

RULES_DIR = Path(socialmarl.rules.__file__).parent
LOWER_LAYERS = ("socialmarl.common", "socialmarl.networks", "socialmarl.game", "socialmarl.rules")


def _module_imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (function-level imports included)."""
    package = "socialmarl.rules"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = ".".join(parts[: len(parts) - node.level + 1]) if node.level else ""
            base = ".".join(p for p in (base, node.module or "") if p)
            out.update(f"{base}.{a.name}" for a in node.names)  # a name or a submodule
            if node.module:
                out.add(base)
    return out


def test_rules_import_no_cycle_and_only_lower_layers():
    files = {f"socialmarl.rules.{p.stem}": p for p in RULES_DIR.glob("*.py")}
    files["socialmarl.rules"] = files.pop("socialmarl.rules.__init__")
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        imports = _module_imports(path)
        graph[module] = {m for m in imports if m in files and m != module}
        ours = {m for m in imports if m.split(".")[0] == "socialmarl"}
        bad = {m for m in ours if not any(m == p or m.startswith(p + ".") for p in LOWER_LAYERS)}
        assert not bad, f"{module} imports {sorted(bad)}: rules may use only {LOWER_LAYERS}"
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as err:
        pytest.fail(f"import cycle in socialmarl.rules: {err.args[1]}")
    assert order.index("socialmarl.rules.base") < order.index("socialmarl.rules.registry")
    assert "socialmarl.rules.registry" not in graph["socialmarl.rules.base"]


# ------------------------------------------------------------------ fixed points and statistics


def test_degroot_converges_to_left_eigenvector_consensus():
    n = 12
    rng = np.random.default_rng(0)
    pairs = [(i, (i + 1) % n) for i in range(n)] + [
        (int(a), int(b)) for a, b in rng.integers(0, n, (10, 2)) if a != b
    ]
    graph = Graph.from_edges(n, pairs, rng.uniform(0.5, 2, len(pairs)), merge="sum")
    w = ref_weights(graph, None)
    vals, vecs = np.linalg.eig(w.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    pi = pi / pi.sum()
    assert np.all(pi > 0)
    traj = simulate(DeGroot(), graph, 600, replicas=3, seed=0, dtype=torch.float64).numpy()
    for r in range(3):
        np.testing.assert_allclose(traj[r, -1], np.full(n, pi @ traj[r, 0]), atol=1e-9)


def test_fj_converges_to_closed_form():
    graph = random_graph(10, 0.3, 5, weighted=True, loops=False)
    s = np.random.default_rng(1).uniform(0.05, 0.6, 10)
    rule = FriedkinJohnsen(stubbornness=s.tolist())
    traj = simulate(rule, graph, 400, replicas=2, seed=3, dtype=torch.float64).numpy()
    w = ref_weights(graph, None)
    a = np.eye(10) - (1 - s)[:, None] * w
    for r in range(2):
        expect = np.linalg.solve(a, s * traj[r, 0])
        np.testing.assert_allclose(traj[r, -1], expect, atol=1e-10)
        np.testing.assert_allclose(rule.equilibrium(graph, traj[r, 0]).numpy(), expect,
                                   atol=1e-12)
    sus = FriedkinJohnsen(susceptibility=0.75)
    assert sus.stubbornness == 0.25


def test_hk_reaches_a_fixed_point():
    graph = random_graph(30, 0.4, 6, loops=False)
    nbrs = in_neighbours(graph)
    traj = simulate(HegselmannKrause(epsilon=0.2), graph, 150, replicas=3, seed=4,
                    dtype=torch.float64)
    for r in range(3):
        final = traj[r, -1].tolist()
        np.testing.assert_allclose(ref_hk(final, nbrs, 0.2), final, atol=1e-10)
        assert len({round(v, 6) for v in final}) < 30  # opinions have clustered


def _magnetisation_drift(graph: Graph, x0: torch.Tensor, replicas: int, steps: int):
    traj = simulate(Voter(), graph, steps, replicas=replicas, seed=0, initial=x0)
    m = traj[:, -1].double().mean(1)
    m0 = float(x0.double().mean())
    return float(m.mean()) - m0, float(m.std()) / math.sqrt(replicas)


def test_voter_conserves_expected_magnetisation_on_a_regular_graph():
    graph = ring_graph(20, 2)  # 4-regular
    x0 = torch.zeros(20, dtype=torch.long)
    x0[:6] = 1
    drift, se = _magnetisation_drift(graph, x0, 3000, 4)
    assert abs(drift) < 4 * se
    # the same statistic detects drift where it is not conserved: a star whose hub holds 1
    star = Graph.from_edges(8, [(0, k) for k in range(1, 8)], directed=False)
    xs = torch.zeros(8, dtype=torch.long)
    xs[0] = 1
    drift, se = _magnetisation_drift(star, xs, 3000, 1)
    assert drift > 10 * se


# ------------------------------------------------------------------ scoring


def test_score_opinions_matches_the_game():
    graph = barabasi_albert_graph(40, 2, directed=True, reciprocity=0.3, seed=3)
    game = ConsensusGame(graph, num_envs=5, seed=1, p_signal=0.8)
    game.reset()
    episode = {"truth": game.truth, "signal": game.state["signal"].double()}
    traj = simulate(TruthSeeking(alpha=0.5), graph, 4, replicas=5, seed=0, episode=episode)
    score = score_opinions(traj, graph, truth=episode["truth"])
    for t in range(5):
        out = game.rewards(traj[:, t], game.truth, None)
        np.testing.assert_allclose(score["accuracy"][:, t], out["accuracy"], atol=1e-6)
        np.testing.assert_allclose(score["agreement"][:, t], out["agreement"], atol=1e-6)


def test_score_opinions_continuous_and_to_guess():
    g = Graph(3, [[0, 1], [1, 2]])
    x = torch.tensor([[[0.2, 0.7, 0.9], [0.6, 0.7, 0.9]]])
    s = score_opinions(x, g, truth=torch.tensor([1]))
    assert s["agreement"].tolist() == [[0.5, 1.0]]
    assert s["consensus"].tolist() == [[False, True]]
    np.testing.assert_allclose(s["accuracy"].numpy(), [[2 / 3, 1.0]])
    assert to_guess(torch.tensor([0.5, 0.51]), 0.5).tolist() == [0, 1]


def test_score_opinions_agreement_is_nan_without_edges():
    # one convention everywhere (socialmarl.game.measures): no edge, no agreement to measure
    g = Graph(3, torch.zeros((2, 0), dtype=torch.long))
    s = score_opinions(torch.tensor([[[1, 1, 0], [1, 1, 1]]]), g, truth=torch.tensor([1]))
    assert torch.isnan(s["agreement"]).all() and s["agreement"].shape == (1, 2)
    np.testing.assert_allclose(s["accuracy"].numpy(), [[2 / 3, 1.0]])
    loops = Graph(3, [[0, 1], [0, 1]])  # self loops only: ignored, as in the game
    assert torch.isnan(score_opinions(torch.tensor([[1, 0, 1]]), loops)["agreement"]).all()


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Deffuant(epsilon=-0.1), "epsilon=-0.1"),
        (lambda: HegselmannKrause(epsilon=-1), "epsilon=-1"),
        (lambda: HegselmannKrause(epsilon=float("nan")), "epsilon=nan"),
        (lambda: Deffuant(mu=0.0), r"mu=0.0 is outside \(0, 0.5\]"),
        (lambda: Deffuant(mu=0.51), r"mu=0.51 is outside \(0, 0.5\]"),
        (lambda: Deffuant(mu=float("nan")), "mu=nan"),
        (lambda: Deffuant(selection="pairs"), "selection='pairs'"),
        (lambda: QVoter(q=0), "q=0"),
        (lambda: QVoter(q=1.5), "q=1.5"),
        (lambda: QVoter(epsilon=1.2), "epsilon=1.2"),
        (lambda: QVoter(noise="loud"), "noise='loud'"),
        (lambda: MajorityRule(tie="coin"), "tie='coin'"),
        (lambda: DeGroot(self_weight=1.5), "self_weight=1.5"),
        (lambda: FriedkinJohnsen(stubbornness=[0.2, 1.3]), r"stubbornness=1.3 \(agent 1\)"),
        (lambda: FriedkinJohnsen(stubbornness=0.2, susceptibility=0.5), "not both"),
        (lambda: TruthSeeking(alpha=2.0), "alpha=2.0"),
        (lambda: TruthSeeking(sigma=-1.0), "sigma=-1.0"),
        (lambda: make_rule("galam"), "unknown rule 'galam'"),
    ],
)
def test_invalid_parameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_invalid_simulation_inputs_raise():
    g = GRAPHS[0]
    n = g.num_nodes
    nan = torch.rand(n)
    nan[3] = float("nan")
    with pytest.raises(ValueError, match="at agent 3 .*finite"):
        simulate(HegselmannKrause(), g, 2, initial=nan)
    with pytest.raises(ValueError, match=r"initial has shape \(5,\)"):
        simulate(Voter(), g, 2, initial=torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match=r"initial has shape \(3, 9\)"):
        simulate(Voter(), g, 2, replicas=2, initial=torch.zeros(3, n, dtype=torch.long))
    with pytest.raises(ValueError, match="holds 2 at agent 0"):
        simulate(Voter(), g, 2, initial=[2] + [0] * (n - 1))
    with pytest.raises(ValueError, match="steps=-1"):
        simulate(Voter(), g, -1)
    with pytest.raises(ValueError, match="replicas=0"):
        simulate(Voter(), g, 1, replicas=0)
    with pytest.raises(ValueError, match="engine='fast'"):
        simulate(Voter(), g, 1, engine="fast")
    with pytest.raises(TypeError, match="seed=1.5"):
        simulate(Voter(), g, 1, seed=1.5)
    with pytest.raises(ValueError, match="integer dtype"):
        simulate(Voter(), g, 1, dtype=torch.float32)
    with pytest.raises(ValueError, match="floating dtype"):
        simulate(DeGroot(), g, 1, dtype=torch.long)
    with pytest.raises(ValueError, match="signal has shape"):
        simulate(TruthSeeking(), g, 1, replicas=2,
                 episode={"truth": torch.zeros(2), "signal": torch.zeros(2, n + 1)})
    with pytest.raises(ValueError, match="stubbornness has 3 values"):
        simulate(FriedkinJohnsen(stubbornness=[0.1, 0.2, 0.3]), g, 1)
    with pytest.raises(TypeError, match="socialmarl Graph"):
        simulate(Voter(), "not a graph", 1)
    with pytest.raises(ValueError, match="opinions have 4 agents"):
        score_opinions(torch.zeros(1, 4), g)


def test_edgeless_graph_is_a_fixed_point():
    g = Graph(4, torch.zeros((2, 0), dtype=torch.long))
    for cls in RULES.values():
        rule = cls()
        traj = simulate(rule, g, 2, replicas=2, seed=0,
                        dtype=None if rule.binary else torch.float64)
        assert torch.equal(traj[:, 0], traj[:, -1]), rule.name
