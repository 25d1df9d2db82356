"""A sweep's tidy table made up with planted effects, so claim and figure tests need no training.

Each value is ``truth(network, alpha) + Normal(0, noise)`` per seed (the seed-level spread),
with an episode interval of +-``episode_half`` around it. The planted truths:

* accuracy_final: ``base + drop * alpha`` (social ``drop_social``, camp ``drop_camp``), so
  the accuracy at alpha = 1 minus alpha = 0 is the drop;
* agreement_final: ``0.6 + agree_gain * (1 - alpha)`` in camps, 0.7 on social networks;
* lying_rate: ``0.02 + lie * (1 - alpha)``;
* belief_accuracy_final / belief_brier_final: ``belief_acc`` / ``belief_brier`` at every
  alpha, or at alphas below ``informative_above`` the uninformative 0.5 / 0.25;
* signal_accuracy 0.7, signal_brier 0.21;
* attention_spearman (networks in ``human``): ``0.1 + att * (1 - alpha)``; baselines
  ``attention_spearman_uniform`` = ``uniform``, ``_popularity`` = ``popularity`` in every
  population.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_table(
    *,
    networks: dict[str, str] | None = None,
    alphas=(0.0, 0.25, 0.5, 0.75, 1.0),
    seeds: int = 5,
    noise: float = 0.01,
    episode_half: float = 0.02,
    drop_social: float = 0.3,
    drop_camp: float = 0.05,
    agree_gain: float = 0.2,
    lie: float = 0.3,
    belief_acc: float = 0.8,
    belief_brier: float = 0.15,
    informative_above: float = -1.0,
    human=("bluesky-like",),
    att: float = 0.4,
    uniform: float = 0.05,
    popularity: float = 0.15,
    rng_seed: int = 0,
    extra_metrics: bool = True,
) -> pd.DataFrame:
    networks = networks or {"bluesky-like": "social", "camp": "camp"}
    rng = np.random.default_rng(rng_seed)
    rows = []
    for net, kind in networks.items():
        drop = drop_social if kind == "social" else drop_camp
        for a in alphas:
            informative = a > informative_above
            truth = {
                "accuracy_final": 0.55 + drop * a,
                "agreement_final": 0.6 + agree_gain * (1 - a) if kind == "camp" else 0.7,
                "lying_rate": 0.02 + lie * (1 - a),
                "belief_accuracy_final": belief_acc if informative else 0.5,
                "belief_brier_final": belief_brier if informative else 0.25,
                "signal_accuracy": 0.7,
                "signal_brier": 0.21,
            }
            if extra_metrics:
                truth["edge_disagreement_final"] = 0.1 + 0.1 * a
            if net in human:
                truth["attention_spearman"] = 0.1 + att * (1 - a)
            for s in range(seeds):
                for m, v in truth.items():
                    val = v + rng.normal(0.0, noise)
                    rows.append(dict(network=net, kind=kind, alpha=a, seed=s, metric=m,
                                     value=val, ci_low=val - episode_half,
                                     ci_high=val + episode_half, n=64,
                                     job=f"{net}-{a}-{s}", run_dir=f"runs/{net}/{a}/{s}",
                                     lr=3e-4))
                if net in human:
                    for b, v in (("uniform", uniform), ("popularity", popularity)):
                        rows.append(dict(network=net, kind=kind, alpha=a, seed=s,
                                         metric=f"attention_spearman_{b}", value=v,
                                         ci_low=v - 0.03, ci_high=v + 0.03, n=64,
                                         job=f"{net}-{a}-{s}", run_dir="", lr=3e-4))
    return pd.DataFrame(rows)
