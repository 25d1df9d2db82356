"""Nested configuration, the camp process as one value, run folders and the closed trainer.

* every game rule (experts, rewards, wait, percolation, camp dynamics) can be trained,
  evaluated and set from the command line, and the game's config describes the game;
* runs of earlier versions (flat config, ``q`` beside ``interaction_rate``) still load;
* the trainer takes its starting policies and its learning agents as arguments.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import socialmarl as sm
from socialmarl.apps.cli import main
from socialmarl.learning.checkpoint import load_checkpoint, save_checkpoint
from socialmarl.learning.config import upgrade_train_config
from socialmarl.learning.runs import load_run

TINY = dict(envs_per_alpha=2, num_minibatches=1, update_epochs=1, episode_length=4,
            hidden=8, attn_dim=4)
CLI_TINY = ["--envs-per-alpha", "2", "--num-minibatches", "1", "--update-epochs", "1",
            "--episode-length", "4", "--hidden", "8", "--attn-dim", "4", "--num-updates", "1",
            "--no-keep-cpu-memory"]


# --------------------------------------------------------------------------- the config
def test_train_config_nests_the_game_and_policy_and_routes_names():
    cfg = sm.TrainConfig(alphas=[0.0, 1.0], experts=[1], reward_right=0.3, hidden=16,
                         allow_wait=False, lr=1e-3, envs_per_alpha=2, num_minibatches=2)
    assert cfg.game.experts == [1] and cfg.game.reward_right == 0.3
    assert cfg.policy.hidden == 16 and cfg.policy.num_actions == 2  # follows allow_wait
    assert cfg.lr == 1e-3 and cfg.game.other_play  # training plays other-play by default
    game = cfg.game_config()
    assert game.num_envs == 4 and game.alpha == [0.0, 0.0, 1.0, 1.0]
    again = sm.TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again.to_dict() == cfg.to_dict()
    assert cfg.updated(sigma=2.0).game.sigma == 2.0 and cfg.game.sigma == 1.0  # a copy


@pytest.mark.parametrize("kwargs,match", [
    (dict(game=sm.GameConfig(alpha=0.5)), "game.alpha=0.5 is set by the run"),
    (dict(game=sm.GameConfig(num_envs=4)), "TrainConfig.envs_per_alpha"),
    (dict(num_envs=4), "a run sets num_envs"),
    (dict(bogus=1), r"unknown training setting\(s\) \['bogus'\]"),
    (dict(q=[0.5]), "camp=CampProcess"),
    (dict(experts=[0.5]), "expert id=0.5"),
    (dict(reward_wrong=float("nan")), "reward_wrong=nan"),
])
def test_bad_training_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sm.TrainConfig(**kwargs)


def test_old_flat_configs_are_upgraded():
    old = {"alphas": [0.5], "envs_per_alpha": 4, "episode_length": 7, "sigma": 2.0,
           "p_signal": 0.5, "allow_wait": False, "other_play": True, "interaction_rate": 0.4,
           "hidden": 12, "attn_dim": 4, "perc_start": 1.0, "lr": 0.01}
    cfg = sm.TrainConfig.from_dict(old)
    assert (cfg.game.episode_length, cfg.game.sigma, cfg.game.p_signal) == (7, 2.0, 0.5)
    assert not cfg.game.allow_wait and cfg.policy.num_actions == 2
    assert (cfg.policy.hidden, cfg.policy.attn_dim, cfg.lr) == (12, 4, 0.01)
    assert cfg.perc_start is None  # 1.0 meant "no curriculum"
    assert "interaction_rate" not in upgrade_train_config(old)


def test_the_game_config_always_describes_the_game():
    game = sm.ConsensusGame(sm.ring_graph(5), num_envs=2, alpha=1.0)
    game.set_params(alpha=[0.2, 0.7], p_signal=0.5, p_perc=0.9, sigma=2.0)
    c = game.config
    assert c.alpha == [0.2, 0.7] and c.p_signal == 0.5 and c.p_perc == 0.9 and c.sigma == 2.0
    game.set_alpha(0.4)
    assert game.config.alpha == 0.4
    tr = sm.Trainer(sm.ring_graph(6), alphas=[0.0, 1.0], num_updates=4, p_signal=0.5,
                    p_signal_start=1.0, progress=False, **TINY)
    tr.train_update()
    tr.train_update()
    # the curricula moved the game: its config says where it is now
    assert tr.game.config.p_signal == pytest.approx(tr.game.p_signal.tolist())
    assert tr.game.config.alpha == pytest.approx(tr.game.alpha.tolist())


def test_percolation_curriculum_ends_at_the_games_p_perc():
    tr = sm.Trainer(sm.ring_graph(6), num_updates=4, p_perc=0.6, perc_start=1.0,
                    progress=False, **TINY)
    seen = [tr._apply_curricula(x)["p_perc"] for x in (0.0, 0.5, 1.0)]
    assert seen[0] == 1.0 and seen[-1] == pytest.approx(0.6) and 0.6 < seen[1] < 1.0
    flat = sm.Trainer(sm.ring_graph(6), num_updates=4, p_perc=0.6, progress=False, **TINY)
    assert {flat._apply_curricula(x)["p_perc"] for x in (0.0, 0.5, 1.0)} == {0.6}


# --------------------------------------------------------------------------- game rules
def test_experts_and_reward_values_are_trained():
    g = sm.ring_graph(6)
    tr = sm.Trainer(g, num_updates=1, experts=[0, 3], reward_right=0.5, reward_wrong=-1.0,
                    allow_wait=False, progress=False, **TINY)
    assert tr.game.config.experts == [0, 3]
    obs = tr.game.reset()
    truth = tr.game.truth.float()
    assert torch.equal(obs.signal[:, [0, 3]], truth[:, None].expand(-1, 2))  # experts know
    # rewards of a step come from the configured values: all right, alpha = 1 -> +0.5 each
    right = tr.game.truth[:, None].expand(-1, 6)
    _, reward, _, _ = tr.game.step(right)
    assert torch.allclose(reward, torch.full_like(reward, 0.5))
    _, reward, _, _ = tr.game.step(1 - tr.game.truth[:, None].expand(-1, 6))
    assert torch.allclose(reward, torch.full_like(reward, -1.0))


def test_game_rules_from_the_command_line(tmp_path):
    run = tmp_path / "run"
    args = ["train", "--graph", "karate_club", "--alphas", "1", "--out", str(run),
            "--experts", "0,5", "--reward-right", "0.3", "--reward-wrong", "-0.4",
            "--no-allow-wait", "--p-perc", "0.8", "--sigma", "1.5", *CLI_TINY]
    assert main(args) == 0
    saved = json.loads((run / "config.json").read_text())["train_config"]["game"]
    assert saved["experts"] == [0, 5] and saved["reward_right"] == 0.3
    assert saved["reward_wrong"] == -0.4 and saved["allow_wait"] is False
    assert saved["p_perc"] == 0.8 and saved["sigma"] == 1.5
    loaded = load_run(run)
    assert loaded.config.game.experts == [0, 5] and loaded.policies[0].config.num_actions == 2
    # evaluation plays the run's rules, and takes other rules from the command line
    assert main(["evaluate", str(run), "--episodes", "2", "--out", str(tmp_path / "e1")]) == 0
    rec = json.loads((tmp_path / "e1" / "alpha_1" / "summary.json").read_text())["config"]
    assert rec["game"]["experts"] == [0, 5] and rec["game"]["reward_right"] == 0.3
    assert main(["evaluate", str(run), "--episodes", "2", "--experts", "", "--p-perc", "1",
                 "--out", str(tmp_path / "e2")]) == 0
    rec = json.loads((tmp_path / "e2" / "alpha_1" / "summary.json").read_text())["config"]
    assert rec["game"]["experts"] == [] and rec["game"]["p_perc"] == 1.0
    # resuming with a changed rule is refused, naming it
    assert main(["train", "--out", str(run), "--resume", "--reward-right", "0.1"]) == 2


def test_camp_rate_from_the_command_line(tmp_path, capsys):
    run = tmp_path / "camp"
    args = ["train", "--graph", "camp_sample", "--alphas", "1", "--out", str(run),
            "--interaction-rate", "2.5", *CLI_TINY]
    assert main(args) == 0
    assert json.loads((run / "config.json").read_text())["camp"]["rate"] == 2.5
    camp = load_run(run).camp
    assert camp.rate == 2.5
    assert torch.equal(camp.q, sm.load_camp_sample().camp.q)
    assert main(["train", "--graph", "karate_club", "--out", str(tmp_path / "k"),
                 "--interaction-rate", "1", *CLI_TINY]) == 2
    assert "no edge weights" in capsys.readouterr().err


# --------------------------------------------------------------------------- run folders
def _old_format(path: Path) -> None:
    """Rewrite a checkpoint as an earlier version wrote it: flat config, q beside r."""
    sd = load_checkpoint(path)
    cfg = json.loads(sd["config"])
    flat = {k: v for k, v in cfg.items() if k not in ("game", "policy")}
    flat.update({k: cfg["game"][k] for k in ("episode_length", "sigma", "p_signal",
                                               "allow_wait", "other_play")})
    flat.update(hidden=cfg["policy"]["hidden"], attn_dim=cfg["policy"]["attn_dim"])
    camp = sd.pop("camp")
    flat["interaction_rate"] = None if camp is None else camp["rate"]
    sd["q"] = None if camp is None else camp["q"]
    sd["config"] = json.dumps(flat)
    sd.pop("checksum", None)
    save_checkpoint(sd, path)


def test_runs_of_earlier_versions_still_load(tmp_path):
    net = sm.load_camp_sample()
    tr = sm.train(net.graph, camp=net.camp, out_dir=tmp_path, num_updates=1,
                  progress=False, **TINY)
    new = load_run(tmp_path)
    _old_format(tmp_path / "checkpoint.pt")
    old = load_run(tmp_path)
    assert old.config.to_dict() == new.config.to_dict()
    assert old.camp.rate == new.camp.rate == net.interaction_rate
    assert torch.equal(old.camp.q, new.camp.q)
    for a, b in zip(old.policies[0].parameters(), tr.policies[0].parameters()):
        assert torch.equal(a, b)
    again = sm.Trainer.from_checkpoint(tmp_path, progress=False)
    assert again.camp.rate == net.interaction_rate and again.update == 1


def test_a_camp_graph_with_self_loops_saves_and_resumes(tmp_path):
    """The game drops self loops and their q; the run saves the graph and camp as played."""
    g = sm.Graph(4, [[0, 1, 1, 2, 2, 3, 3, 0, 2], [1, 0, 2, 1, 3, 2, 0, 3, 2]],
                 [0.5] * 8 + [0.9])
    with pytest.warns(UserWarning, match="self loops"):
        tr = sm.train(g, camp=sm.CampProcess.from_graph(g, 0.5), out_dir=tmp_path,
                      num_updates=1, progress=False, **TINY)
    assert tr.graph.num_edges == 8 and tr.camp.q.numel() == 8
    run = load_run(tmp_path)
    assert run.graph.num_edges == run.camp.q.numel() == 8
    assert sm.Trainer.from_checkpoint(tmp_path, progress=False).update == 1


def test_graph_and_camp_serialise_themselves():
    g = sm.Graph(4, [[0, 1, 2], [1, 2, 3]], [0.5, 1.0, 2.0],
                 node_attrs={"party": ["D", "R", "D", "I"]}, name="toy", directed=True)
    h = sm.Graph.from_dict(g.to_dict())
    assert torch.equal(h.edge_index, g.edge_index) and torch.equal(h.edge_weight, g.edge_weight)
    assert (h.node_attrs, h.name, h.directed) == (g.node_attrs, "toy", True)
    with pytest.raises(ValueError, match="lacks 'edge_index'"):
        sm.Graph.from_dict({"num_nodes": 3})
    camp = sm.CampProcess([0.2, 0.2, 0.4, 0.4], rate=0.7)
    assert sm.CampProcess.from_dict(camp.to_dict()).rate == 0.7


def test_evaluation_reads_runs_without_the_trainer():
    import ast

    src = Path(sm.analysis.evaluation.__file__).read_text()
    imported = {node.module for node in ast.walk(ast.parse(src))
                if isinstance(node, ast.ImportFrom) and node.module}
    assert "learning.runs" in imported and not any("trainer" in m for m in imported)


# --------------------------------------------------------------------------- the trainer
def test_trainer_takes_starting_policies_and_learners():
    g = sm.ring_graph(6)
    torch.manual_seed(0)
    start = [sm.AttentionPolicy(6, hidden=8, attn_dim=4) for _ in range(2)]
    half = len(list(start[0].parameters())) // 2
    for pol in start:  # partly frozen populations: the same parameters in each
        for p in list(pol.parameters())[:half]:
            p.requires_grad_(False)
    before = [[p.detach().clone() for p in pol.parameters()] for pol in start]
    tr = sm.Trainer(g, alphas=[0.5, 1.0], policies=start, learners=[0, 2],
                    num_updates=1, progress=False, **TINY)
    tr.train()
    for pol, was in zip(tr.policies, before):  # started from the given parameters
        now = list(pol.parameters())
        assert all(torch.equal(a, b) for a, b in zip(was[:half], now[:half]))
        assert any(not torch.equal(a, b) for a, b in zip(was[half:], now[half:]))
    params = list(start[1].parameters())
    with pytest.raises(ValueError, match="frozen in some starting policies"):
        sm.Trainer(g, alphas=[0.5, 1.0], policies=[sm.AttentionPolicy(6, hidden=8,
                   attn_dim=4), start[1]], progress=False, **TINY)
    assert tr.learners.tolist() == [True, False, True, False, False, False]
    with pytest.raises(ValueError, match="one policy per population"):
        sm.Trainer(g, policies=[start, start], progress=False, **TINY)
    with pytest.raises(ValueError, match="learner ids must lie in 0..5"):
        sm.Trainer(g, learners=[6], progress=False, **TINY)
    for p in params:
        p.requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable parameters"):
        sm.Trainer(g, policies=[start[1]], progress=False, **TINY)
    with pytest.raises(ValueError, match="learners is empty"):
        sm.Trainer(g, learners=[], progress=False, **TINY)


def test_only_learners_experience_moves_the_policy():
    """With learners=[i], the gradient is the one of agent i's losses alone: a copy of the
    run in which every other agent's rewards are scrambled learns exactly the same."""
    g = sm.ring_graph(6)
    runs = []
    for scramble in (False, True):
        tr = sm.Trainer(g, num_updates=1, learners=[2], seed=3, progress=False, **TINY)
        if scramble:
            step = tr.game.step

            def noisy(actions, step=step):
                res = step(actions)
                reward = res.reward.clone()
                reward[:, [0, 1, 3, 4, 5]] += 7.0
                return type(res)(res.obs, reward, res.done, res.info)

            tr.game.step = noisy
        tr.train()
        runs.append([p.detach().clone() for p in tr.policies[0].parameters()])
    for a, b in zip(*runs):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
