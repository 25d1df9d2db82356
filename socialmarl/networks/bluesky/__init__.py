"""Bluesky: an AT Protocol client and a crawler that turns follows and likes into a Graph.

* :mod:`.client` -- HTTP client for public AppView endpoints (rate limits, retries,
  deadlines, a request cache for offline runs); sends only credentials it was given;
* :mod:`.crawler` -- :func:`crawl_bluesky`, :class:`BlueskyCrawler` and its
  :class:`CrawlConfig`, the errors :class:`CrawlError` and :class:`AccountNotFoundError`;
* :mod:`.weights` -- :func:`like_weights`, the like-based human importance of each edge;
* :mod:`.privacy` -- :func:`pseudonymise_crawl`, salted-hash pseudonyms for DIDs and
  handles;
* :mod:`.format` -- :class:`BlueskyCrawl` and the crawl folder format
  (:func:`write_crawl`, :func:`read_crawl`).

Import order, low to high: ``client``, ``weights`` and ``format`` stand alone;
``privacy`` uses ``format``; ``crawler`` uses all of them.
"""

from ...common.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    ".client": ("UrllibClient", "CacheMissError"),
    ".crawler": ("crawl_bluesky", "CrawlConfig", "BlueskyCrawler", "CrawlError",
                 "AccountNotFoundError"),
    ".format": ("BlueskyCrawl", "read_crawl", "write_crawl"),
    ".privacy": ("pseudonymise_crawl",),
    ".weights": ("like_weights",),
})
