"""The TorchRL adapter: TorchRL's own spec check, equality with the game step by step,
partial resets, seeding, the lazy import, and TorchRL's PPO learning the game.

Small on purpose (the karate club or the 33-person camp sample, a few environments, short
episodes): the whole file runs in seconds.
"""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import socialmarl as sm
import socialmarl.adapters as adapters
from socialmarl.game.observation import NO_EDGE, WAIT, Observation, to_env_actions

torchrl = pytest.importorskip("torchrl", reason='needs pip install "socialmarl[torchrl]"')
from torchrl.envs.utils import check_env_specs  # noqa: E402

from socialmarl.adapters import ConsensusTorchRLEnv  # noqa: E402
from socialmarl.adapters.torchrl_env import FEATURES  # noqa: E402

B, T = 3, 4


def _graph(kind: str):
    """``(graph or network, game keyword arguments)`` for a static, percolated or camp game."""
    if kind == "camp":
        return sm.load_network("camp_sample"), {}
    if kind == "percolated":
        return sm.karate_club(), {"p_perc": 0.6}
    return sm.karate_club(), {}


def _game(kind: str, **kw) -> sm.ConsensusGame:
    graph, extra = _graph(kind)
    camp = None
    if isinstance(graph, sm.Network):
        graph, camp = graph.graph, graph.camp
    return sm.ConsensusGame(graph, camp=camp, **extra, **kw)


def _env(kind: str, **kw) -> ConsensusTorchRLEnv:
    graph, extra = _graph(kind)
    return ConsensusTorchRLEnv(graph, **extra, **kw)


def _expected_features(obs: Observation, episode_length: int) -> torch.Tensor:
    """The 10 features recomputed from the game's observation through its dense view."""
    own = obs.to_agent_frame()
    dense = own.dense()  # [b, i, j]: what i sees of j (NO_EDGE without an active edge)
    n = own.num_agents
    adj = torch.zeros(n, n, dtype=torch.bool)
    adj[own.edge_index[1], own.edge_index[0]] = True  # adj[i, j]: i observes j
    deg = adj.sum(1).clamp_min(1).to(torch.float32)
    cols = [own.signal[..., None]]
    cols += [(own.own_output == c).to(torch.float32)[..., None] for c in (0, 1, WAIT)]
    for code in (0, 1, WAIT, NO_EDGE):
        seen = ((dense == code) & adj[None]).sum(-1).to(torch.float32)
        cols.append((seen / deg)[..., None])
    cols.append(adj.sum(1).to(torch.float32)[None, :, None].expand(own.signal.shape[0], n, 1))
    cols.append((own.t.to(torch.float32) / episode_length)[:, None, None].expand(-1, n, 1))
    return torch.cat(cols, -1)


def _assert_observation(td, obs: Observation, episode_length: int) -> None:
    torch.testing.assert_close(td["agents", "observation"],
                               _expected_features(obs, episode_length))
    assert torch.equal(td["edge_codes"], obs.to_agent_frame().edge_codes)
    assert torch.equal(td["step"].squeeze(-1), obs.t)


# ---------------------------------------------------------------------- TorchRL's own check


@pytest.mark.parametrize("other_play", [False, True])
@pytest.mark.parametrize("allow_wait", [True, False])
@pytest.mark.parametrize("kind", ["static", "percolated", "camp"])
def test_check_env_specs(kind, allow_wait, other_play):
    # T = 2 < the check's 3-step rollout: episodes end and reset inside it
    env = _env(kind, num_envs=B, episode_length=2, allow_wait=allow_wait,
               other_play=other_play, seed=1)
    check_env_specs(env, break_when_any_done="both")
    assert env.full_action_spec["agents", "action"].space.n == (3 if allow_wait else 2)
    assert env.observation_spec["agents", "observation"].shape == (B, env.num_agents,
                                                                   len(FEATURES))
    assert env.edge_index.shape == (2, env.game.graph.num_edges)


# ---------------------------------------------------------------------- equality with the game


@pytest.mark.parametrize("kind,kw", [
    ("static", {}),
    ("percolated", {"other_play": True, "alpha": 0.5}),
    ("camp", {"allow_wait": False, "alpha": 0.0, "other_play": True}),
])
def test_rewards_observations_and_infos_equal_the_game_step_by_step(kind, kw):
    env = _env(kind, num_envs=B, episode_length=T, seed=11, **kw)
    game = _game(kind, num_envs=B, episode_length=T, seed=11, **kw)
    td = env.reset()
    obs = game.reset()
    _assert_observation(td, obs, T)
    pick = torch.Generator().manual_seed(0)
    ends = 0
    for _ in range(2 * T + 1):  # two whole episodes and the auto-reset boundary twice
        actions = torch.randint(0, game.num_actions, (B, game.num_agents), generator=pick)
        td["agents", "action"] = actions  # in each agent's own frame
        played, td = env.step_and_maybe_reset(td)
        res = game.step(to_env_actions(actions, obs.flips))
        nxt = played["next"]
        assert torch.equal(nxt["agents", "reward"].squeeze(-1), res.reward)
        for key in ("accuracy", "entropy", "agreement"):
            torch.testing.assert_close(nxt["info", key].squeeze(-1), res.info[key],
                                       equal_nan=True)
        assert torch.equal(nxt["info", "truth"].squeeze(-1), res.info["truth"])
        for key in ("truth_reward", "conformity_reward"):
            assert torch.equal(nxt["agents", "info", key].squeeze(-1), res.info[key])
        done = res.done
        assert torch.equal(nxt["done"].squeeze(-1), done)
        assert torch.equal(nxt["terminated"].squeeze(-1), done)
        assert not nxt["truncated"].any()
        assert torch.equal(nxt["agents", "done"], done[:, None, None].expand(B, game.num_agents, 1))
        if done.any():
            ends += 1
            # the terminal view: the outputs just played, t = T; then the game's next episode
            assert (nxt["step"] == T).all()
            own_out = nxt["agents", "observation"][..., 1:4].argmax(-1)
            assert torch.equal(own_out, actions)
        else:
            _assert_observation(nxt, res.obs, T)
        _assert_observation(td, res.obs, T)  # what the policy sees next: the game's obs
        obs = res.obs
    assert ends == 2


