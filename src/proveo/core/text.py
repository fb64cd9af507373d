"""Text as users send it: stored as given, except trimmed and without control characters.

Every user and catalogue text field goes through `clean_line` (the `Name` type, or
`AfterValidator(clean_line)` with the field's own length), so all of them refuse the same
invisible tricks with the same field errors.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints
from pydantic_core import PydanticCustomError

# Unicode's Bidi_Control characters. They change how the text around them is displayed:
# "abc\u202egnp.exe" shows as "abcexe.png". No name or label needs them, so they are refused
# (the marks U+200E, U+200F and U+061C too: invisible, and enough to make "Acme" and
# "Acme\u200e" two different names).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)

# Letters that draw nothing (Hangul fillers, the blank Braille pattern): not whitespace, not
# format characters, yet a name made of them would be as blank as one made of spaces.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

# Invisible at either end of a line, whatever follows: whitespace, zero-width space and
# joiners, word joiner, byte order mark, soft hyphen. (Joiners matter only between two
# characters; tag characters, also invisible, end flag emoji and so are kept.)
_EDGE = r"[\s\u200b\u200c\u200d\u2060\ufeff\u00ad]+"
_INVISIBLE_EDGES = re.compile(rf"^{_EDGE}|{_EDGE}$")


def _draws_nothing(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf" or char in _BLANK_LETTERS


def clean_line(value: str) -> str:
    """Drop control characters (NUL, escapes, line breaks) and trim invisible edges.

    Refuses bidirectional controls (`invalid_characters`) and text that shows nothing once
    cleaned (`blank`): only spaces, format characters such as U+200B, or blank letters.
    """
    kept = "".join(char for char in value if unicodedata.category(char) != "Cc")
    _refuse_invisible_tricks(kept)
    return _INVISIBLE_EDGES.sub("", kept)


def _refuse_invisible_tricks(kept: str) -> None:
    if any(char in BIDI_CONTROLS for char in kept):
        raise PydanticCustomError(
            "invalid_characters",
            "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069, "
            "U+200E, U+200F, U+061C)",
        )
    if all(_draws_nothing(char) for char in kept):
        raise PydanticCustomError("blank", "must not be blank")


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)


Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(clean_line)]
"""A name of 1..100 characters (people, products, communes)."""


# Line separators other than "\n" that people paste in (CR LF, CR, NEL, U+2028, U+2029).
_LINE_BREAKS = re.compile(r"\r\n|[\r\x85\u2028\u2029]")
_LINE_END = re.compile(rf"{_EDGE}$")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(value: str) -> str:
    """`clean_line` for multi-line text (descriptions): line breaks are kept, as "\\n".

    Lines lose control characters and trailing invisible characters (leading spaces may be
    indentation), runs of blank lines become one, and the text's own edges are trimmed.
    Bidirectional controls and blank text are refused as in `clean_line`.
    """
    unified = _LINE_BREAKS.sub("\n", value)
    kept = "".join(c for c in unified if c == "\n" or unicodedata.category(c) != "Cc")
    _refuse_invisible_tricks(kept)
    lines = "\n".join(_LINE_END.sub("", line) for line in kept.split("\n"))
    return _INVISIBLE_EDGES.sub("", _BLANK_LINES.sub("\n\n", lines))


Description = Annotated[
    str, StringConstraints(min_length=1, max_length=1000), AfterValidator(clean_text)
]
"""A description of 1..1000 characters, several lines allowed."""
