"""Pseudonyms for a crawl: salted-hash replacements of DIDs and handles.

A DID ``d`` becomes ``did:anon:<h>`` and its handle ``anon-<h[:12]>.invalid``, where ``h``
is the first 96 bits of HMAC-SHA256(salt, d) in hex: the same secret salt gives the same
pseudonym in every file and every crawl, a different salt unlinkable ones. Keep the salt
secret. Only the :class:`~socialmarl.networks.bluesky.format.BlueskyCrawl` is rewritten;
a request cache holds raw (not pseudonymised) API answers and is not touched.
"""

from __future__ import annotations

import hmac
from hashlib import sha256
from typing import Any

from ..graph import Graph
from .format import _HANDLE_RE, BlueskyCrawl, _json_copy

__all__ = ["pseudonymise_crawl"]


def pseudonymise_crawl(crawl: BlueskyCrawl, salt: str | bytes) -> BlueskyCrawl:
    """Replace DIDs and handles by salted-hash pseudonyms, consistently everywhere.

    A DID ``d`` becomes ``did:anon:<h>`` and its handle ``anon-<h[:12]>.invalid`` where
    ``h`` is the first 96 bits of HMAC-SHA256(salt, d) in hex: the same salt gives the same
    pseudonym in every file and every crawl, a different salt unlinkable ones. Node
    attributes, seeds, the configuration's seeds, dropped accounts and pagination notes in
    the metadata are all rewritten. The request cache is not touched.

    Examples
    --------
    >>> from socialmarl.networks.graph import Graph
    >>> g = Graph(2, [[0], [1]], node_attrs={"did": ["did:plc:aaa", "did:plc:bbb"],
    ...                                      "handle": ["a.test", "b.test"]})
    >>> p = pseudonymise_crawl(BlueskyCrawl(g), "secret")
    >>> p.graph.node_attrs["did"][0].startswith("did:anon:"), p.meta["pseudonymised"]
    (True, True)
    >>> p.graph.node_attrs["did"] == pseudonymise_crawl(BlueskyCrawl(g), "secret"
    ...                                                ).graph.node_attrs["did"]
    True
    """
    if isinstance(salt, str):
        salt = salt.encode("utf-8")
    if not isinstance(salt, bytes) or not salt:
        raise ValueError("give a non-empty secret salt (str or bytes) for pseudonymisation")
    if crawl.meta.get("pseudonymised"):
        raise ValueError("this crawl is already pseudonymised")

    def pid(did: str) -> str:
        return "did:anon:" + hmac.new(salt, did.encode("utf-8"), sha256).hexdigest()[:24]

    def phandle(did: str) -> str:
        return "anon-" + pid(did)[len("did:anon:"):][:12] + ".invalid"

    g = crawl.graph
    attrs = dict(g.node_attrs)
    dids = list(attrs.get("did", []))
    handles = list(attrs.get("handle", []))
    mapping: dict[str, str] = {}
    for k, d in enumerate(dids):
        mapping[d] = pid(d)
        if k < len(handles) and handles[k]:
            mapping[str(handles[k]).lower()] = pid(d)
    if "did" in attrs:
        attrs["did"] = [pid(d) for d in dids]
    if "handle" in attrs:
        attrs["handle"] = [phandle(d) for d in dids] if dids else [
            "anon-" + hmac.new(salt, str(h).encode(), sha256).hexdigest()[:12] + ".invalid"
            for h in handles
        ]
    meta = _json_copy(crawl.meta)
    for s in meta.get("seeds", []):
        mapping.setdefault(s.get("seed", ""), pid(s["did"]))
        s["seed"] = pid(s["did"])
        s["did"] = pid(s["did"])
    for u in meta.get("unavailable_accounts", []):
        u["did"] = pid(u["did"])
        u.pop("handle", None)

    def anon(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if value in mapping:
            return mapping[value]
        if value.startswith("did:"):
            return pid(value)
        if value.startswith("at://"):
            authority, _, rest = value[5:].partition("/")
            return "at://" + anon(authority) + ("/" + rest if rest else "")
        if _HANDLE_RE.fullmatch(value.lower()):
            return "anon-" + hmac.new(salt, value.lower().encode(), sha256).hexdigest()[:12] \
                + ".invalid"
        return value

    for issue in meta.get("pagination_issues", []):
        for key in ("actor", "uri"):
            if key in issue:
                issue[key] = anon(issue[key])
    if "config" in meta and "seeds" in meta["config"]:
        meta["config"]["seeds"] = [anon(s) for s in meta["config"]["seeds"]]
    meta["pseudonymised"] = True
    meta["pseudonym_scheme"] = "HMAC-SHA256(secret salt, DID), first 96 bits, hex"
    graph = Graph(g.num_nodes, g.edge_index, g.edge_weight, attrs, g.name, g.directed)
    return BlueskyCrawl(graph, crawl.edge_likes, meta)