def test_a_partial_reset_restarts_only_the_masked_environments():
    kw = dict(num_envs=B, episode_length=T, p_perc=0.7, other_play=True, seed=3)
    env = ConsensusTorchRLEnv(sm.karate_club(), **kw)
    game = sm.ConsensusGame(sm.karate_club(), **kw)
    td, obs = env.reset(), game.reset()
    pick = torch.Generator().manual_seed(1)

    def play(td, obs):
        actions = torch.randint(0, 3, (B, 34), generator=pick)
        td["agents", "action"] = actions
        played, td = env.step_and_maybe_reset(td)
        res = game.step(to_env_actions(actions, obs.flips))
        assert torch.equal(played["next", "agents", "reward"].squeeze(-1), res.reward)
        assert torch.equal(played["next", "done"].squeeze(-1), res.done)
        _assert_observation(td, res.obs, T)
        return td, res.obs, res.done

    td, obs, _ = play(td, obs)
    before = td.clone()
    mask = torch.tensor([True, False, True])
    td.set("_reset", mask[:, None])
    td = env.reset(td)
    obs = game.reset(mask)
    _assert_observation(td, obs, T)
    assert td["step"].squeeze(-1).tolist() == [0, 1, 0]
    assert torch.equal(td["agents", "observation"][1], before["agents", "observation"][1])
    # now the environments end at different steps; each is reset alone, as in the game
    seen = []
    for _ in range(2 * T):
        td, obs, done = play(td, obs)
        seen.append(done.tolist())
    assert [False, True, False] in seen and [True, False, True] in seen


def test_set_seed_restarts_the_games_streams():
    env = ConsensusTorchRLEnv(sm.karate_club(), num_envs=B, other_play=True, seed=0)
    env.rollout(3)
    env.set_seed(7)
    td = env.reset()
    game = sm.ConsensusGame(sm.karate_club(), num_envs=B, other_play=True, seed=7)
    _assert_observation(td, game.reset(), env.episode_length)
    again = ConsensusTorchRLEnv(sm.karate_club(), num_envs=B, other_play=True, seed=7)
    torch.testing.assert_close(again.reset()["agents", "observation"],
                               td["agents", "observation"])


def test_clear_errors():
    with pytest.raises(ValueError, match="p_perc"):
        ConsensusTorchRLEnv(sm.karate_club(), p_perc=1.5)
    env = ConsensusTorchRLEnv(sm.karate_club(), num_envs=2, allow_wait=False)
    assert env.to("cpu") is env
    td = env.reset()
    td["agents", "action"] = torch.full((2, 34), 2)
    with pytest.raises(ValueError, match="wait is off"):
        env.step(td)


# ---------------------------------------------------------------------- optional extra


def test_without_torchrl_constructing_names_the_extra(monkeypatch):
    # a fresh copy of the module, imported while torchrl and tensordict are hidden
    for name in list(sys.modules):
        if name.split(".")[0] in ("torchrl", "tensordict"):
            monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "torchrl", None)
    monkeypatch.setitem(sys.modules, "tensordict", None)
    path = Path(adapters.__file__).with_name("torchrl_env.py")
    spec = importlib.util.spec_from_file_location("socialmarl.adapters._probe", path)
    probe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(probe)  # the module itself imports without the extra
    with pytest.raises(ImportError, match=r'pip install "socialmarl\[torchrl\]"'):
        probe.ConsensusTorchRLEnv(sm.karate_club())


def test_importing_the_adapters_package_loads_neither_library():
    code = ("import sys, socialmarl.adapters as a\n"
            "assert 'ConsensusTorchRLEnv' in dir(a)\n"
            "print(sorted(m for m in ('torchrl', 'tensordict', 'pettingzoo') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------------- a learner from elsewhere


def test_torchrl_ppo_beats_the_own_signal_baseline():
    from socialmarl.adapters import train_torchrl_ppo

    # karate club, alpha = 1, no wait; ~5 s on one CPU thread (measured 0.90 at seed 0;
    # 0.90-0.95 over seeds 0-3)
    out = train_torchrl_ppo(alpha=1.0, allow_wait=False, num_envs=16, episode_length=10,
                            iterations=20, eval_envs=256, seed=0)
    assert math.isclose(out.baseline, 0.69, abs_tol=0.03)  # Phi(0.5), same episodes
    assert out.accuracy > out.baseline + 0.1, (out.accuracy, out.baseline)
    assert out.frames == 20 * 16 * 10
    assert out.history[-1]["reward"] > out.history[0]["reward"]
