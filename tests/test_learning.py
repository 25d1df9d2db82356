"""Populations really learn: honest, measured on fresh evaluation episodes.

Both runs are small (N = 20) so that each stays well under 90 seconds on a 2-core CPU.
"""

from __future__ import annotations

import math

import socialmarl as sm
from socialmarl.learning.trainer import Trainer

SIGNAL_ONLY = 0.5 * (1 + math.erf(0.5 / math.sqrt(2)))  # P(x > 0.5 | Psi = 1), sigma = 1


def test_truth_seekers_beat_their_own_signal():
    g = sm.barabasi_albert_graph(20, 3, seed=0)
    tr = Trainer(g, alphas=[1.0], envs_per_alpha=32, num_updates=60, num_minibatches=4,
                 lr=1e-3, seed=0, progress=False)
    tr.train()
    rec = sm.evaluate(tr.policies[0], g, alpha=1.0, episodes=256, seed=7)
    s = rec.summary()
    assert abs(SIGNAL_ONLY - 0.691) < 1e-3
    assert abs(s["signal_accuracy"] - SIGNAL_ONLY) < 0.03  # the evaluation's own signals
    # pooling neighbours' guesses must clearly beat acting on one's own signal
    assert s["final_accuracy"] > SIGNAL_ONLY + 0.1, s


def test_pure_conformists_reach_consensus():
    # alpha = 0, no signals and no wait: only copying neighbours can earn reward.
    g = sm.barabasi_albert_graph(20, 3, seed=0)
    tr = Trainer(g, alphas=[0.0], envs_per_alpha=32, num_updates=50, num_minibatches=2,
                 lr=1e-3, allow_wait=False, p_signal=0.0, p_signal_start=0.0,
                 alpha0_shaping=0.0, seed=0, progress=False)
    tr.train()
    rec = sm.evaluate(tr.policies[0], g, alpha=0.0, episodes=128, seed=7, allow_wait=False,
                      p_signal=0.0)
    s = rec.summary()
    assert s["final_agreement"] > 0.9, s
    # and the consensus is a coin flip with respect to the truth: nobody sees it
    assert abs(s["final_accuracy"] - 0.5) < 0.15, s
