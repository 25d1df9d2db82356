"""The PettingZoo adapter: PettingZoo's own API and seed tests, equivalence with the game
step by step, names, fixed-size observations, errors, rendering, the lazy import and the
random-policy example. Small games only (karate club, the 33-person camp sample, a few
steps), so the file runs in seconds."""

from __future__ import annotations

import contextlib
import importlib.util
import subprocess
import sys
import warnings
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import socialmarl as sm  # noqa: E402
from socialmarl.adapters import pettingzoo_env as pz_env  # noqa: E402
from socialmarl.game.observation import NO_EDGE, to_env_actions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
T = 4  # episode length of the small games


def _pettingzoo():
    return pytest.importorskip("pettingzoo.test", reason="the pettingzoo extra is not installed")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _game_args(kind: str) -> tuple[sm.Graph, dict]:
    """The graph and game arguments of a static, percolated or dynamic-camp game."""
    if kind == "camp":
        net = sm.load_network("camp_sample")
        return net.graph, {"camp": net.camp}
    kwargs = {"p_perc": 0.5} if kind == "percolated" else {}
    return sm.karate_club(), kwargs


def _make(kind: str, *, allow_wait: bool = True, other_play: bool = False, seed=None,
          **kw) -> pz_env.ConsensusParallelEnv:
    graph, args = _game_args(kind)
    return pz_env.ConsensusParallelEnv(graph, episode_length=T, alpha=0.5,
                                       allow_wait=allow_wait, other_play=other_play,
                                       seed=seed, **args, **kw)


CASES = [(kind, wait, op) for kind in ("static", "percolated", "camp")
         for wait in (True, False) for op in (False, True)]
IDS = [f"{k}-{'wait' if w else 'nowait'}-{'op' if o else 'noop'}" for k, w, o in CASES]


