"""The pages' words come from the front end's own catalogues (one copy of every text).

`js/i18n.js` (`COMMON`: the frame), `js/pages/company.js` (`STRINGS`: the profile) and
`js/site/strings.js` (`SITE`: landings, 404, titles) hold dictionaries written one entry a line
(`key: 'text',`); this module reads them once per process.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Literal

Lang = Literal["es", "en"]
LANGS: tuple[Lang, ...] = ("es", "en")

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
_ENTRY = re.compile(r"""^\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(['"])((?:\\.|(?!\2).)*)\2\s*,?\s*$""")
_BLOCK = re.compile(r"^\s*(es|en)\s*:\s*\{\s*$")
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


def _unescape(text: str) -> str:
    return re.sub(r"\\(u\{?[0-9a-fA-F]{4,5}\}?|.)", _unescape_one, text)


def _unescape_one(match: re.Match[str]) -> str:
    escape = match.group(1)
    if escape.startswith("u") and len(escape) > 1:
        return chr(int(escape.strip("u{}"), 16))
    return _ESCAPES.get(escape, escape)


def parse_js_strings(source: str, name: str) -> dict[str, dict[str, str]]:
    """The `{es: {...}, en: {...}}` object assigned to `name` in a JS module's `source`."""
    found = re.search(rf"\b{re.escape(name)}\s*=\s*\{{", source)
    if found is None:
        raise LookupError(f"no `{name} = {{` in the module")
    strings: dict[str, dict[str, str]] = {}
    lang: str | None = None
    for line in source[found.end() :].splitlines():
        block = _BLOCK.match(line)
        if block:
            lang = block.group(1)
            strings[lang] = {}
            continue
        if lang is None:
            continue
        if re.match(r"^\s*\},?\s*$", line):
            lang = None
            if len(strings) == len(LANGS):
                break
            continue
        entry = _ENTRY.match(line)
        if entry:
            strings[lang][entry.group(1)] = _unescape(entry.group(3))
    return strings


@cache
def catalogue(module: str, name: str) -> dict[str, dict[str, str]]:
    try:
        return parse_js_strings((WEB_DIR / module).read_text(encoding="utf-8"), name)
    except (LookupError, OSError):
        return {}  # a catalogue a page can do without (the profile's facts)


class Words:
    """One language's words from several catalogues; `{name}` placeholders filled by `__call__`."""

    def __init__(self, lang: Lang, *catalogues: dict[str, dict[str, str]]) -> None:
        self.lang = lang
        self._words: dict[str, str] = {}
        for strings in catalogues:
            self._words.update(strings.get("es", {}))
            self._words.update(strings.get(lang, {}))

    def __call__(self, key: str, **params: object) -> str:
        text = self._words.get(key, key)
        for param, value in params.items():
            text = text.replace("{" + param + "}", str(value))
        return text


def words(lang: Lang) -> Words:
    return Words(
        lang,
        catalogue("js/i18n.js", "COMMON"),
        catalogue("js/pages/company.js", "STRINGS"),
        catalogue("js/market/company-view.js", "PROFILE_STRINGS"),
        catalogue("js/site/strings.js", "SITE"),
    )
