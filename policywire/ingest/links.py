"""Links as we store and compare them: `canonical_link` (resolved, tracking-free,
fragment-free), `url_path`, and `extract_links` (the page links in an HTML fragment).

Pure functions over strings that run on every item of every poll: each takes a fast path
for the common case and bounds the work it does on long input.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import unquote, urljoin, urlparse, urlsplit, urlunsplit

__all__ = ["canonical_link", "extract_links", "url_path"]


# Query parameters that say how a reader arrived, never which page they see: dropped, so that
# one article reached through two feeds (or a newsletter and a feed) has one link. Neither
# w3lib (whose url_query_cleaner takes the list from its caller) nor the standard library keeps
# such a list, and courlan's (TRACKERS_RE, a private regex) misses the ones our feeds carry most
# (maca, wt_mc) while dropping names sites use for content (ref, source, session). So it is kept
# here, in this one place, each name with who sets it (their own documentation, or the feed
# where we met it). Names compare case-blind; a prefix covers a vendor's whole family.
TRACKING_PREFIXES: tuple[str, ...] = (
    "utm_",  # Google Analytics campaign parameters (utm_source, utm_medium, utm_campaign…)
    "at_",  # AT Internet / Piano Analytics campaigns (BBC feeds: at_medium, at_campaign)
    "pk_",  # Matomo (Piwik) campaigns
    "mtm_",  # Matomo campaigns, current names
    "itm_",  # "internal tracking" campaigns (TIME, Medium)
    "guce_",  # Yahoo's consent redirect (guce_referrer, guce_referrer_sig)
)
TRACKING_PARAMETERS: frozenset[str] = frozenset(
    {
        "fbclid",  # Facebook click id
        "gclid",  # Google Ads click id
        "gclsrc",  # Google Ads click source
        "dclid",  # Google Display (DoubleClick) click id
        "gbraid",  # Google Ads (iOS, app to web)
        "wbraid",  # Google Ads (iOS, web to app)
        "_ga",  # Google Analytics cross-domain linker
        "_gl",  # Google Analytics cross-domain linker (gtag)
        "msclkid",  # Microsoft Advertising click id
        "yclid",  # Yandex Direct click id
        "igshid",  # Instagram share id
        "igsh",  # Instagram share id, newer apps
        "ttclid",  # TikTok Ads click id
        "twclid",  # Twitter/X Ads click id
        "ref_src",  # Twitter/X embeds and share buttons
        "mc_cid",  # Mailchimp campaign id
        "mc_eid",  # Mailchimp subscriber id
        "_hsenc",  # HubSpot e-mail tracking
        "_hsmi",  # HubSpot e-mail tracking
        "mkt_tok",  # Marketo e-mail tracking
        "_bhlid",  # beehiiv newsletter link id
        "maca",  # Deutsche Welle marketing campaign (every DW feed link)
        "wt_mc",  # Webtrekk / Mapp campaign (heise feeds)
        "wt_zmc",  # Webtrekk / Mapp campaign
        "xtor",  # XiTi / AT Internet campaign (French outlets)
        "ncid",  # Yahoo / AOL / HuffPost campaign id
        "ocid",  # Microsoft (MSN) campaign id
        "cmpid",  # campaign id (Adobe Analytics setups)
        "smid",  # The New York Times share id
        "scsonar",  # Foundry (Macworld) newsletter tracking
        "guccounter",  # Yahoo's consent redirect counter
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_link(url: str, base: str | None = None) -> str:
    """The form of `url` we store and compare: resolved, tracking-free, fragment-free.

    The scheme and host are lower-cased and a default port is dropped; everything else
    (path, the order and spelling of the remaining query parameters) is kept as written.
    A Google redirect (Google Alerts' `google.com/url?url=…`) becomes the page it leads to.
    A URL that cannot be parsed comes back stripped, unchanged otherwise.
    """
    link = _canonical(url, base)
    if "google." in link and "/url?" in link:  # both are needed: skip the parse for the rest
        target = _redirect_target(link)
        if target is not None:
            return _canonical(target, None)
    return link


def _canonical(url: str, base: str | None) -> str:
    stripped = url.strip()
    simple = _SIMPLE_URL.match(stripped)
    if simple is not None and (not base or _base_is_safe(base)):
        return _canonical_simple(simple)
    try:
        absolute = urljoin(base, stripped) if base else stripped
        parts = urlsplit(absolute)
        port = parts.port
    except ValueError:
        return stripped
    scheme = parts.scheme.lower()
    netloc = _canonical_netloc(parts.netloc, parts.hostname, port, scheme)
    query = _drop_tracking(parts.query)
    return urlunsplit((scheme, netloc, parts.path, query, ""))


# An absolute http(s) URL whose host is a plain name (no user, no port, no IPv6 brackets, no
# percent sign), with no ";" in its path (urljoin would rebuild path parameters) and none of
# the tab and newline characters urlsplit deletes. For these, urljoin (whatever the base),
# urlsplit and urlunsplit give back scheme://host/path?query as written, with scheme and
# host lower-cased, so the canonical form is built without them (tests/test_text.py checks
# this against the urllib route on every link of the corpora).
_SIMPLE_URL = re.compile(
    r"(https?://[a-z0-9.-]+)(/[^?#;\t\r\n]*)?(?:\?([^#\t\r\n]*))?(?:#[^\t\r\n]*)?\Z", re.A | re.I
)


def _base_is_safe(base: str) -> bool:
    # urlsplit raises only on brackets in the host or on a non-ASCII host.
    return (base.isascii() and "[" not in base and "]" not in base) or _base_parses(base)


@lru_cache(maxsize=256)
def _base_parses(base: str) -> bool:
    """False when urljoin raises on `base` itself (canonical_link then returns the URL as is)."""
    try:
        urlparse(base)
    except ValueError:
        return False
    return True


def _canonical_simple(simple: re.Match[str]) -> str:
    origin, path, query = simple.groups()
    link = origin.lower() + path if path is not None else origin.lower()
    if query:
        query = _drop_tracking(query)
        if query:
            return f"{link}?{query}"
    return link


_GOOGLE_HOST = re.compile(r"(?:www\.)?google(?:\.[a-z]{2,3}){1,2}\Z")
_REDIRECT_KEYS = ("url=", "q=")


def _redirect_target(link: str) -> str | None:
    """Where a Google redirect link leads, when `link` is one and names an http(s) page."""
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    # The host as written: canonical links have it lower-cased, and a URL that could not be
    # made canonical (returned as it came) is not followed.
    if parts.path != "/url" or not _GOOGLE_HOST.match(parts.netloc):
        return None
    for parameter in parts.query.split("&"):
        if parameter.startswith(_REDIRECT_KEYS):
            # unquote, not parse_qsl: a "+" in the target is a plus sign, not a space
            target = unquote(parameter.partition("=")[2])
            if target.startswith(("http://", "https://")):
                return target
    return None


def url_path(link: str) -> str:
    """`urlsplit(link).path`, without urlsplit for a simple http(s) URL (the usual link)."""
    simple = _SIMPLE_URL.match(link)
    if simple is not None:
        return simple.group(2) or ""
    return urlsplit(link).path


def _canonical_netloc(netloc: str, hostname: str | None, port: int | None, scheme: str) -> str:
    if not netloc or hostname is None:
        return netloc
    userinfo, _, _hostport = netloc.rpartition("@")
    host = f"[{hostname}]" if ":" in hostname else hostname  # hostname is already lower-case
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{userinfo}@{host}" if userinfo else host


def _drop_tracking(query: str) -> str:
    if not query:
        return ""
    kept = [part for part in query.split("&") if part and not _is_tracking(part)]
    return "&".join(kept)


def _is_tracking(parameter: str) -> bool:
    name = parameter.split("=", 1)[0].lower()
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


_ANCHOR_HREF = re.compile(
    r"<a\s(?:[^>]*?\s)?href\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))", re.I
)
_NOT_A_PAGE = re.compile(
    r"\.(?:jpe?g|png|gif|webp|avif|svg|bmp|ico|mp3|m4a|ogg|wav|mp4|m4v|mov|webm|pdf|zip)\Z", re.I
)


def extract_links(markup: str, base: str | None = None, *, limit: int = 20) -> list[str]:
    """Canonical http(s) links to pages found in `<a href>`s, in order, without repeats.

    Links to images, audio, video and archives are left out: they do not tell which
    article this one talks about.
    """
    if "<a" not in markup and "<A" not in markup:
        return []
    found: dict[str, None] = {}
    for match in _ANCHOR_HREF.finditer(markup):
        href = match.group(1) or match.group(2) or match.group(3) or ""
        link = canonical_link(html.unescape(href) if "&" in href else href, base)
        if link.startswith(("http://", "https://")) and not _NOT_A_PAGE.search(url_path(link)):
            found[link] = None
            if len(found) == limit:
                break
    return list(found)
