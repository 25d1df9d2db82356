"""Teaching widgets: the plotted numbers equal an independent replay of the game."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from socialmarl.analysis.evaluation import evaluate  # noqa: E402
from socialmarl.analysis.plots import OPINION_COLOURS  # noqa: E402
from socialmarl.apps.widgets import (  # noqa: E402
    FAMILIES,
    FAMILY_LABELS,
    FIXED_SIZES,
    LEARNED,
    WIDGET_RANGES,
    explore_game,
    game_explorer,
    make_network,
    widget_frontend_available,
)
from socialmarl.game.game import ConsensusGame  # noqa: E402
from socialmarl.learning.policy import AttentionPolicy  # noqa: E402
from socialmarl.networks.generators import (  # noqa: E402
    karate_club,
    ring_graph,
    stochastic_block_graph,
)
from tests.figure_geometry import node_boxes  # noqa: E402


def _replay(graph, strategy, *, alpha, sigma, other_play, envs, steps, seed):
    """Independent replay: an explicit loop over steps with ConsensusGame.

    The strategies are re-written here from their documentation (not imported), in the
    agents' own frames: flipped agents see 1 - signal and swapped guesses.
    """
    game = ConsensusGame(graph, num_envs=envs, episode_length=steps, alpha=alpha,
                         sigma=sigma, other_play=other_play, seed=seed)
    obs = game.reset()
    n = graph.num_nodes
    src, dst = graph.edge_index.numpy()
    acc, agr, rew, truth_r, conf_r, last = [], [], [], [], [], None
    for _ in range(steps):
        flips = obs.flips.numpy()
        sig = np.where(flips, 1.0 - obs.signal.numpy(), obs.signal.numpy())
        prev = obs.own_output.numpy()  # environment labels
        act_own = np.zeros((envs, n), dtype=np.int64)
        for b in range(envs):
            for i in range(n):
                own = int(sig[b, i] > 0.5)
                if strategy == "follow_signal":
                    a = own
                elif strategy == "always_one":
                    a = 1
                else:
                    vote = 2 * own - 1
                    for j in src[dst == i]:
                        p = int(prev[b, j])
                        if p in (0, 1):
                            p_own = 1 - p if flips[b, i] else p
                            vote += 1 if p_own == 1 else -1
                    a = 1 if vote > 0 else (0 if vote < 0 else own)
                act_own[b, i] = a
        env = np.where(flips, 1 - act_own, act_own)
        obs, reward, _, info = game.step(torch.as_tensor(env))
        acc.append(float(info["accuracy"].mean()))
        agr.append(float(info["agreement"].mean()))
        rew.append(float(reward.mean()))
        truth_r.append(float(info["truth_reward"].mean()))
        conf_r.append(float(info["conformity_reward"].mean()))
        last = env[0]
    return (np.array(acc), np.array(agr), np.array(rew), last,
            np.array(truth_r), np.array(conf_r))


@pytest.mark.parametrize(
    "kw",
    [
        dict(strategy="follow_signal", family="ring", n=12, alpha=1.0, sigma=1.0,
             other_play=False),
        dict(strategy="signal_then_majority", family="sbm", n=20, alpha=0.3, sigma=0.8,
             other_play=True),
        dict(strategy="always_one", family="complete", n=8, alpha=0.0, sigma=2.0,
             other_play=True),
    ],
)
def test_static_lines_equal_replay(kw):
    envs, steps, seed = 5, 6, 3
    fig, table = explore_game(episodes=envs, steps=steps, seed=seed, **kw)
    assert isinstance(fig, Figure)
    lines = {ln.get_label(): ln for ln in fig.axes[0].lines}
    graph = make_network(kw["family"], kw["n"], seed=seed)
    acc, agr, rew, last, truth_r, conf_r = _replay(
        graph, kw["strategy"], alpha=kw["alpha"], sigma=kw["sigma"],
        other_play=kw["other_play"], envs=envs, steps=steps, seed=seed)
    np.testing.assert_allclose(lines["accuracy"].get_ydata(), acc, atol=1e-6)
    np.testing.assert_allclose(lines["agreement"].get_ydata(), agr, atol=1e-6)
    np.testing.assert_array_equal(lines["accuracy"].get_xdata(), np.arange(steps))
    np.testing.assert_allclose(table["reward"], rew, atol=1e-6)
    np.testing.assert_allclose(table["truth_reward"], truth_r, atol=1e-6)
    np.testing.assert_allclose(table["conformity_reward"], conf_r, atol=1e-6)
    reward_lines = {ln.get_gid(): ln for ln in fig.axes[2].lines if ln.get_gid()}
    np.testing.assert_allclose(reward_lines["reward"].get_ydata(), rew, atol=1e-6)
    np.testing.assert_allclose(reward_lines["truth_term"].get_ydata(), kw["alpha"] * truth_r,
                               atol=1e-6)
    alone = 0.5 * (1 + math.erf(0.5 / kw["sigma"] / math.sqrt(2)))
    np.testing.assert_allclose(lines["own signal alone"].get_ydata(), [alone, alone])
    # the network panel: node colours are game 0's outputs at the last step
    nodes = next(c for c in fig.axes[1].collections if c.get_gid() == "nodes")
    want = np.array([matplotlib.colors.to_rgba(OPINION_COLOURS[int(c)]) for c in last])
    np.testing.assert_allclose(nodes.get_facecolors(), want)


def test_deterministic_and_seed_matters():
    _, a = explore_game(family="small_world", n=30, episodes=4, steps=4, seed=1)
    _, b = explore_game(family="small_world", n=30, episodes=4, steps=4, seed=1)
    _, c = explore_game(family="small_world", n=30, episodes=4, steps=4, seed=2)
    assert a.equals(b)
    assert not a.equals(c)


def test_follow_signal_accuracy_is_the_signal_probability():
    # many games of a lone signal: accuracy ~ P(N(0,1) < 0.5) = 0.691, at every step
    _, t = explore_game(family="complete", n=100, strategy="follow_signal", episodes=64,
                        steps=2, seed=0)
    assert abs(t["accuracy"].iloc[0] - 0.6915) < 0.01
    assert t["accuracy"].iloc[0] == t["accuracy"].iloc[1]


def test_networks_match_their_generators():
    ring = make_network("ring", 10)
    assert ring.num_edges == ring_graph(10, k=2).num_edges == 40
    sbm = make_network("sbm", 40, seed=5)
    ref = stochastic_block_graph([20, 20], 6 / 19, 0.3 / 20, seed=5)
    assert torch.equal(sbm.edge_index, ref.edge_index)
    assert make_network("karate_club", 50).num_nodes == 34
    assert make_network("complete", 7).num_edges == 42
    assert set(FAMILIES) == {"ring", "small_world", "barabasi_albert", "sbm", "complete",
                             "karate_club"}


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(alpha=2), r"alpha=2.0 is outside \[0, 1\]"),
        (dict(alpha=float("nan")), "alpha=nan"),
        (dict(sigma=-1), "sigma=-1.0"),
        (dict(family="lattice"), "unknown network family 'lattice'; choose one of"),
        (dict(strategy="copy"), "unknown strategy 'copy'"),
        (dict(n=3), r"n=3: need an integer in \[6, 200\]"),
        (dict(episodes=0), "episodes=0"),
        (dict(steps=2.5), "steps=2.5"),
        (dict(other_play="yes"), "other_play='yes'"),
    ],
)
def test_bad_inputs(kw, match):
    with pytest.raises(ValueError, match=match):
        explore_game(**kw)


def test_explorer_bad_defaults():
    with pytest.raises(ValueError, match="unknown argument"):
        game_explorer(static=True, colour="red")
    with pytest.raises(ValueError, match="unknown network family"):
        game_explorer(static=False, family="lattice")


def test_static_explorer_outside_a_kernel():
    assert widget_frontend_available() is False  # pytest is no IPython kernel
    fig = game_explorer(family="ring", n=10, steps=2, episodes=2)
    assert isinstance(fig, Figure)


def test_widget_path_builds_sliders():
    w = pytest.importorskip("ipywidgets")
    box = game_explorer(static=False, family="karate_club", alpha=0.25, steps=3, episodes=2)
    assert isinstance(box, w.interactive)
    kids = {c.description: c for c in box.children if hasattr(c, "description")}
    for name in ("alpha", "sigma", "n", "episodes", "steps"):
        lo, hi, step = WIDGET_RANGES[name]
        assert (kids[name].min, kids[name].max, kids[name].step) == (lo, hi, step)
    assert kids["alpha"].value == 0.25 and kids["steps"].value == 3
    assert isinstance(kids["alpha"], w.FloatSlider) and isinstance(kids["n"], w.IntSlider)
    assert [v for _, v in kids["network"].options] == list(FAMILIES)
    assert kids["network"].value == "karate_club"
    assert list(kids["strategy"].options) == ["follow_signal", "signal_then_majority",
                                              "always_one"]
    assert kids["other-play"].value is False
    # construction ran the function once; moving a slider re-runs it with the new value
    fig, table = box.result
    assert len(table) == 3
    kids["steps"].value = 5
    assert len(box.result[1]) == 5
    _, ref = explore_game(family="karate_club", alpha=0.25, steps=5, episodes=2)
    assert box.result[1].equals(ref)


# ----------------------------------------------------------------- the user's four points


def _kids(box):
    return {c.description: c for c in box.children if getattr(c, "description", "")}


def test_n_slider_is_disabled_for_fixed_size_families():
    pytest.importorskip("ipywidgets")
    box = game_explorer(static=False, family="small_world", n=40, steps=2, episodes=1)
    kids = _kids(box)
    n, net = kids["n"], kids["network"]
    assert n.disabled is False and n.value == 40
    assert FIXED_SIZES == {"karate_club": 34}
    for family in ["karate_club", "ring", "karate_club", "sbm", "complete", "karate_club",
                   "barabasi_albert", "small_world"]:
        net.value = family
        fixed = family in FIXED_SIZES
        assert n.disabled is fixed, family
        # the slider shows the size actually played (from the generator, not the table)
        want = karate_club().num_nodes if fixed else 40
        assert n.value == want, family
        assert box.result[0].axes[1].collections[0].get_offsets().shape[0] == want
        assert net.tooltip == FAMILIES[family]
    # moved while free, the value survives a trip to the karate club
    n.value = 24
    net.value = "karate_club"
    net.value = "ring"
    assert (n.disabled, n.value) == (False, 24)
    assert len(box.result[0].axes[1].collections[0].get_offsets()) == 24
    # starting on a fixed family: disabled at once, and the given n comes back after
    box2 = game_explorer(static=False, family="karate_club", n=50, steps=1, episodes=1)
    n2 = _kids(box2)["n"]
    assert (n2.disabled, n2.value) == (True, 34)
    _kids(box2)["network"].value = "complete"
    assert (n2.disabled, n2.value) == (False, 50)


def _em(width: str) -> float:
    assert width.endswith("em"), width
    return float(width[:-2])


def test_widget_labels_are_not_cut():
    pytest.importorskip("ipywidgets")
    box = game_explorer(static=False, family="ring", n=10, steps=1, episodes=1)
    kids = _kids(box)
    desc_widths = {k: c.style.description_width for k, c in kids.items()}
    assert len(set(desc_widths.values())) == 1, desc_widths  # aligned
    desc_em = _em(next(iter(desc_widths.values())))
    for name in kids:  # every description fits (about 0.6 em per character)
        assert 0.6 * len(name) <= desc_em, name
    for name in ("network", "strategy"):
        dd = kids[name]
        assert dd.layout.width is not None, name
        labels = [lab if isinstance(lab, str) else lab[0] for lab in dd.options]
        assert _em(dd.layout.width) >= desc_em + 0.6 * max(map(len, labels)) + 2.0, name
    assert [lab for lab, _ in kids["network"].options] == [FAMILY_LABELS[k] for k in FAMILIES]
    assert max(len(v) for v in FAMILY_LABELS.values()) <= 30
    assert kids["network"].tooltip == FAMILIES["ring"]  # the long text


@pytest.mark.parametrize("family, n", [("karate_club", 34), ("sbm", 200), ("ring", 8),
                                       ("barabasi_albert", 60)])
def test_network_legend_covers_no_node(family, n):
    fig, _ = explore_game(family=family, n=n, episodes=2, steps=2, seed=4)
    fig.canvas.draw()
    ax = fig.axes[1]
    legend = ax.get_legend()
    box = legend.get_window_extent()
    nodes = next(c for c in ax.collections if c.get_gid() == "nodes")
    assert len(nodes.get_offsets()) == n
    hits = [u for u, b in enumerate(node_boxes(fig, nodes)) if b.overlaps(box)]
    assert hits == []
    assert box.y1 <= ax.get_window_extent().y0  # below the drawing
    assert fig.bbox.contains(box.x0, box.y0) and fig.bbox.contains(box.x1, box.y1)


def _reward_lines(fig):
    return {ln.get_gid(): np.asarray(ln.get_ydata(), float) for ln in fig.axes[2].lines
            if ln.get_gid()}


@pytest.mark.parametrize("strategy", ["follow_signal", "signal_then_majority", "always_one"])
def test_reward_panel_responds_to_alpha(strategy):
    kw = dict(family="sbm", n=30, strategy=strategy, episodes=8, steps=6, seed=1)
    out = {a: explore_game(alpha=a, **kw) for a in (0.0, 0.3, 1.0)}
    for a, (fig, t) in out.items():
        lines = _reward_lines(fig)
        # recomputed from the returned numbers: reward = alpha truth + (1 - alpha) conformity
        np.testing.assert_allclose(
            t["reward"], a * t["truth_reward"] + (1 - a) * t["conformity_reward"], atol=1e-6)
        np.testing.assert_allclose(t["truth_term"], a * t["truth_reward"], atol=1e-12)
        np.testing.assert_allclose(t["conformity_term"], (1 - a) * t["conformity_reward"],
                                   atol=1e-12)
        for col in ("reward", "truth_term", "conformity_term", "truth_reward",
                    "conformity_reward"):
            np.testing.assert_array_equal(lines[col], t[col].to_numpy())
        assert fig.axes[2].get_ylim() == pytest.approx((-0.215, 0.115))  # fixed scale
        assert np.isnan(t["lying_rate"]).all() and (t["wait_rate"] == 0).all()
    (_, t0), (_, t3), (_, t1) = out.values()
    # the strategy ignores alpha: same play; the reward lines move
    for col in ("accuracy", "agreement", "truth_reward", "conformity_reward"):
        np.testing.assert_array_equal(t0[col], t1[col])
    assert not np.allclose(_reward_lines(out[0.0][0])["reward"],
                           _reward_lines(out[1.0][0])["reward"])
    assert not np.allclose(t3["truth_term"], t1["truth_term"])
    np.testing.assert_allclose(t1["reward"], t1["truth_reward"], atol=1e-6)
    np.testing.assert_allclose(t0["reward"], t0["conformity_reward"], atol=1e-6)


def test_widget_alpha_slider_moves_the_reward_lines():
    pytest.importorskip("ipywidgets")
    box = game_explorer(static=False, family="ring", n=12, alpha=0.9, steps=4, episodes=4,
                        strategy="follow_signal")
    before = _reward_lines(box.result[0])["reward"]
    _kids(box)["alpha"].value = 0.1
    after = _reward_lines(box.result[0])["reward"]
    assert not np.allclose(before, after)
    _, ref = explore_game(family="ring", n=12, alpha=0.1, steps=4, episodes=4,
                          strategy="follow_signal")
    np.testing.assert_array_equal(after, ref["reward"].to_numpy())


def _policy(n=34, seed=0, **kw):
    torch.manual_seed(seed)
    return AttentionPolicy(n, hidden=16, **kw)


def test_policy_plays_like_evaluate():
    policy = _policy()
    policy.train()
    alpha, sigma, envs, steps, seed = 0.3, 0.8, 6, 5, 2
    fig, t = explore_game(alpha=alpha, sigma=sigma, family="karate_club", policy=policy,
                          other_play=True, episodes=envs, steps=steps, seed=seed)
    assert policy.training  # left as it was
    rec = evaluate(policy, karate_club(), alpha=alpha, episodes=envs, other_play=True,
                   seed=seed, sigma=sigma, episode_length=steps)
    np.testing.assert_allclose(t["accuracy"], rec.accuracy.mean(0), atol=1e-6)
    np.testing.assert_allclose(t["agreement"], rec.agreement.mean(0), atol=1e-6)
    np.testing.assert_allclose(t["reward"], rec.rewards.mean((0, 2)), atol=1e-6)
    np.testing.assert_allclose(t["wait_rate"], (rec.outputs == 2).mean((0, 2)))
    definite = (rec.outputs != 2).sum((0, 2))
    np.testing.assert_allclose(t["lying_rate"], rec.lying.sum((0, 2)) / definite)
    assert 0 < t["wait_rate"].mean() < 1 and 0 < t["lying_rate"].mean() < 1
    nodes = fig.axes[1].collections[0]
    want = np.array([matplotlib.colors.to_rgba(OPINION_COLOURS[int(c)])
                     for c in rec.outputs[0, -1]])
    np.testing.assert_allclose(nodes.get_facecolors(), want)
    labels = [ln.get_label() for ln in fig.axes[0].lines]
    assert {"waiting", "lying"} <= set(labels)
    assert fig.axes[0].get_title().startswith(LEARNED)
    np.testing.assert_allclose(
        t["reward"], alpha * t["truth_reward"] + (1 - alpha) * t["conformity_reward"],
        atol=1e-6)


def test_policy_behaviour_ignores_alpha_but_its_reward_does_not():
    policy = _policy()
    kw = dict(family="karate_club", policy=policy, episodes=4, steps=4, seed=0)
    (f0, t0), (f1, t1) = explore_game(alpha=0.0, **kw), explore_game(alpha=1.0, **kw)
    for col in ("accuracy", "agreement", "wait_rate", "lying_rate", "truth_reward",
                "conformity_reward"):
        np.testing.assert_array_equal(t0[col], t1[col])
    np.testing.assert_array_equal(f0.axes[1].collections[0].get_facecolors(),
                                  f1.axes[1].collections[0].get_facecolors())
    assert not np.allclose(t0["reward"], t1["reward"])
    assert explore_game(alpha=0.0, **kw)[1].equals(t0)  # seeded
    # a 2-action population plays without waiting
    _, t2 = explore_game(family="ring", n=12, policy=_policy(12, num_actions=2), steps=3)
    assert (t2["wait_rate"] == 0).all()


def test_policy_errors():
    with pytest.raises(ValueError, match="plays 20 agents but the 'karate_club' network has 34"):
        explore_game(family="karate_club", policy=_policy(20))
    with pytest.raises(ValueError, match="choose n=20"):
        explore_game(family="ring", n=30, policy=_policy(20))
    with pytest.raises(ValueError, match="AttentionPolicy"):
        explore_game(family="ring", n=12, policy=torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="AttentionPolicy"):
        game_explorer(static=True, policy="policy.pt")


def test_widget_with_a_policy():
    pytest.importorskip("ipywidgets")
    policy = _policy(20)
    box = game_explorer(static=False, policy=policy, family="ring", n=40, steps=3,
                        episodes=2, alpha=0.4)
    kids = _kids(box)
    strat, n = kids["strategy"], kids["n"]
    assert list(strat.options) == [*["follow_signal", "signal_then_majority", "always_one"],
                                   LEARNED]
    assert strat.value == LEARNED
    assert (n.disabled, n.value) == (True, 20)  # the policy's size
    _, ref = explore_game(family="ring", n=20, steps=3, episodes=2, alpha=0.4, policy=policy)
    assert box.result[1].equals(ref)
    strat.value = "follow_signal"
    assert (n.disabled, n.value) == (False, 40)
    assert len(box.result[1]) == 3 and np.isnan(box.result[1]["lying_rate"]).all()
    strat.value = LEARNED
    kids["network"].value = "karate_club"  # 34 members, the policy plays 20: a message
    assert box.result is None
    kids["network"].value = "complete"
    assert (n.disabled, n.value) == (True, 20) and box.result[1].equals(
        explore_game(family="complete", n=20, steps=3, episodes=2, alpha=0.4,
                     policy=policy)[1])
    # the static figure shows the policy too; an explicit strategy starts on that one
    fig = game_explorer(static=True, policy=policy, family="ring", n=20, steps=2)
    assert fig.axes[0].get_title().startswith(LEARNED)
    box2 = game_explorer(static=False, policy=policy, family="ring", n=40,
                         strategy="always_one", steps=1, episodes=1)
    assert _kids(box2)["strategy"].value == "always_one" and not _kids(box2)["n"].disabled
