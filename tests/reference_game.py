"""An obviously-correct, slow NumPy reference of one step of the consensus game.

Written from the rules in the README's "The game" section with explicit loops over
environments, agents and edges, so it shares no code with the batched implementation in
``socialmarl/game/game.py``.
"""

from __future__ import annotations

import math

import numpy as np

WAIT, NO_EDGE = 2, 3


def reference_step(
    edges: list[tuple[int, int]],
    num_nodes: int,
    actions: np.ndarray,
    truth: np.ndarray,
    active: np.ndarray | None,
    alpha: np.ndarray,
    right: float = 0.1,
    wrong: float = -0.2,
) -> dict[str, np.ndarray]:
    """Rewards and statistics for actions (B, N), truth (B,), active (B, E) or None."""
    b_count = actions.shape[0]
    reward = np.zeros((b_count, num_nodes))
    truth_r = np.zeros((b_count, num_nodes))
    conf_r = np.zeros((b_count, num_nodes))
    acc = np.zeros(b_count)
    ent = np.zeros(b_count)
    agree = np.zeros(b_count)
    for b in range(b_count):
        total_edges = 0
        agreeing = 0
        for i in range(num_nodes):
            a_i = int(actions[b, i])
            if a_i == WAIT:
                t = 0.0
            elif a_i == truth[b]:
                t = right
            else:
                t = wrong
            deg = 0
            c = 0.0
            for k, (j, rcv) in enumerate(edges):
                if rcv != i:
                    continue
                if active is not None and not active[b, k]:
                    continue
                deg += 1
                a_j = int(actions[b, j])
                if a_i == WAIT or a_j == WAIT:
                    continue
                c += right if a_j == a_i else wrong
                if a_j == a_i:
                    agreeing += 1
            total_edges += deg
            conf = c / max(deg, 1)
            truth_r[b, i] = t
            conf_r[b, i] = conf
            reward[b, i] = alpha[b] * t + (1 - alpha[b]) * conf
        acc[b] = np.mean([int(actions[b, i]) == truth[b] for i in range(num_nodes)])
        guesses = [int(a) for a in actions[b] if a != WAIT]
        if guesses:
            p = sum(guesses) / len(guesses)
            ent[b] = 0.0 if p in (0.0, 1.0) else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))
        else:
            ent[b] = 1.0
        agree[b] = agreeing / total_edges if total_edges else np.nan  # no active edge
    return {
        "reward": reward,
        "truth_reward": truth_r,
        "conformity_reward": conf_r,
        "accuracy": acc,
        "entropy": ent,
        "agreement": agree,
    }


def reference_edge_codes(
    edges: list[tuple[int, int]], prev: np.ndarray, active: np.ndarray | None
) -> np.ndarray:
    """(B, E) code of each edge's sender as its receiver sees it."""
    out = np.zeros((prev.shape[0], len(edges)), dtype=np.int64)
    for b in range(prev.shape[0]):
        for k, (j, _i) in enumerate(edges):
            out[b, k] = prev[b, j] if active is None or active[b, k] else NO_EDGE
    return out


def reference_dense(num_nodes: int, edges, prev: np.ndarray, active) -> np.ndarray:
    """(B, N, N) view: [b, i, j] what i sees of j; diagonal own output."""
    out = np.full((prev.shape[0], num_nodes, num_nodes), NO_EDGE, dtype=np.int64)
    for b in range(prev.shape[0]):
        for k, (j, i) in enumerate(edges):
            if active is None or active[b, k]:
                out[b, i, j] = prev[b, j]
        for i in range(num_nodes):
            out[b, i, i] = prev[b, i]
    return out
