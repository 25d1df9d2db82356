"""Bluesky: an AT Protocol client and a crawler that turns follows and likes into a Graph.

* :mod:`.client` -- HTTP client for public AppView endpoints (rate limits, retries,
  deadlines, a request cache for offline runs); sends only credentials it was given;
* :mod:`.crawler` -- :func:`crawl_bluesky`, :class:`BlueskyCrawl`, like-based importance
  weights, pseudonymisation and the crawl folder format (:func:`write_crawl`,
  :func:`read_crawl`).
"""

from ...common.lazy import lazy_names

__getattr__, __dir__, __all__ = lazy_names(__name__, {
    ".client": ("UrllibClient", "CacheMissError"),
    ".crawler": ("crawl_bluesky", "CrawlConfig", "BlueskyCrawler", "BlueskyCrawl",
                 "read_crawl", "write_crawl", "pseudonymise_crawl", "like_weights",
                 "CrawlError", "AccountNotFoundError"),
})
