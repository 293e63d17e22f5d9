"""Who told a story: outlets are owned domains, not feeds.

Two feeds of one site (`feeds.example.org/politics` and `www.example.org/rss`) are one outlet,
and so are the copies of one article reached through both. An outlet is the registrable
domain (the public suffix plus one label: `bbc.co.uk`, `europa.eu`, `user.github.io`) of the
article's own link, else of its feed's URL; the Public Suffix List comes with the
`publicsuffixlist` package and is read offline, once per process.

An address with no registrable domain (an IP address, `localhost`, a `file://` feed) is its
own outlet, by host or by feed URL: never merged with another.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from policywire.models import MatchedItem, Story

if TYPE_CHECKING:
    from publicsuffixlist import PublicSuffixList


@cache
def _suffixes() -> PublicSuffixList:
    # Imported here: parsing the bundled list takes ~50 ms, which `check` and a poll never need.
    from publicsuffixlist import PublicSuffixList

    return PublicSuffixList()


def registrable_domain(url: str) -> str | None:
    """`https://news.bbc.co.uk/x` → `bbc.co.uk`; None when the URL has no such domain."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:  # a malformed authority ("http://[::1") in a feed's link
        return None
    if not host or _is_ip(host):
        return None
    domain = _suffixes().privatesuffix(host)
    return str(domain) if domain else None


def outlet_of(matched: MatchedItem) -> str:
    """The outlet of one article: its link's domain, else its feed's, else the feed itself."""
    return outlet_of_link(matched.item.link, matched.item.feed)


def outlet_of_link(link: str, feed: str) -> str:
    """`outlet_of` for an article known by its link and its feed's URL."""
    for url in (link, feed):
        domain = registrable_domain(url)
        if domain:
            return domain
    return _host(feed) or feed


def story_outlets(story: Story) -> tuple[str, ...]:
    """Every distinct outlet of a story (its members and their copies), first seen first."""
    return distinct_outlets((*story.members, *story.copies))


def distinct_outlets(articles: Iterable[MatchedItem]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(outlet_of(m) for m in articles))


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _host(url: str) -> str:
    try:
        split = urlsplit(url)
    except ValueError:
        return ""
    if split.scheme == "file":
        return ""  # every local feed file is its own outlet: keyed by its whole URL
    return split.netloc.lower()
