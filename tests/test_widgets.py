"""Teaching widgets: the plotted numbers equal an independent replay of the game."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from socialmarl.game import ConsensusGame  # noqa: E402
from socialmarl.networks.generators import ring_graph, stochastic_block_graph  # noqa: E402
from socialmarl.plots import OPINION_COLOURS  # noqa: E402
from socialmarl.widgets import (  # noqa: E402
    FAMILIES,
    WIDGET_RANGES,
    explore_game,
    game_explorer,
    make_network,
    widget_frontend_available,
)


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
    acc, agr, rew, last = [], [], [], None
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
        last = env[0]
    return np.array(acc), np.array(agr), np.array(rew), last


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
    acc, agr, rew, last = _replay(graph, kw["strategy"], alpha=kw["alpha"], sigma=kw["sigma"],
                                  other_play=kw["other_play"], envs=envs, steps=steps,
                                  seed=seed)
    np.testing.assert_allclose(lines["accuracy"].get_ydata(), acc, atol=1e-6)
    np.testing.assert_allclose(lines["agreement"].get_ydata(), agr, atol=1e-6)
    np.testing.assert_array_equal(lines["accuracy"].get_xdata(), np.arange(steps))
    np.testing.assert_allclose(table["reward"], rew, atol=1e-6)
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
        (dict(alpha=2), r"alpha=2.0 is outside \[0.0, 1.0\]"),
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
