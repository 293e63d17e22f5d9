"""Which of our languages a short text is written in: a cheap check of a model's answer.

A model asked for Italian sometimes answers in the articles' English. Running text in any
language is made of about one third function words, and those differ between en/it/fr/de, so
the share of each language's commonest function words tells them apart on two sentences.
This is a check of an answer we asked for in a known language, not a general language
identifier: it ranks the languages policywire writes (`SUPPORTED_LANGUAGES`) and three close
neighbours of theirs; text in any other language scores low in all of them.
"""

from __future__ import annotations

import re

__all__ = ["MIN_WORDS", "language_of", "language_shares", "reads_as"]


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# The commonest function words of news prose in each language (articles, prepositions,
# conjunctions, auxiliaries). Words shared by two languages ("la", "in", "a") stay in both:
# they count for each and so never decide between them.
_FUNCTION_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the of and to in a an is are was were be been has have had that this these for on "
        "with as by at from it its their they will would which who not but or after said "
        "than over into about"
    ),
    "it": _words(
        "il lo la i gli le di del dello della dei degli delle che e è per un una uno con non "
        "si da dal dalla al alla ai alle nel nella nei sul sulla sono ha hanno anche come più "
        "questo questa ma dopo essere stato stata dell all sull nell tra fra ed"
    ),
    "fr": _words(
        "le la les de des du et est un une en que qui dans pour par sur au aux ne pas plus ce "
        "cette ces avec sont a ont son sa ses été il elle ils leur mais d l qu selon entre "
        "après être"
    ),
    "de": _words(
        "der die das den dem des und ist ein eine einen einem einer nicht mit von zu für auf "
        "im in sich auch es dass wird werden hat haben sind bei nach aus als wie oder zum zur "
        "am über noch soll sei wurde"
    ),
    # Not languages we write, but close neighbours of ours: without them Spanish would read
    # as French and Dutch as German.
    "es": _words(
        "el la los las de del que en un una a y es por para con se su sus al lo como más "
        "pero fue este esta entre cuando sin sobre también hasta hay desde según tras"
    ),
    "pt": _words(
        "o a os as de do da dos das que se e é em um uma para com não por mais ao aos na no "
        "nas nos foi como mas ou seu sua pelo pela segundo após"
    ),
    "nl": _words(
        "de het een en van in is dat op te zijn voor met niet aan er door ook als bij om uit "
        "naar maar wordt worden heeft"
    ),
}

# Below this many words the shares mean little: such a text is not judged.
MIN_WORDS = 12
# Function words are a third of running text; well under that is no language of ours.
_MIN_SHARE = 0.12

_WORD = re.compile(r"[^\W\d_]+")  # letters only: "l'Ue" -> "l", "ue"


def language_shares(text: str) -> dict[str, float]:
    """For each language (ours and the neighbours), the share of words that are its own."""
    words = [word.casefold() for word in _WORD.findall(text)]
    if not words:
        return dict.fromkeys(_FUNCTION_WORDS, 0.0)
    return {
        language: sum(word in vocabulary for word in words) / len(words)
        for language, vocabulary in _FUNCTION_WORDS.items()
    }


def language_of(text: str) -> str | None:
    """The language the text reads as; None when it is too short or none of ours fits.

    The winner must lead the runner-up: a text scoring the same in two languages (only
    shared words) is not attributed to either.
    """
    if len(_WORD.findall(text)) < MIN_WORDS:
        return None
    ranked = sorted(language_shares(text).items(), key=lambda pair: pair[1], reverse=True)
    (best, share), (_, runner_up) = ranked[0], ranked[1]
    if share < _MIN_SHARE or share <= runner_up:
        return None
    return best


def reads_as(text: str, language: str) -> bool:
    """Whether `text` is in `language`; a text too short to judge is given the benefit."""
    if len(_WORD.findall(text)) < MIN_WORDS:
        return True
    return language_of(text) == language
