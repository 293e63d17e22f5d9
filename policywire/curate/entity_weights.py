"""How much each kind of name weighs when two articles are compared
(`policywire.curate.stories` adds up the weights of the names they share).

A company, a person or a specific law weighs 1.0; what nearly every AI-policy article names
(the AI Act, the Commission, the EU), broad subjects and day-of-month-sized numbers weigh
little, since sharing them says little about sharing an event.
"""

from __future__ import annotations

__all__ = [
    "DATE_WEIGHT",
    "GENERIC",
    "GERMAN_NOUN_WEIGHT",
    "NAME_WEIGHT",
    "alias_weight",
    "number_weight",
]

CONCEPT_WEIGHT = 0.6
# Subjects too broad to tell events apart: they weigh what the AI Act weighs.
BROAD_CONCEPTS = frozenset(
    {"~guidelines", "~fine", "~declaration", "~investment", "~copyright", "~legal-basis"}
)

# Ids nearly every AI-policy article names: they join little on their own.
GENERIC: frozenset[str] = frozenset(
    {
        "eu-commission",
        "eu-parliament",
        "eu-council",
        "ai-act",
        "gpai",
        "gdpr",
        "uk",
        "us",
        "china",
        "france",
        "italy",
        "germany",
        "spain",
        "brussels",
        "paris",
        "rome",
        "berlin",
        "luxembourg",
        "strasbourg",
    }
)

GENERIC_WEIGHT = 0.35
# A country or territory (`entity_places`, ids "cldr:…"): a broad subject, like a concept;
# the ones AI-policy articles name all the time (Germany, the US…) keep their GENERIC id.
PLACE_WEIGHT = 0.6
ALIAS_WEIGHT = 1.0
NAME_WEIGHT = 1.0
GERMAN_NOUN_WEIGHT = 0.4
SMALL_NUMBER_WEIGHT = 0.35
NUMBER_WEIGHT = 0.8
DATE_WEIGHT = 0.6


def alias_weight(entity_id: str) -> float:
    """The weight of an alias id ("eu-commission"), a concept id ("~guidelines") or a place id
    ("cldr:AT", "tz:Europe/Vienna": a city weighs what a name weighs)."""
    if entity_id[0] == "~":
        return GENERIC_WEIGHT if entity_id in BROAD_CONCEPTS else CONCEPT_WEIGHT
    if entity_id.startswith("cldr:"):
        return PLACE_WEIGHT
    return GENERIC_WEIGHT if entity_id in GENERIC else ALIAS_WEIGHT


def number_weight(digits: str) -> float:
    """The weight of a figure of two digits or more (`digits`: no separators, not a year)."""
    return SMALL_NUMBER_WEIGHT if len(digits) <= 2 and int(digits) <= 31 else NUMBER_WEIGHT
