"""What buyers call a service beside what providers call it.

A buyer types `plomero`, a Chilean provider writes `gasfíter`; an English speaker types `lawyer`,
the profile says `abogado`. Each group lists words and phrases that mean the same to a buyer,
folded as `normalise_query` folds them: a query word (or phrase) found in a group also matches
every other entry of the group. Abbreviations only expand: `pto montt` finds Puerto Montt, but
`puerto` does not match every `pto`.

Groups stay narrow on purpose: a wider net finds more companies and ranks worse ones higher. A
phrase matches where all its words appear, not necessarily side by side (the index keeps no
positions), so a phrase's words must each be specific: `transporte de carga`, never `moving
company`, whose `company` is in every other profile.

The search index knows each group as one lexeme (`group_lexeme`) that every company text
matching one of its entries holds, so that a query reads one posting list instead of an OR of
the entries'. Changing a group therefore needs a migration that updates the index's groups
(`search_synonym_group`) and rewrites the search rows, as 20261207_1900 did; a test fails until
it exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("gasfiter", "gasfiteria", "plomero", "plomeria", "fontanero", "fontaneria", "plumber",
     "plumbing"),
    ("rrhh", "recursos humanos", "human resources"),
    ("abogado", "abogados", "juridico", "juridica", "lawyer", "lawyers", "attorney"),
    ("contador", "contadores", "contabilidad", "contable", "accountant", "accounting",
     "bookkeeping"),
    ("aseo", "limpieza", "cleaning", "janitorial"),
    ("fumigacion", "fumigaciones", "control de plagas", "pest control", "exterminator"),
    ("banqueteria", "catering"),
    ("electricista", "electricistas", "electrician", "electricians"),
    ("climatizacion", "aire acondicionado", "hvac", "air conditioning"),
    ("jardinero", "jardineria", "paisajismo", "gardener", "gardening", "landscaping"),
    ("traductor", "traductores", "traduccion", "translator", "translation"),
    ("guardia", "guardias", "vigilancia", "security guard", "security guards"),
    ("flete", "fletes", "freight", "transporte de carga"),
)  # fmt: skip

ABBREVIATIONS: dict[str, str] = {
    "pto": "puerto",
    "sta": "santa",
    "sto": "santo",
    "gral": "general",
    "cia": "compania",
    "pta": "punta",
    "stgo": "santiago",
    "valpo": "valparaiso",
}


def _index() -> dict[tuple[str, ...], tuple[str, ...]]:
    alternatives: dict[tuple[str, ...], tuple[str, ...]] = {}
    for group in SYNONYM_GROUPS:
        for entry in group:
            alternatives[tuple(entry.split())] = tuple(other for other in group if other != entry)
    for short, full in ABBREVIATIONS.items():
        alternatives[(short,)] = (full,)
    return alternatives


_ALTERNATIVES = _index()
MIN_COMPLETION_PREFIX = 3
_LONGEST = max(len(entry) for entry in _ALTERNATIVES)


def expand(words: Sequence[str]) -> list[str]:
    """The words as `proveo.search_query` takes them: a word, or a run of words that is a
    group's phrase, becomes one element `typed|alternative|…` (`|` between alternatives, spaces
    inside a phrase); other words stay as they are. What the buyer typed always comes first."""
    expanded: list[str] = []
    position = 0
    while position < len(words):
        for length in range(min(_LONGEST, len(words) - position), 0, -1):
            typed = tuple(words[position : position + length])
            others = _ALTERNATIVES.get(typed)
            if others is not None:
                expanded.append("|".join((" ".join(typed), *others)))
                position += length
                break
        else:
            expanded.append(words[position])
            position += 1
    return expanded


def group_lexeme(group: Sequence[str]) -> str:
    """The lexeme every search text matching one of the group's entries holds (`@g.` and a
    digest of the entries, as migration 20261207_1900 and its table `search_synonym_group`
    have it): a change to a group is a new lexeme, which needs a migration."""
    return "@g." + hashlib.md5("|".join(group).encode(), usedforsecurity=False).hexdigest()[:16]


_GROUP_OF: dict[frozenset[str], str] = {
    frozenset(group): group_lexeme(group) for group in SYNONYM_GROUPS
}
GROUP_ENTRIES: dict[str, frozenset[str]] = {
    lexeme: entries for entries, lexeme in _GROUP_OF.items()
}


def grouped(expanded: Sequence[str]) -> list[str]:
    """`expand`'s elements for the companies' search texts: a group's entries become the
    group's lexeme, after the typed entry (which still counts when it is a prefix)."""
    result = []
    for element in expanded:
        typed, *others = element.split("|")
        lexeme = _GROUP_OF.get(frozenset((typed, *others))) if others else None
        result.append(element if lexeme is None else f"{typed}|{lexeme}")
    return result


def completions(prefix: str) -> list[str]:
    """What a prefix the buyer is typing may mean besides itself: the other entries of every
    group with an entry it begins (`plomer` → `gasfiter`, `plumbing`…), and the expansion of an
    abbreviation it begins. Three letters at least: shorter prefixes begin too many entries."""
    if len(prefix) < MIN_COMPLETION_PREFIX:
        return []
    found: list[str] = []
    for typed, others in _ALTERNATIVES.items():
        if " ".join(typed).startswith(prefix):
            found += [other for other in others if not other.startswith(prefix)]
    # An abbreviation before the word being typed: `pto mon` → `puerto mon`.
    *done, typing = prefix.split()
    if any(word in ABBREVIATIONS for word in done):
        found.append(" ".join([*(ABBREVIATIONS.get(word, word) for word in done), typing]))
    return sorted(set(found))