# ------------------------------------------------------------------ PettingZoo's own tests
@contextlib.contextmanager
def _no_api_warnings():
    """Fail on the warnings parallel_api_test gives (a live or dead agent given the wrong
    keys, copied spaces)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    msgs = [str(w.message) for w in caught
            if any(k in str(w.message) for k in ("agent", "_space"))]
    assert not msgs, msgs


@pytest.mark.parametrize(("kind", "allow_wait", "other_play"), CASES, ids=IDS)
def test_parallel_api_test_passes(kind, allow_wait, other_play):
    pzt = _pettingzoo()
    env = _make(kind, allow_wait=allow_wait, other_play=other_play)
    with _no_api_warnings():
        pzt.parallel_api_test(env, num_cycles=2 * T)


@pytest.mark.parametrize(("kind", "allow_wait", "other_play"), CASES, ids=IDS)
def test_parallel_seed_test_passes(kind, allow_wait, other_play):
    pzt = _pettingzoo()
    pzt.parallel_seed_test(lambda: _make(kind, allow_wait=allow_wait, other_play=other_play))


@pytest.mark.parametrize(("kind", "allow_wait", "other_play"), CASES[::3], ids=IDS[::3])
def test_a_whole_episode_stays_in_the_spaces(kind, allow_wait, other_play):
    _pettingzoo()
    env = _make(kind, allow_wait=allow_wait, other_play=other_play)
    obs, infos = env.reset(seed=5)
    assert infos == {a: {} for a in env.possible_agents}
    steps = 0
    while env.agents:
        for a in env.agents:
            assert env.observation_space(a).contains(obs[a]), (a, obs[a])
        actions = {a: env.action_space(a).sample() for a in env.agents}
        obs, rewards, terms, truncs, infos = env.step(actions)
        steps += 1
        assert set(obs) == set(rewards) == set(terms) == set(truncs) == set(infos)
        assert all(isinstance(r, float) for r in rewards.values())
    assert steps == T and env.agents == []
    assert all(terms.values()) and not any(truncs.values())
    for a in env.possible_agents:
        assert env.observation_space(a).contains(obs[a])
        assert obs[a][pz_env.OBS_FIELDS.index("time")] == 1.0
    state = env.state()
    assert env.state_space.contains(state) and state.shape == (len(env.possible_agents)
                                                                * pz_env.OBS_SIZE,)


# ------------------------------------------------------------------ equivalence with the game
@pytest.mark.parametrize("other_play", [False, True], ids=["noop", "op"])
@pytest.mark.parametrize("kind", ["static", "percolated", "camp"])
def test_rewards_observations_and_infos_equal_the_games_own(kind, other_play):
    _pettingzoo()
    graph, args = _game_args(kind)
    cfg = dict(episode_length=T, alpha=0.3, other_play=other_play)
    env = pz_env.ConsensusParallelEnv(graph, seed=11, **cfg, **args)
    game = sm.ConsensusGame(graph, seed=11, **cfg, **args)  # the reference
    n, names = graph.num_nodes, env.possible_agents
    rng = np.random.default_rng(0)

    def vectors(o):  # what each agent sees, recomputed from the game's own Observation
        return pz_env.observation_vectors(o.to_agent_frame(), T)[0].numpy()

    obs, _ = env.reset()
    ref = game.reset()
    for _episode in range(2):
        np.testing.assert_array_equal(np.stack([obs[a] for a in names]), vectors(ref))
        for t in range(T):
            own = rng.integers(0, 3, size=n)  # actions in each agent's own frame
            obs, rewards, terms, truncs, infos = env.step(
                {a: int(own[i]) for i, a in enumerate(names)})
            env_actions = to_env_actions(torch.as_tensor(own)[None], ref.flips)
            prev = ref
            ref, reward, done, info = game.step(env_actions)
            assert [rewards[a] for a in names] == reward[0].tolist()
            for key in ("accuracy", "entropy"):
                assert {infos[a][key] for a in names} == {float(info[key][0])}
            agreement = float(info["agreement"][0])
            assert {infos[a]["agreement"] for a in names} == {
                None if np.isnan(agreement) else agreement}
            assert {infos[a]["truth"] for a in names} == {int(info["truth"][0])}
            for key in ("truth_reward", "conformity_reward"):
                assert [infos[a][key] for a in names] == info[key][0].tolist()
            assert all(v is (t == T - 1) for v in terms.values())
            assert not any(truncs.values())
            if t < T - 1:
                np.testing.assert_array_equal(np.stack([obs[a] for a in names]), vectors(ref))
            else:  # the terminal observation: the last outputs over the last step's edges
                assert bool(done[0])
                last = replace(prev, own_output=env_actions, t=prev.t + 1)
                np.testing.assert_array_equal(np.stack([obs[a] for a in names]),
                                              vectors(last))
        # the next episode through the adapter is the game's next episode
        assert env.agents == []
        obs, _ = env.reset()


def test_observation_vectors_count_what_each_agent_sees():
    # against the dense (N x N) picture, an independent route through the codes
    g = sm.erdos_renyi_graph(12, 0.3, seed=1)
    game = sm.ConsensusGame(g, num_envs=3, p_perc=0.6, other_play=True, episode_length=6,
                            seed=2)
    game.reset()
    obs = game.step(torch.randint(0, 3, (3, 12), generator=torch.Generator().manual_seed(0))).obs
    own = obs.to_agent_frame()
    v = pz_env.observation_vectors(own, 6)
    dense = own.dense()
    adj = torch.zeros(12, 12, dtype=torch.bool)
    adj[g.edge_index[1], g.edge_index[0]] = True  # [i, j]: i observes j in the graph
    for b in range(3):
        for i in range(12):
            seen = dense[b, i][adj[i]]
            deg = int(adj[i].sum())
            want = [float((seen == c).sum()) / max(deg, 1) for c in (0, 1, 2, NO_EDGE)]
            assert v[b, i, 4:8].tolist() == pytest.approx(want)
            assert v[b, i, 0] == own.signal[b, i]
            assert v[b, i, 1:4].tolist() == [float(own.own_output[b, i] == c) for c in range(3)]
            assert v[b, i, 8] == deg and v[b, i, 9] == pytest.approx(1 / 6)


def test_reset_with_a_seed_replays_and_without_continues():
    _pettingzoo()
    env = _make("camp", seed=3)
    first, _ = env.reset()
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first["agent_0"], again["agent_0"])
    other, _ = env.reset()  # mid-stream: a new episode
    signals = [o[0] for o in (again["agent_0"], other["agent_0"])]
    assert signals[0] != signals[1]


# ------------------------------------------------------------------ names
def test_agents_are_named_by_node_id_by_handle_or_as_given():
    _pettingzoo()
    env = pz_env.ConsensusParallelEnv(sm.karate_club())
    assert env.possible_agents[:3] == ["agent_0", "agent_1", "agent_2"]
    assert env.agent_index("agent_33") == 33
    sample = sm.load_network("bluesky_sample").graph
    env = pz_env.ConsensusParallelEnv(sample)
    assert env.possible_agents == list(sample.node_attrs["handle"])
    env = pz_env.ConsensusParallelEnv(sample, agent_names="did")
    assert env.possible_agents[0] == sample.node_attrs["did"][0]
    names = [f"person {i}" for i in range(5)]
    env = pz_env.ConsensusParallelEnv(sm.ring_graph(5), agent_names=names)
    obs, _ = env.reset()
    assert list(obs) == names and env.agent_index("person 4") == 4


@pytest.mark.parametrize(("names", "match"), [
    (["a", "b"], "2 names for 5 agents"),
    (["a", "a", "b", "c", "d"], "'a' appears more than once"),
    (["a", "b", "c", "d", ""], "non-empty strings"),
    ("party", "not a node attribute"),
])
def test_bad_agent_names_are_refused(names, match):
    _pettingzoo()
    with pytest.raises(ValueError, match=match):
        pz_env.ConsensusParallelEnv(sm.ring_graph(5), agent_names=names)


# ------------------------------------------------------------------ errors
def test_errors_name_the_problem_and_the_fix():
    _pettingzoo()
    env = _make("static", allow_wait=False)
    with pytest.raises(RuntimeError, match="reset"):
        env.step({})
    env.reset(seed=0)
    full = dict.fromkeys(env.agents, 0)
    with pytest.raises(KeyError, match="unknown agent 'nobody'.*possible_agents"):
        env.step({**full, "nobody": 1})
    with pytest.raises(ValueError, match="unknown agent 'nobody'"):
        env.observation_space("nobody")
    with pytest.raises(ValueError, match=r"action 2 of 'agent_3' is outside .*Discrete\(2\)"):
        env.step({**full, "agent_3": 2})
    with pytest.raises(ValueError, match="action -1 of 'agent_0'"):
        env.step({**full, "agent_0": -1})
    with pytest.raises(TypeError, match="action of 'agent_1' is 0.5"):
        env.step({**full, "agent_1": 0.5})
    with pytest.raises(ValueError, match="no action for 1 live agent.*'agent_33'"):
        env.step({a: 0 for a in env.agents[:-1]})
    for _ in range(T):
        env.step({a: np.int64(1) for a in env.agents})
    with pytest.raises(RuntimeError, match="episode is over.*reset"):
        env.step(full)
    with pytest.raises(ValueError, match="num_envs=2"):
        pz_env.ConsensusParallelEnv(sm.karate_club(), num_envs=2)
    with pytest.raises(ValueError, match="render_mode='ansi'"):
        pz_env.ConsensusParallelEnv(sm.karate_club(), render_mode="ansi")


# ------------------------------------------------------------------ rendering
def test_render_draws_the_network_coloured_by_outputs():
    _pettingzoo()
    env = _make("percolated", render_mode="rgb_array")
    env.reset(seed=0)
    first = env.render()
    assert first.dtype == np.uint8 and first.ndim == 3 and first.shape[2] == 3
    env.step(dict.fromkeys(env.agents, 1))
    second = env.render()
    assert second.shape == first.shape and not np.array_equal(first, second)
    blue, vermilion = np.array([0, 114, 178]), np.array([213, 94, 0])
    near = lambda img, c: int((np.abs(img.astype(int) - c).sum(-1) < 30).sum())  # noqa: E731
    assert near(second, vermilion) > near(first, vermilion) and near(second, blue) < 50
    env.close()
    assert env._fig is None
    with pytest.warns(UserWarning, match="render_mode"):
        assert _make("static").render() is None


def test_human_render_opens_and_close_closes_the_figure(monkeypatch):
    _pettingzoo()
    monkeypatch.setattr(pz_env.ConsensusParallelEnv, "metadata",
                        {**pz_env.ConsensusParallelEnv.metadata, "render_fps": 1000})
    env = _make("static", render_mode="human")
    env.reset(seed=0)  # renders itself in human mode
    assert env.render() is None and len(plt.get_fignums()) == 1
    env.step(dict.fromkeys(env.agents, 0))
    assert len(plt.get_fignums()) == 1
    env.close()
    assert plt.get_fignums() == []


# ------------------------------------------------------------------ the optional extra
def test_without_pettingzoo_constructing_says_which_extra_to_install(monkeypatch):
    # a fresh copy of the module, imported while pettingzoo cannot be imported
    monkeypatch.setitem(sys.modules, "pettingzoo", None)
    spec = importlib.util.spec_from_file_location(
        "socialmarl.adapters._pettingzoo_env_without_extra", pz_env.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(ImportError, match=r'pip install "socialmarl\[pettingzoo\]"'):
        module.ConsensusParallelEnv(sm.karate_club())
    # the module itself imports, and its pure function works without the extra
    game = sm.ConsensusGame(sm.ring_graph(4), episode_length=2)
    assert module.observation_vectors(game.reset(), 2).shape == (1, 4, module.OBS_SIZE)


def test_importing_socialmarl_and_the_adapters_package_does_not_import_pettingzoo():
    code = ("import sys, socialmarl, socialmarl.adapters; "
            "assert 'ConsensusParallelEnv' in dir(socialmarl.adapters); "
            "print(sorted(m for m in ('pettingzoo', 'gymnasium') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


# ------------------------------------------------------------------ the example
def _example():
    path = ROOT / "docs" / "examples" / "pettingzoo_random.py"
    spec = importlib.util.spec_from_file_location("pettingzoo_random_example", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_random_policy_example_runs_at_tiny_size(capsys):
    _pettingzoo()
    example = _example()
    acc = example.random_rollout(episodes=2, episode_length=3, seed=1)
    assert len(acc) == 2 and all(0.0 <= a <= 1.0 for a in acc)
    assert acc == example.random_rollout(episodes=2, episode_length=3, seed=1)
    # a policy that follows its own signal beats random, through the same loop
    follow = example.random_rollout(episodes=2, episode_length=3, seed=1, allow_wait=False,
                                    policy=lambda env, a, o: int(o[0] > 0.5))
    assert np.mean(follow) > np.mean(acc)
    example.main(["--episodes", "1", "--episode-length", "2", "--network", "camp_sample"])
    assert "mean final accuracy" in capsys.readouterr().out
