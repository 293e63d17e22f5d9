"""Random windows of article features for the tests that compare grouping's bulk arithmetic
with the per-pair formula."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import numpy as np

from policywire.curate.story_scoring import ArticleFeatures, GroupingParams, article_features
from tests.helpers import NOW, item, matched

_NAMES = ["Mistral AI", "Microsoft", "Garante", "OpenAI", "Brussels", "Helsinki", "Northwind"]
# Countries, in two languages ("Germania" is `germany`): titles that name two of them and
# summaries that may name neither conflict (`story_scoring.places_conflict`).
_COUNTRIES = ["Japan", "Thailand", "Germany", "Germania", "Poland"]
_WORDS = ["fine", "probe", "deal", "chips", "court", "vote", "talks", "model"]
_NAMELESS_TITLES = [
    "regulators weigh new limits on chatbot data",
    "regulators weigh new limits on the chatbot data",
    "court hears the appeal over model training",
]


def random_window(size: int, seed: int, *, vectors: float = 1.0) -> list[ArticleFeatures]:
    """Articles that share names, title words, links, feeds and languages at random, with
    vectors close enough that many pairs score between 0 and 1; `vectors`: the share of
    articles that have one."""
    rng = random.Random(seed)
    params = GroupingParams()
    base = np.random.default_rng(seed).normal(size=(3, 16))
    features = []
    for n in range(size):
        names = rng.sample(_NAMES, 2)
        if rng.random() < 0.4:
            names[0] = rng.choice(_COUNTRIES)
        title = f"{names[0]} {' '.join(rng.sample(_WORDS, 3))} {names[1]}"
        if rng.random() < 0.2:  # no names: near-identical titles are all they can share
            title = rng.choice(_NAMELESS_TITLES)
        host = rng.choice(["news.example", "www.news.example", "other.example"])
        link = f"https://{host}/{n}"
        if n and rng.random() < 0.05:  # the same article reached twice
            link = features[rng.randrange(n)].link
        article = item(
            n,
            title=title,
            link=link,
            summary=f"{names[1]} said so. Then {rng.choice(_NAMES + _COUNTRIES)} answered.",
            feed=f"https://feed{rng.randrange(3)}.example/rss",
            published=NOW + timedelta(hours=rng.uniform(0, 90)),  # some pairs out of the window
            language=rng.choice(["en", "it", "", None]),
        )
        if n and rng.random() < 0.2:  # a link to an earlier article, on its site or another
            cited = features[rng.randrange(n)].link
            article = dataclasses.replace(article, links=(cited,))
        vector = base[rng.randrange(3)] + np.random.default_rng(n).normal(scale=0.6, size=16)
        vector = (vector / np.linalg.norm(vector)).astype(np.float32)
        given = vector if rng.random() < vectors else None
        features.append(article_features(matched(article), (), params, given))
    return features
