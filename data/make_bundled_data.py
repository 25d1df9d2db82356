"""Generate the synthetic data sets bundled with socialmarl (see data/README.md).

Run from anywhere (socialmarl must be importable)::

    python data/make_bundled_data.py            # rewrite data/bluesky_sample, data/camp_sample
    python data/make_bundled_data.py --out DIR  # write somewhere else
    python data/make_bundled_data.py --check    # regenerate in a temporary folder and
                                                # compare with the shipped files

Both data sets are made here from documented random models with fixed seeds; no real
person's data goes in. The models and their parameters are described in data/README.md
and written into each data set's ``meta.json``.

1. ``bluesky_sample/``: a Bluesky-like follow graph of 1000 accounts in 8 topic
   communities, in the crawler's own format (``nodes.csv.gz``, ``edges.csv.gz``,
   ``meta.json``; see :mod:`socialmarl.networks.bluesky.format`), with like-importance weights.
2. ``camp_sample/``: a hunter-gatherer-camp-like network of 36 people in households, with
   per-pair stationary interaction probabilities ``q`` and a recommended switching rate
   ``r`` for the two-state Markov process of :mod:`socialmarl.networks.dynamic`.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import io
import json
import sys
import tempfile
from pathlib import Path

import networkx as nx
import numpy as np

from socialmarl.common.config_io import atomic_write_text, save_json
from socialmarl.networks.bluesky.format import write_crawl
from socialmarl.networks.bluesky.weights import like_weights
from socialmarl.networks.graph import Graph

HERE = Path(__file__).resolve().parent

# ----------------------------------------------------------------------------- Bluesky
BLUESKY = {
    "seed": 20260607,
    "num_users": 1000,
    "num_edges": 14559,  # the size of the paper's real 1000-user graph
    "communities": ["nlp", "vision", "rl", "theory", "ml-systems", "robotics", "ai-safety",
                    "comp-bio"],
    "community_dirichlet": 3.0,  # community shares ~ Dirichlet(3, ..., 3)
    "fitness_sigma": 0.9,  # popularity f_j ~ LogNormal(0, 0.9)
    "activity_sigma": 0.8,  # following activity a_i ~ LogNormal(0, 0.8)
    "pa_offset": 4.0,  # target weight (followers_in_sample_j + 4) * f_j * H
    "homophily": 12.0,  # H = 12 within a community, 1 across
    "reciprocate": 0.27,  # chance that a new follow is followed back at once
    "posts_log_mean": 4.3,  # posts_count ~ round(LogNormal(4.3, 1.4)), 5% silent (0)
    "posts_log_sigma": 1.4,
    "silent_share": 0.05,
    "posts_sampled": 20,  # most recent posts sampled per account
    "like_beta_a": 0.8,  # like propensity of the liker l_i ~ Beta(0.8, 9)
    "like_beta_b": 9.0,
    "like_popularity": 0.35,  # + 0.35 * z(log followers of the author)
    "like_same_community": 0.9,  # + 0.9 if same community
    "like_tie_sigma": 1.2,  # + N(0, 1.2) per follow tie (tie strength)
    "outside_followers_scale": 25.0,  # followers outside the sample ~ f_j * 25 * LogNormal(0,1)
    "outside_follows_log_mean": 4.0,  # follows outside the sample ~ LogNormal(4, 1)
}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def make_bluesky_sample(p: dict = BLUESKY) -> tuple[Graph, np.ndarray, dict]:
    """The synthetic Bluesky-like graph, its like counts per edge, and its metadata."""
    rng = np.random.default_rng(p["seed"])
    n, m_target, k = p["num_users"], p["num_edges"], len(p["communities"])
    shares = rng.dirichlet(np.full(k, p["community_dirichlet"]))
    comm = rng.choice(k, size=n, p=shares)
    fitness = rng.lognormal(0.0, p["fitness_sigma"], n)
    activity = rng.lognormal(0.0, p["activity_sigma"], n)
    homophily = np.where(comm[:, None] == comm[None, :], p["homophily"], 1.0)
    follows = np.zeros((n, n), dtype=bool)  # follows[i, j]: i follows j
    followers_in_sample = np.zeros(n)
    count = 0

    def add(i: int, j: int) -> None:
        nonlocal count
        if i != j and not follows[i, j] and count < m_target:
            follows[i, j] = True
            followers_in_sample[j] += 1
            count += 1

    def pick_target(i: int) -> int:
        w = (followers_in_sample + p["pa_offset"]) * fitness * homophily[i]
        w[i] = 0.0
        w[follows[i]] = 0.0
        return int(rng.choice(n, p=w / w.sum()))

    def follow(i: int) -> None:
        j = pick_target(i)
        add(i, j)
        if rng.random() < p["reciprocate"]:
            add(j, i)

    for i in rng.permutation(n):  # everyone follows at least one account
        follow(int(i))
    act = activity / activity.sum()
    while count < m_target:  # preferential attachment with homophily and follow-backs
        follow(int(rng.choice(n, p=act)))
    receivers, senders = np.nonzero(follows)
    graph = Graph.from_edges(n, np.stack([senders, receivers], 1), name="bluesky_sample")

    # accounts' counts (including the world outside the sample)
    posts_count = np.rint(rng.lognormal(p["posts_log_mean"], p["posts_log_sigma"], n))
    posts_count[rng.random(n) < p["silent_share"]] = 0
    posts_count = posts_count.astype(np.int64)
    posts_sampled = np.minimum(posts_count, p["posts_sampled"])
    in_deg = graph.in_degree().numpy()
    out_deg = graph.out_degree().numpy()
    outside_followers = np.rint(
        fitness * p["outside_followers_scale"] * rng.lognormal(0.0, 1.0, n)).astype(np.int64)
    outside_follows = np.rint(rng.lognormal(p["outside_follows_log_mean"], 1.0, n)).astype(
        np.int64)
    followers_count = out_deg + outside_followers  # audience = how many follow the account
    follows_count = in_deg + outside_follows

    # likes: receiver i likes each of the sender j's sampled posts independently
    s = graph.senders.numpy()
    r = graph.receivers.numpy()
    propensity = rng.beta(p["like_beta_a"], p["like_beta_b"], n)
    logf = np.log1p(followers_count.astype(float))
    zpop = (logf - logf.mean()) / logf.std()
    logit = (
        np.log(propensity[r] / (1.0 - propensity[r]))
        + p["like_popularity"] * zpop[s]
        + p["like_same_community"] * (comm[s] == comm[r])
        + rng.normal(0.0, p["like_tie_sigma"], graph.num_edges)
    )
    likes = rng.binomial(posts_sampled[s], _sigmoid(logit)).astype(np.int64)
    weights = like_weights(graph, likes, posts_sampled)
    attrs = {
        "did": [f"did:example:bsky-sample-{u:04d}" for u in range(n)],
        "handle": [f"user{u:04d}.sample.invalid" for u in range(n)],
        "followers_count": followers_count.tolist(),
        "follows_count": follows_count.tolist(),
        "posts_count": posts_count.tolist(),
        "posts_sampled": posts_sampled.tolist(),
        "community": [p["communities"][c] for c in comm],
    }
    graph = Graph(n, graph.edge_index, weights, attrs, "bluesky_sample", True)
    meta = {
        "synthetic": True,
        "description": (
            "Synthetic Bluesky-like follow graph made by data/make_bundled_data.py (no real "
            "accounts). Sender = followed account, receiver = follower; weight = like "
            "importance w_ij = (likes_ij / posts_sampled_j) normalised over the accounts i "
            "follows."
        ),
        "model": dict(p),
        "stats": bluesky_stats(graph, likes),
    }
    return graph, likes, meta


def bluesky_stats(graph: Graph, likes: np.ndarray) -> dict:
    """The statistics quoted in data/README.md."""
    w = graph.edge_weight.numpy()
    r = graph.receivers.numpy()
    rev = graph.reverse_edge().numpy()
    comm = np.asarray(graph.node_attrs["community"])
    s = graph.senders.numpy()
    rows_with_likes = np.unique(r[w > 0]).size
    indeg = graph.in_degree().numpy()
    outdeg = graph.out_degree().numpy()
    return {
        "nodes": graph.num_nodes,
        "edges": graph.num_edges,
        "reciprocity": round(float((rev >= 0).mean()), 4),
        "mean_follows": round(graph.num_edges / graph.num_nodes, 3),
        "max_followers_in_sample": int(outdeg.max()),
        "max_follows_in_sample": int(indeg.max()),
        "within_community_edges": round(float((comm[s] == comm[r]).mean()), 4),
        "average_clustering_undirected": round(
            float(nx.average_clustering(nx.Graph(graph.to_networkx()))), 4),
        "mean_weight": round(float(w.mean()), 6),
        "edges_with_likes": round(float((np.asarray(likes) > 0).mean()), 4),
        "followers_with_likes": round(rows_with_likes / np.unique(r).size, 4),
        "total_likes": int(np.asarray(likes).sum()),
    }


# ----------------------------------------------------------------------------- camp
CAMP = {
    "seed": 37,
    "households": 8,
    "children_per_household": [1, 3],  # uniform integer range, inclusive
    "elders": 2,  # widowed elders who join a household
    "adolescents": 3,  # unmarried adolescents attached to a household
    "base_logit": -4.6,  # logit q for unrelated pairs
    "same_household": 2.6,
    "spouses": 1.2,  # on top of same_household
    "mother_young_child": 1.4,  # mother with a child under 8
    "same_sex_adults": 1.3,  # foraging parties are mostly single-sex
    "children_together": 1.6,  # children's play groups
    "sociability_sigma": 0.35,  # individual effect, added for both members of a pair
    "pair_sigma": 0.6,  # pair effect
    "drop_below": 0.01,  # pairs never seen together (q below) are left out
    "r": 0.5,  # recommended switching rate per game step
}


def make_camp_sample(p: dict = CAMP) -> tuple[list[dict], list[tuple[int, int, float]], dict]:
    """People, pairs ``(id1, id2, q)`` and metadata of the synthetic camp."""
    rng = np.random.default_rng(p["seed"])
    people: list[dict] = []

    def person(household: int, age: int, sex: str, role: str) -> int:
        people.append({"id": len(people), "household": household, "age": int(age),
                       "sex": sex, "role": role})
        return len(people) - 1

    for h in range(p["households"]):
        person(h, rng.integers(22, 48), "M", "husband")
        person(h, rng.integers(19, 44), "F", "wife")
        lo, hi = p["children_per_household"]
        for _ in range(int(rng.integers(lo, hi + 1))):
            person(h, rng.integers(0, 13), str(rng.choice(["M", "F"])), "child")
    for _ in range(p["adolescents"]):
        person(int(rng.integers(p["households"])), rng.integers(13, 19),
               str(rng.choice(["M", "F"])), "adolescent")
    for _ in range(p["elders"]):
        person(int(rng.integers(p["households"])), rng.integers(52, 75),
               str(rng.choice(["M", "F"])), "elder")
    for q in people:
        a = q["age"]
        q["age_class"] = "child" if a < 13 else "adolescent" if a < 19 else (
            "adult" if a < 50 else "elder")
    n = len(people)
    social = rng.normal(0.0, p["sociability_sigma"], n)
    pairs = []
    for i in range(n):
        for j in range(i + 1, n):
            a, b = people[i], people[j]
            same_h = a["household"] == b["household"]
            x = p["base_logit"] + social[i] + social[j] + rng.normal(0.0, p["pair_sigma"])
            x += p["same_household"] * same_h
            if same_h and {a["role"], b["role"]} == {"husband", "wife"}:
                x += p["spouses"]
            for mum, kid in ((a, b), (b, a)):
                if same_h and mum["role"] == "wife" and kid["role"] == "child" and kid["age"] < 8:
                    x += p["mother_young_child"]
            adults = {"adult", "elder"}
            if a["age_class"] in adults and b["age_class"] in adults and a["sex"] == b["sex"]:
                x += p["same_sex_adults"]
            kids = {"child", "adolescent"}
            if a["age_class"] in kids and b["age_class"] in kids:
                x += p["children_together"]
            q = float(_sigmoid(np.asarray(x)))
            if q >= p["drop_below"]:
                pairs.append((i, j, round(q, 6)))
    qs = np.array([q for _, _, q in pairs])
    hh = np.array([people[i]["household"] == people[j]["household"] for i, j, _ in pairs])
    stats = {
        "people": n,
        "pairs": len(pairs),
        "density": round(len(pairs) / (n * (n - 1) / 2), 4),
        "mean_q": round(float(qs.mean()), 4),
        "max_q": round(float(qs.max()), 4),
        "mean_q_same_household": round(float(qs[hh].mean()), 4),
        "mean_q_other_pairs": round(float(qs[~hh].mean()), 4),
    }
    meta = {
        "name": "camp_sample",
        "synthetic": True,
        "description": (
            "Synthetic hunter-gatherer camp made by data/make_bundled_data.py: q_ij is the "
            "stationary probability (fraction of time) that i and j interact; use it with "
            "the switching rate r in socialmarl.networks.dynamic.MarkovInteraction."
        ),
        "r": p["r"],
        "r_note": (
            "per game step; with r = 0.5 an interaction bout of a pair with small q lasts "
            "about 1/((1-q) r) = 2 steps and a gap about 1/(q r) steps"
        ),
        "model": dict(p),
        "stats": stats,
    }
    return people, pairs, meta


# ----------------------------------------------------------------------------- output
def _csv_text(header: list[str], rows: list[list]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def write_all(out: Path) -> list[Path]:
    """Write both data sets under ``out``; returns the files written."""
    graph, likes, meta = make_bluesky_sample()
    bdir = write_crawl(graph, out / "bluesky_sample", edge_likes=likes, meta=meta,
                       compress=True)
    people, pairs, cmeta = make_camp_sample()
    cdir = out / "camp_sample"
    cols = ["id", "household", "role", "sex", "age", "age_class"]
    atomic_write_text(cdir / "nodes.csv", _csv_text(cols, [[q[c] for c in cols] for q in people]))
    atomic_write_text(cdir / "pairs.csv", _csv_text(["id1", "id2", "q"],
                                                    [list(t) for t in pairs]))
    save_json(cdir / "meta.json", cmeta)
    return sorted(p for d in (bdir, cdir) for p in d.iterdir() if p.is_file())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: data/)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare with --out")
    args = ap.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            files = write_all(Path(tmp))
            bad = [f.relative_to(tmp) for f in files
                   if not filecmp.cmp(f, args.out / f.relative_to(tmp), shallow=False)]
        if bad:
            print(f"differ from the regenerated files: {[str(b) for b in bad]}")
            return 1
        print(f"{len(files)} files identical to a fresh regeneration")
        return 0
    for f in write_all(args.out):
        print(f"{f}  {f.stat().st_size} bytes")
    graph_meta = json.loads((args.out / "bluesky_sample" / "meta.json").read_text())
    print("bluesky_sample:", graph_meta["stats"])
    print("camp_sample:", json.loads((args.out / "camp_sample" / "meta.json").read_text())["stats"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
