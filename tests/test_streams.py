"""Per-population random streams: group p of a batched game (and of batched action
sampling) draws exactly what a game of its own size and seed draws alone."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import socialmarl as sm
from socialmarl.learning.actions import sample_actions

SEEDS = [3, 11, 40]
BP = 4


def graph() -> sm.Graph:
    return sm.erdos_renyi_graph(10, 0.4, directed=False, seed=5)


def camp(g: sm.Graph) -> sm.CampProcess:
    """Varied q in (0, 1), equal on both directions of a pair."""
    lo = torch.minimum(g.senders, g.receivers)
    hi = torch.maximum(g.senders, g.receivers)
    return sm.CampProcess(((7 * lo + 3 * hi) % 10 + 1).double() / 12, rate=0.6)


def games(**kw):
    """The batched game over SEEDS and one single-stream game per seed, same rules."""
    g = graph()
    alphas = torch.linspace(0.0, 1.0, BP * len(SEEDS)).tolist()
    p_signal = [0.5 + 0.05 * (i % 10) for i in range(BP * len(SEEDS))]
    big = sm.ConsensusGame(g, num_envs=BP * len(SEEDS), streams=SEEDS, alpha=alphas,
                           p_signal=p_signal, **kw)
    small = [
        sm.ConsensusGame(g, num_envs=BP, seed=s, alpha=alphas[p * BP:(p + 1) * BP],
                         p_signal=p_signal[p * BP:(p + 1) * BP], **kw)
        for p, s in enumerate(SEEDS)
    ]
    return big, small


def assert_obs_equal(big: sm.Observation, small: list[sm.Observation]) -> None:
    for p, o in enumerate(small):
        sl = slice(p * BP, (p + 1) * BP)
        for name in ("signal", "own_output", "t", "flips", "edge_active"):
            a, b = getattr(big, name), getattr(o, name)
            if a is None or b is None:
                assert a is None and b is None, name
            else:
                assert torch.equal(a[sl], b), (name, p)


RULES = [
    {},
    {"p_perc": 0.6, "other_play": True},
    {"p_perc": 0.8, "other_play": True, "camp": True, "sigma": 0.7, "experts": [2]},
]


@pytest.mark.parametrize("rules", RULES, ids=["plain", "perc-op", "perc-op-camp"])
def test_each_group_plays_the_game_of_its_own_seed(rules):
    rules = dict(rules)
    if rules.pop("camp", False):
        rules["camp"] = camp(graph())
    big, small = games(episode_length=5, **rules)
    assert_obs_equal(big.reset(), [s.reset() for s in small])
    act = torch.Generator().manual_seed(0)
    for t in range(40):
        actions = torch.randint(0, 3, (big.num_envs, big.num_agents), generator=act)
        res = big.step(actions)
        outs = [s.step(actions[p * BP:(p + 1) * BP]) for p, s in enumerate(small)]
        assert_obs_equal(res.obs, [o.obs for o in outs])
        for p, o in enumerate(outs):
            sl = slice(p * BP, (p + 1) * BP)
            assert torch.equal(res.reward[sl], o.reward)
            assert torch.equal(res.done[sl], o.done)
            assert set(res.info) == set(o.info)
            for k, v in o.info.items():  # agreement may be NaN: compare exactly, NaN == NaN
                torch.testing.assert_close(res.info[k][sl], v, rtol=0, atol=0, equal_nan=True)
        if t in (7, 19, 26):  # partial resets, each group with its slice of the mask
            mask = torch.rand(big.num_envs, generator=act) < 0.5
            obs = big.reset(mask)
            assert_obs_equal(obs, [s.reset(mask[p * BP:(p + 1) * BP])
                                   for p, s in enumerate(small)])
    for p, s in enumerate(small):
        assert torch.equal(big.truth[p * BP:(p + 1) * BP], s.truth)


def test_state_dict_restores_every_stream():
    big, _ = games(p_perc=0.7, other_play=True, camp=camp(graph()), episode_length=3)
    big.reset()
    act = torch.Generator().manual_seed(1)
    actions = [torch.randint(0, 3, (big.num_envs, big.num_agents), generator=act)
               for _ in range(8)]
    big.step(actions[0])
    sd = big.state_dict()
    assert len(sd["generator"]) == len(sd["flip_generator"]) == len(SEEDS)
    assert sd["streams"] == SEEDS
    first = [big.step(a) for a in actions[1:]]
    big.load_state_dict(sd)
    again = [big.step(a) for a in actions[1:]]
    for x, y in zip(first, again):
        assert torch.equal(x.reward, y.reward)
        assert torch.equal(x.obs.signal, y.obs.signal)
        assert torch.equal(x.obs.flips, y.obs.flips)
        assert torch.equal(x.obs.edge_active, y.obs.edge_active)


def test_streams_state_does_not_load_into_a_single_stream_game():
    big, small = games()
    big.reset()
    small[0].reset()
    with pytest.raises(ValueError, match="3 random stream"):
        small[0].load_state_dict(big.state_dict())
    with pytest.raises(ValueError, match="1 random stream"):
        big.load_state_dict(small[0].state_dict())


def test_single_stream_game_is_unchanged():
    g = graph()
    game = sm.ConsensusGame(g, num_envs=4, seed=9)
    assert game.num_streams == 1 and game.streams is None and game.seed == 9
    ref = torch.Generator().manual_seed(9)
    truth = torch.randint(0, 2, (4,), generator=ref)  # the first draw of an episode
    game.reset()
    assert torch.equal(game.truth, truth)
    sd = game.state_dict()
    assert isinstance(sd["generator"], torch.Tensor) and "streams" not in sd
    assert game.generator is game.generators[0]
    assert game.flip_generator is game.flip_generators[0]
    assert "streams" not in repr(game)
    # default seed is 0, as before
    assert torch.equal(sm.ConsensusGame(g, num_envs=4).reset().signal,
                       sm.ConsensusGame(g, num_envs=4, seed=0).reset().signal)


def test_stream_arguments_are_checked():
    g = graph()
    with pytest.raises(ValueError, match="multiple of the number of streams"):
        sm.ConsensusGame(g, num_envs=5, streams=[1, 2])
    with pytest.raises(ValueError, match="not both"):
        sm.ConsensusGame(g, num_envs=4, streams=[1, 2], seed=3)
    with pytest.raises(ValueError, match="empty"):
        sm.ConsensusGame(g, num_envs=4, streams=[])
    with pytest.raises(ValueError, match="list of seeds"):
        sm.ConsensusGame(g, num_envs=4, streams=7)
    assert sm.ConsensusGame(g, num_envs=4, streams=np.array([1, 2])).streams == (1, 2)
    game = sm.ConsensusGame(g, num_envs=4, streams=(1, 2))
    assert game.num_streams == 2 and game.seed is None and "streams=[1, 2]" in repr(game)
    with pytest.raises(AttributeError, match="generators"):
        game.generator  # noqa: B018


def test_sample_actions_per_generator_group():
    logits = torch.randn(3 * 5, 7, 3, generator=torch.Generator().manual_seed(0))
    gens = [torch.Generator().manual_seed(s) for s in SEEDS]
    both = torch.stack([sample_actions(logits, gens) for _ in range(4)])
    for p, s in enumerate(SEEDS):
        alone_gen = torch.Generator().manual_seed(s)
        alone = torch.stack([sample_actions(logits[p * 5:(p + 1) * 5], alone_gen)
                             for _ in range(4)])
        assert torch.equal(both[:, p * 5:(p + 1) * 5], alone)
    # one generator in a list is the same as the generator itself
    one = sample_actions(logits, [torch.Generator().manual_seed(4)])
    assert torch.equal(one, sample_actions(logits, torch.Generator().manual_seed(4)))
    assert torch.equal(sample_actions(logits, gens, greedy=True), logits.argmax(-1))


def test_sample_actions_rejects_uneven_groups():
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    with pytest.raises(ValueError, match="equal"):
        sample_actions(torch.zeros(3, 2, 3), gens)
    with pytest.raises(TypeError, match="torch.Generator"):
        sample_actions(torch.zeros(2, 3), [])
