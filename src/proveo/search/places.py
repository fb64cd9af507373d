"""Places in a search: the `region` filter's names, and the regions, Greater Santiago and
communes a buyer types among the words (`contador providencia`, `imprenta gran santiago`).

Pure rules over the catalogue's static lists (`catalog/data.py`), no SQL: names are compared as
the index compares text (`service.normalise_query`'s folding, passed in as `fold`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from proveo.catalog.data import COMMUNES, REGION_SHORT_NAMES, REGIONS

Fold = Callable[[str], str]

# The words that name Greater Santiago in a query ("stgo" is the usual abbreviation).
GREATER_SANTIAGO_PHRASES = (
    ("gran", "santiago"),
    ("gran", "stgo"),
    ("greater", "santiago"),
    ("santiago",),
    ("stgo",),
)
# Words that only introduce a region ("región de Valparaíso", "regiones del Maule").
REGION_WORDS = frozenset({"region", "regiones", "reg"})
REGION_JOINERS = frozenset({"de", "del", "of", "the"})
# Connectors left dangling once a place is taken out ("contador en Providencia").
CONNECTORS = frozenset({"en", "de", "del", "in", "near", "cerca", "para"})


def region_slug(region: str, fold: Fold) -> str:
    """A region's URL form: `Metropolitana de Santiago` → `metropolitana-de-santiago`."""
    return fold(region).replace(" ", "-")


@dataclass(frozen=True)
class Catalog:
    """The names of places folded once: region names (full, short and slug), communes."""

    regions: dict[tuple[str, ...], str]  # every name of a region, as words
    ambiguous: frozenset[tuple[str, ...]]  # region names that are a commune's name
    communes: dict[tuple[str, ...], str]  # commune names as words → the commune's name
    commune_region: dict[str, str]
    longest: int


@cache
def _catalog(fold: Fold) -> Catalog:
    regions: dict[tuple[str, ...], str] = {}
    for region in REGIONS:
        for name in (region, *REGION_SHORT_NAMES.get(region, ())):
            words = tuple(fold(name).split())
            regions[words] = region
            if words[0] in REGION_JOINERS and len(words) > 1:
                regions[words[1:]] = region
    communes = {tuple(fold(name).split()): name for name, _ in COMMUNES}

    # Only a whole commune's name: "biobio" and "atacama" are regions even though "Alto
    # Biobío" and "San Pedro de Atacama" contain them (those communes, typed whole, are read
    # as communes first).
    ambiguous = frozenset(words for words in regions if words in communes)
    longest = max(len(words) for words in (*regions, *communes))
    return Catalog(regions, ambiguous, communes, dict(COMMUNES), longest)


def resolve_region(value: str, fold: Fold) -> str | None:
    """The region a `?region=` value names: its full name, a short name or its slug, without
    accents or case, with or without a leading "región (de)"."""
    words = tuple(fold(value.replace("-", " ")).split())
    while words and (words[0] in REGION_WORDS or words[0] in REGION_JOINERS):
        words = words[1:]
    return _catalog(fold).regions.get(words)


def commune_region(commune: str, fold: Fold) -> str | None:
    return _catalog(fold).commune_region.get(commune)


@dataclass(frozen=True)
class QueryPlaces:
    """What the words of a query say about place: the words left to match, a region or Greater
    Santiago that became a filter, and a commune named among the words (kept as words)."""

    words: tuple[str, ...]
    region: str | None = None
    greater_santiago: bool = False
    commune: str | None = None


def _strip_connectors(words: list[str], at: int) -> int:
    """Drops connector words just before position `at`; returns the new position."""
    while at > 0 and words[at - 1] in CONNECTORS:
        del words[at - 1]
        at -= 1
    return at


def read_places(words: Sequence[str], fold: Fold) -> QueryPlaces:
    """Regions and Greater Santiago among the words become filters and leave the words; a
    commune's name stays (it matches the commune in the index) and is reported. A region name
    that is also a commune's name (`valparaiso`, `los lagos`) is a region only after "región".
    The longest name wins at each position; the first place found is the one used."""
    catalog = _catalog(fold)
    left = list(words)
    region: str | None = None
    greater = False
    commune: str | None = None
    i = 0
    while i < len(left):
        found = False
        if region is None and not greater:
            lead = 0
            while i + lead < len(left) and (
                left[i + lead] in REGION_WORDS or (lead and left[i + lead] in REGION_JOINERS)
            ):
                lead += 1
            for length in range(min(catalog.longest, len(left) - i - lead), 0, -1):
                name = tuple(left[i + lead : i + lead + length])
                named = catalog.regions.get(name)
                if named and (lead or name not in catalog.ambiguous):
                    region = named
                    del left[i : i + lead + length]
                    i = _strip_connectors(left, i)
                    found = True
                    break
            if not found and not lead:
                for phrase in GREATER_SANTIAGO_PHRASES:
                    if tuple(left[i : i + len(phrase)]) == phrase:
                        # "Santiago Centro" is the commune of Santiago, as the index names it
                        # ("centro" goes); "metropolitana de santiago" is the region (above).
                        if phrase != ("gran", "santiago") and left[
                            i + len(phrase) : i + len(phrase) + 1
                        ] == ["centro"]:
                            del left[i + len(phrase)]
                            left[i : i + len(phrase)] = ["santiago"]
                            break
                        greater = True
                        del left[i : i + len(phrase)]
                        i = _strip_connectors(left, i)
                        found = True
                        break
        if found:
            continue
        if commune is None:
            for length in range(min(catalog.longest, len(left) - i), 0, -1):
                named_commune = catalog.communes.get(tuple(left[i : i + length]))
                if named_commune:
                    commune = named_commune
                    i += length
                    found = True
                    break
        if not found:
            i += 1
    return QueryPlaces(tuple(left), region, greater, commune)


def without_communes(words: Sequence[str], fold: Fold) -> list[str]:
    """The words without the communes' names among them (the longest name at each position)."""
    catalog = _catalog(fold)
    left: list[str] = []
    i = 0
    while i < len(words):
        for length in range(min(catalog.longest, len(words) - i), 0, -1):
            if tuple(words[i : i + length]) in catalog.communes:
                i += length
                _strip_connectors(left, len(left))
                break
        else:
            left.append(words[i])
            i += 1
    return left
