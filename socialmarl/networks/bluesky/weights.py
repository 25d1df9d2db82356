"""Like-based human importance weights of a Bluesky follow graph.

The human importance weight of edge ``j -> i`` (sender ``j`` followed by receiver ``i``,
"``i`` observes ``j``") is

    raw_ij = likes_ij / posts_sampled_j   (the fraction of j's recent posts that i liked)
    w_ij   = raw_ij / sum_{j' in N(i)} raw_ij'

normalised over the accounts ``i`` follows inside the crawl; a row with no likes at all
keeps weight 0 on every edge (no evidence). ``likes_ij`` counts distinct posts of ``j``
that ``i`` liked, so ``likes_ij <= posts_sampled_j``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..graph import Graph

__all__ = ["like_weights"]


def like_weights(
    graph: Graph, edge_likes: Any, posts_sampled: Any
) -> torch.Tensor:
    """Normalised like importance per edge.

    ``raw_ij = likes_ij / posts_sampled_j`` (0 where ``j`` has no sampled post), then each
    receiver's row is divided by its sum over the receiver's in-neighbours; rows that sum
    to 0 stay 0.

    Parameters
    ----------
    graph : Graph
        Edges ``j -> i`` (sender j followed by receiver i).
    edge_likes : array-like, shape (E,)
        Posts of the sender that the receiver liked, aligned with ``graph.edge_index``.
    posts_sampled : array-like, shape (N,)
        Number of recent posts sampled per account.

    Returns
    -------
    Tensor
        ``(E,)`` float64 weights; every receiver's weights sum to 1 or are all 0.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(3, [[1, 2], [0, 0]])          # 0 follows 1 and 2
    >>> like_weights(g, [1, 3], [0, 4, 6]).tolist()   # raw 1/4 and 3/6
    [0.3333333333333333, 0.6666666666666666]
    """
    likes = torch.as_tensor(np.asarray(edge_likes, dtype=np.float64)).reshape(-1)
    posts = torch.as_tensor(np.asarray(posts_sampled, dtype=np.float64)).reshape(-1)
    if likes.numel() != graph.num_edges:
        raise ValueError(f"{likes.numel()} like counts for {graph.num_edges} edges")
    if posts.numel() != graph.num_nodes:
        raise ValueError(f"{posts.numel()} post counts for {graph.num_nodes} nodes")
    if (likes < 0).any() or (posts < 0).any():
        raise ValueError("like and post counts must be >= 0")
    s, r = graph.senders.cpu(), graph.receivers.cpu()
    p = posts[s]
    if ((likes > p) & (p > 0)).any():
        k = int(torch.nonzero((likes > p) & (p > 0))[0])
        raise ValueError(
            f"edge {(int(s[k]), int(r[k]))} has {int(likes[k])} likes but its sender has only "
            f"{int(p[k])} sampled posts; likes count distinct posts"
        )
    raw = torch.where(p > 0, likes / p.clamp_min(1.0), torch.zeros_like(likes))
    row = torch.zeros(graph.num_nodes, dtype=torch.float64).index_add_(0, r, raw)
    denom = row[r]
    return torch.where(denom > 0, raw / denom.clamp_min(1e-300), torch.zeros_like(raw))
