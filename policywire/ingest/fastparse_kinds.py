"""Which of feedparser's handlers an element meets, by the name feedparser gives it: the
kind of each element an item or entry may hold, and the names that send a body to feedparser.

Part of `policywire.ingest.fastparse` (see its docstring); nothing here is public API.
"""

from __future__ import annotations

from feedparser.api import StrictFeedParser

from policywire.ingest.fastparse_values import HTML_TYPES

# Every element feedparser has a _start_ or _end_ handler for (as "prefix_local").
HANDLED = frozenset(
    name.split("_", 2)[2].lower()
    for name in dir(StrictFeedParser)
    if name.startswith(("_start_", "_end_"))
)

TITLE = 1
LINK = 2
GUID = 3
DESCRIPTION = 4
CONTENT = 5
PUBLISHED = 6
UPDATED = 7
CREATED = 8
CATEGORY = 9
MEDIA_CATEGORY = 10
LANGUAGE = 11
MEDIA_TITLE = 12
HARMLESS = 13  # a feedparser handler that touches nothing parse_feed reads: text only
HARMLESS_TEXT = 14  # the same, but feedparser treats it as content: text only
SOURCE = 15
GENERIC = 16  # no handler: feedparser stores it under its own key
CONTAINER = 17  # a harmless handler whose children are read like the item's own
MEDIA_KEYWORDS = 18
IMAGE = 19
SUMMARY = 20  # description's sibling handlers (summary, itunes:summary, media:description)
ATOM_CONTENT = 21  # Atom's <content> (an RSS item's <content> still falls back)

ITEM_KINDS: dict[str, int] = {
    "title": TITLE,
    "dc_title": TITLE,
    "media_title": MEDIA_TITLE,
    "link": LINK,
    "guid": GUID,
    "id": GUID,
    "description": DESCRIPTION,
    "dc_description": DESCRIPTION,
    "media_description": DESCRIPTION,
    "summary": SUMMARY,
    "itunes_summary": SUMMARY,
    "media_keywords": MEDIA_KEYWORDS,
    "image": IMAGE,
    "content_encoded": CONTENT,
    "pubdate": PUBLISHED,
    "published": PUBLISHED,
    "issued": PUBLISHED,
    "dcterms_issued": PUBLISHED,
    "updated": UPDATED,
    "modified": UPDATED,
    "lastbuilddate": UPDATED,
    "dc_date": UPDATED,
    "dcterms_modified": UPDATED,
    "created": CREATED,
    "dcterms_created": CREATED,
    "category": CATEGORY,
    "dc_subject": CATEGORY,
    "keywords": CATEGORY,
    "media_category": MEDIA_CATEGORY,
    "language": LANGUAGE,
    "dc_language": LANGUAGE,
    "source": SOURCE,
    # Authors, enclosures, media attachments, podcast flags: their handlers only fill keys
    # parse_feed never reads (author, links, media_content…).
    **dict.fromkeys(
        (
            "dc_author",
            "dc_creator",
            "itunes_author",
            "managingeditor",
            "webmaster",
            "dc_publisher",
            "dc_contributor",
            "name",
            "email",
            "itunes_name",
            "itunes_email",
            "url",
            "uri",
            "homepage",
            "enclosure",
            "itunes_image",
            "itunes_block",
            "itunes_explicit",
            "media_thumbnail",
            "media_credit",
            "media_rating",
            "media_restriction",
            "media_license",
            "media_player",
            "cloud",
            "generator",
            "expirationdate",
            "width",
            "height",
        ),
        HARMLESS,
    ),
    **dict.fromkeys(("author", "contributor", "media_content", "media_group"), CONTAINER),
    **dict.fromkeys(
        ("rights", "copyright", "dc_rights", "subtitle", "tagline", "itunes_subtitle"),
        HARMLESS_TEXT,
    ),
}
# An Atom entry's elements: RSS's, plus Atom's <content>.
ATOM_KINDS: dict[str, int] = {**ITEM_KINDS, "content": ATOM_CONTENT}
# Atom: the entry children whose own xml:lang is reproduced (the text constructs the language
# of which feedparser records in title_detail and summary_detail).
ATOM_LANG_KINDS = frozenset({TITLE, DESCRIPTION, SUMMARY, ATOM_CONTENT})
# Kinds that behave the same below an item's direct children (feedparser's depth rules make
# the others differ there).
NESTED_OK = frozenset(
    {
        CATEGORY,
        MEDIA_CATEGORY,
        MEDIA_TITLE,
        HARMLESS,
        HARMLESS_TEXT,
        CONTAINER,
        GENERIC,
        MEDIA_KEYWORDS,
        DESCRIPTION,
        SUMMARY,
    }
)
# Keys parse_feed reads: an unhandled element stored under one of them would change an Item.
READ_KEYS = frozenset(
    {
        "title",
        "link",
        "id",
        "summary",
        "content",
        "published",
        "updated",
        "created",
        "language",
        "tags",
        "title_detail",
        "summary_detail",
        "published_parsed",
        "updated_parsed",
        "created_parsed",
    }
)
# Channel level: feedparser elements that would change the feed title, link or language, or
# the parser state the items are read with.
CHANNEL_DANGER = frozenset(
    {
        "title",
        "dc_title",
        "media_title",
        "link",
        "language",
        "dc_language",
        "item",
        "entry",
        "channel",
        "feed",
        "rss",
        "image",
        "textinput",
        "source",
        "tags",
        # a guid or id sets the feed's link when it has none yet (read directly below the
        # channel or feed only)
        "guid",
        "id",
        # these set feedparser's hasContent (or a feed "summary" that leads to it), which
        # leaks into the first item
        "content",
        "content_encoded",
        "fullitem",
        "summary",
        "itunes_summary",
    }
)
# Handlers that push content: an element child turns feedparser's inline-XHTML mode on.
CONTENT_HANDLERS = frozenset(
    {
        "title",
        "dc_title",
        "media_title",
        "description",
        "dc_description",
        "media_description",
        "abstract",
        "summary",
        "itunes_summary",
        "subtitle",
        "tagline",
        "itunes_subtitle",
        "rights",
        "copyright",
        "dc_rights",
        "info",
        "feedburner_browserfriendly",
        "content",
        "content_encoded",
        "fullitem",
        "body",
        "xhtml_body",
    }
)
# Names feedparser's handlers push on its element stack (see CONTAINER, GENERIC).
PUSHED = frozenset(
    (
        *("author", "contributor", "name", "email", "href", "url", "credit", "rating"),
        *("restriction", "license", "publisher", "expired", "generator", "width", "height"),
        *("category", "source", "id", "link", "title", "summary", "content", "description"),
        *("published", "updated", "created", "language", "image", "textinput", "subtitle"),
        *("rights", "info", "tags", "geometry", "where", "validity", "newlocation"),
        *("errorreportsto", "item", "media_player", "itunes_image", "itunes_block"),
        *("itunes_explicit", "media_keywords", "itunes_keywords"),
    )
)
IMAGE_CHILDREN = frozenset({"title", "link", "url", "width", "height", "description"})
# An <image> inside an item: feedparser stores nothing of it where parse_feed looks.
ITEM_IMAGE_CHILDREN = frozenset({"link", "url", "width", "height"})
TEXTINPUT_CHILDREN = frozenset({"title", "link", "name", "description"})
# The content types _end_content copies to a missing summary (text ones only reach it here).
COPIED_TO_SUMMARY = frozenset({"text/plain", *HTML_TYPES})
