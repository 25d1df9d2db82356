"""Config values: NumPy and torch scalars accepted, bools and non-finite numbers refused,
devices checked before any work."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import socialmarl as sm
from socialmarl.apps.cli import main
from socialmarl.common.checks import as_device
from socialmarl.common.config_io import config_to_dict


@pytest.mark.parametrize("alpha", [np.float32(0.5), np.float64(0.5), torch.tensor(0.5),
                                   np.array(0.5), 0.5, 1, np.int64(1)])
def test_scalar_types_a_user_may_pass_are_accepted(alpha):
    cfg = sm.GameConfig(alpha=alpha, num_envs=np.int64(2), episode_length=np.int32(3),
                        sigma=torch.tensor(1.0))
    assert cfg.alpha == float(alpha) and type(cfg.alpha) is float
    assert cfg.num_envs == 2 and type(cfg.num_envs) is int
    json.dumps(config_to_dict(cfg))  # plain Python values all the way
    game = sm.ConsensusGame(sm.ring_graph(5), num_envs=np.int64(2), alpha=alpha)
    assert torch.allclose(game.alpha, torch.full((2,), float(alpha)))


def test_per_environment_alpha_as_array_or_tensor():
    for alphas in (np.array([0.0, 1.0]), torch.tensor([0.0, 1.0]), (0.0, 1.0)):
        cfg = sm.GameConfig(num_envs=2, alpha=alphas)
        assert cfg.alpha == [0.0, 1.0]


@pytest.mark.parametrize("rate,match", [
    (float("inf"), "camp rate=inf"), (0.0, "camp rate=0.0 must be > 0"),
    (True, "camp rate=True"), ("fast", "camp rate='fast'"),
])
def test_bad_camp_rates_are_named(rate, match):
    with pytest.raises(ValueError, match=match):
        sm.CampProcess(torch.full((4,), 0.5), rate=rate)


def test_old_camp_arguments_say_how_to_pass_the_camp_now():
    g = sm.ring_graph(4)
    with pytest.raises(TypeError, match=r"camp=CampProcess\(q, rate\)"):
        sm.ConsensusGame(g, q=torch.full((g.num_edges,), 0.5), interaction_rate=0.5)
    with pytest.raises(ValueError, match="camp=CampProcess"):
        sm.TrainConfig(interaction_rate=0.5)


def test_train_config_takes_numpy_values_and_saves_plain_json():
    cfg = sm.TrainConfig(alphas=np.array([0.0, 0.5]), envs_per_alpha=np.int64(4),
                         num_minibatches=np.int64(2), lr=np.float32(1e-3), seed=np.int64(3))
    assert cfg.alphas == [0.0, 0.5] and cfg.envs_per_alpha == 4
    assert cfg.lr == pytest.approx(1e-3) and type(cfg.lr) is float
    json.dumps(config_to_dict(cfg))


@pytest.mark.parametrize("kwargs,match", [
    (dict(alpha=True), "alpha=True"),
    (dict(alpha=[True, 0.5], num_envs=2), "alpha=True"),
    (dict(alpha="0.5"), "alpha='0.5'"),
    (dict(alpha=torch.tensor([0.1, 0.2])), "2 values for num_envs=1"),
    (dict(num_envs=True), "num_envs=True"),
    (dict(num_envs=2.0), "num_envs=2.0: need an integer"),
    (dict(sigma=float("inf")), "sigma=inf: need a finite number"),
    (dict(sigma=float("nan")), "sigma=nan"),
    (dict(reward_right=float("inf")), "reward_right=inf"),
    (dict(p_signal=np.float64(1.5)), "p_signal=1.5 is not a probability"),
    (dict(allow_wait="yes"), "allow_wait='yes': need True or False"),
    (dict(experts=[1.5]), "expert id=1.5"),
])
def test_bad_game_values_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sm.GameConfig(**kwargs)


@pytest.mark.parametrize("kwargs,match", [
    (dict(sigma=float("inf")), "sigma=inf"),
    (dict(lr=float("inf")), "lr=inf"),
    (dict(lr=float("nan")), "lr=nan"),
    (dict(vf_coef=float("nan")), "vf_coef=nan"),
    (dict(ent_coef=float("nan")), "ent_coef=nan"),
    (dict(ent_coef=-0.1), "ent_coef=-0.1 must be >= 0"),
    (dict(belief_coef=float("inf")), "belief_coef=inf"),
    (dict(max_grad_norm=float("inf")), "max_grad_norm=inf"),
    (dict(perc_steepness=float("nan")), "perc_steepness=nan"),
    (dict(checkpoint_every=0), "checkpoint_every=0: need an integer >= 1"),
    (dict(alphas=[True]), "alpha=True"),
    (dict(alphas=0.5), None),  # one alpha given bare: accepted
    (dict(envs_per_alpha=np.int64(0)), "envs_per_alpha=0"),
    (dict(seed=-1), "seed=-1"),
    (dict(other_play=1), "other_play=1: need True or False"),
    (dict(device="foo"), "device='foo' is not a device name"),
])
def test_bad_train_values_are_named(kwargs, match):
    if match is None:
        assert sm.TrainConfig(**kwargs).alphas == [0.5]
        return
    with pytest.raises(ValueError, match=match):
        sm.TrainConfig(**kwargs)


def test_cuda_without_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available here.*use device 'cpu'"):
        as_device("cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        sm.ConsensusGame(sm.ring_graph(5), device="cuda")
    with pytest.raises(ValueError, match="CUDA is not available"):
        sm.Trainer(sm.ring_graph(5), device="cuda", progress=False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        sm.evaluate(sm.AttentionPolicy(5), sm.ring_graph(5), episodes=1, device="cuda")


@pytest.mark.parametrize("device,match", [("foo", "not a device name"),
                                          ("cuda:99", "cuda")])
def test_cli_device_errors(tmp_path, capsys, monkeypatch, device, match):
    if device.startswith("cuda"):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code = main(["train", "--graph", "karate_club", "--device", device,
                 "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert match in err and "Traceback" not in err
    assert not (tmp_path / "run" / "config.json").exists()


def test_policy_config_takes_numpy_ints():
    cfg = sm.PolicyConfig(hidden=np.int64(16), num_actions=np.int64(2))
    assert (cfg.hidden, cfg.num_actions) == (16, 2)
    with pytest.raises(ValueError, match="num_actions=True"):
        sm.PolicyConfig(num_actions=True)


def test_evaluate_takes_numpy_episode_counts():
    rec = sm.evaluate(sm.AttentionPolicy(5), sm.ring_graph(5), episodes=np.int64(2),
                      episode_length=3, seed=np.int64(1))
    assert rec.outputs.shape[0] == 2


# ------------------------------------------------------------------ bools after construction

_ALPHA_BOOL = "alpha=True: need a finite number in \\[0, 1\\]; alpha weights truth"


@pytest.mark.parametrize("params,match", [
    (dict(alpha=True), _ALPHA_BOOL),
    (dict(alpha=np.bool_(True)), r"alpha=(np\.)?True_?: need a finite number"),
    (dict(alpha=[True, 0.5]), _ALPHA_BOOL),
    (dict(alpha=torch.tensor([True, False])), _ALPHA_BOOL),
    (dict(alpha=np.array([True, False])), _ALPHA_BOOL),
    (dict(alpha=torch.tensor(True)), "alpha=tensor\\(True\\): need a finite number"),
    (dict(p_signal=True), "p_signal=True is not a probability"),
    (dict(p_signal=[0.5, False]), "p_signal=False is not a probability"),
    (dict(sigma=True), "sigma=True: need a finite number >= 0"),
    (dict(p_perc=True), "p_perc=True is not a probability"),
])
def test_set_params_refuses_bools_like_the_config(params, match):
    game = sm.ConsensusGame(sm.ring_graph(5), num_envs=2, alpha=0.25)
    with pytest.raises(ValueError, match=match):
        game.set_params(**params)
    assert game.alpha.tolist() == [0.25, 0.25] and game.config.alpha == 0.25
    assert game.p_signal.tolist() == [1.0, 1.0] and game.config.sigma == 1.0


def test_set_params_still_takes_numpy_and_torch_numbers():
    game = sm.ConsensusGame(sm.ring_graph(5), num_envs=2)
    game.set_params(alpha=[np.float32(0.5), torch.tensor(1.0)], p_signal=np.float64(0.5),
                    sigma=torch.tensor(2.0), p_perc=np.float32(0.5))
    assert game.alpha.tolist() == [0.5, 1.0] and game.config.alpha == [0.5, 1.0]
    assert game.config.p_signal == 0.5 and game.config.sigma == 2.0
    game.set_alpha(torch.tensor([0, 1]))  # integer tensors are numbers
    assert game.config.alpha == [0.0, 1.0]


def test_game_seed_must_be_an_integer():
    with pytest.raises(ValueError, match="seed=True: need an integer"):
        sm.ConsensusGame(sm.ring_graph(5), seed=True)
    with pytest.raises(ValueError, match="seed=1.5: need an integer"):
        sm.ConsensusGame(sm.ring_graph(5), seed=1.5)


@pytest.mark.parametrize("kwargs,match", [
    (dict(alpha=True), _ALPHA_BOOL),
    (dict(alpha=1.5), "alpha=1.5 is outside \\[0, 1\\]"),
    (dict(greedy="yes"), "greedy='yes': need True or False"),
])
def test_evaluate_refuses_bool_alpha_like_the_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sm.evaluate(sm.AttentionPolicy(5), sm.ring_graph(5), episodes=1, episode_length=2,
                    **kwargs)
    rec = sm.evaluate(sm.AttentionPolicy(5), sm.ring_graph(5), episodes=1, episode_length=2,
                      alpha=np.float32(0.5))
    assert rec.alpha == 0.5 and rec.config["game"]["alpha"] == 0.5


def test_local_nash_refuses_bool_alpha():
    from socialmarl.analysis.nash import local_nash

    with pytest.raises(ValueError, match=_ALPHA_BOOL):
        local_nash(sm.AttentionPolicy(5), sm.ring_graph(5), [0], alpha=True, num_updates=1)


def test_rule_parameters_use_the_config_checks():
    from socialmarl.rules import Deffuant, TruthSeeking

    with pytest.raises(ValueError, match="alpha=True: need a finite number"):
        TruthSeeking(alpha=True)
    with pytest.raises(ValueError, match="sigma=True: need a finite number >= 0"):
        TruthSeeking(sigma=True)
    with pytest.raises(ValueError, match="mu=False: need a finite number"):
        Deffuant(mu=False)
    rule = TruthSeeking(alpha=torch.tensor(0.5), sigma=np.float32(2.0))
    assert (rule.alpha, rule.sigma) == (0.5, 2.0) and type(rule.alpha) is float
