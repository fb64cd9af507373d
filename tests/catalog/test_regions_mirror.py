"""The front end's copy of the regions (`web/js/market/regions.js`): the same names in the same
north-to-south order, each with the server's official title in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from proveo.catalog.data import REGION_TITLES, REGIONS

REGIONS_JS = Path(__file__).parents[2] / "src/proveo/web/js/market/regions.js"
ENTRY = re.compile(
    r"""^\s*(['"])(?P<name>.+?)\1: \{ es: (['"])(?P<es>.+?)\3, en: (['"])(?P<en>.+?)\5 \},$""",
    re.MULTILINE,
)


def test_the_scripts_regions_mirror_the_catalogue_in_order_and_titles() -> None:
    entries = [m.groupdict() for m in ENTRY.finditer(REGIONS_JS.read_text(encoding="utf-8"))]
    assert [e["name"] for e in entries] == list(REGIONS)
    for entry in entries:
        assert REGION_TITLES[entry["name"]] == {"es": entry["es"], "en": entry["en"]}
