"""Text as users send it: stored as given, except trimmed and without what shows nothing.

Every user text field goes through `clean_line` (the `Name` type, or `AfterValidator(clean_line)`
with the field's own length), and every catalogue field through `clean_catalog_line` (the
`CatalogName` type), so all of them refuse the same invisible tricks with the same field errors.
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

# Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt): characters a renderer
# shows as nothing. Inside a name they only make two names that look the same compare different
# ("Ali\u200bmentación" beside "Alimentación"), so they are dropped. The bidi controls among them
# are refused above instead, since they do change what is shown.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff]"
)
# The ignorables that build emoji: the zero-width joiner of sequences such as 👩‍💻, the
# variation selectors that ask for emoji or text style, and the tags of subdivision flags.
# People's names keep them right after a symbol (or another of them); elsewhere they go.
_EMOJI_COMPONENT = re.compile("[\u200d\ufe0e\ufe0f\U000e0020-\U000e007f]")

# Line and paragraph separators (Zl, Zp): line breaks like "\n", dropped like them.
_LINE_BREAKS = frozenset("\u2028\u2029")

# Letters that draw nothing and are not default-ignorable (the blank Braille pattern).
_BLANK_LETTERS = frozenset("\u2800")

# Invisible at either end of a line, whatever follows: whitespace, zero-width joiner.
_INVISIBLE_EDGES = re.compile(r"^[\s\u200d]+|[\s\u200d]+$")

# What a visible name needs at least once: a letter, digit, punctuation mark or symbol (marks
# alone, such as "\u0301\u0301", combine with nothing and show nothing of their own).
_BASE_CATEGORIES = frozenset("LNPS")


def _drop_ignorables(text: str, *, keep_emoji: bool) -> str:
    kept: list[str] = []
    for char in text:
        if _DEFAULT_IGNORABLE.match(char):
            builds_emoji = (
                keep_emoji
                and _EMOJI_COMPONENT.match(char)
                and kept
                and (unicodedata.category(kept[-1])[0] == "S" or _EMOJI_COMPONENT.match(kept[-1]))
            )
            if not builds_emoji:
                continue
        kept.append(char)
    return "".join(kept)


def _has_visible_base(text: str) -> bool:
    return any(
        unicodedata.category(char)[0] in _BASE_CATEGORIES and char not in _BLANK_LETTERS
        for char in text
    )


def _clean(value: str, *, keep_emoji: bool) -> str:
    if "\x00" in value:
        # PostgreSQL cannot store it: refused like everywhere else, never silently dropped.
        raise PydanticCustomError("invalid_characters", "must not contain NUL characters")
    kept = "".join(
        char for char in value if unicodedata.category(char) != "Cc" and char not in _LINE_BREAKS
    )
    if any(char in BIDI_CONTROLS for char in kept):
        raise PydanticCustomError(
            "invalid_characters",
            "must not contain bidirectional control characters (U+202A-U+202E, U+2066-U+2069, "
            "U+200E, U+200F, U+061C)",
        )
    kept = _INVISIBLE_EDGES.sub("", _drop_ignorables(kept, keep_emoji=keep_emoji))
    if not _has_visible_base(kept):
        raise PydanticCustomError("blank", "must not be blank")
    return kept


def clean_line(value: str) -> str:
    """Drop control characters (escapes, tabs), line breaks and invisible characters; trim.

    Refuses NUL and bidirectional controls (`invalid_characters`) and text with nothing visible once
    cleaned (`blank`): only spaces, invisible characters, combining marks or blank letters.
    Emoji sequences (👩‍💻, subdivision flags) keep their joiners and selectors.
    """
    return _clean(value, keep_emoji=True)


def clean_catalog_line(value: str) -> str:
    """`clean_line` without any invisible character, emoji joiners and selectors included.

    Catalogue names are unique as stored (accent- and case-insensitively): with nothing
    invisible left in them, two entries that look the same always collide.
    """
    return _clean(value, keep_emoji=False)


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)


Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(clean_line)]
"""A person's name of 1..100 characters."""

CatalogName = Annotated[
    str, StringConstraints(min_length=1, max_length=100), AfterValidator(clean_catalog_line)
]
"""A product or commune name (or region) of 1..100 characters, with nothing invisible in it."""


# Line separators other than "\n" that people paste in (CR LF, CR, NEL, U+2028, U+2029).
_TEXT_LINE_BREAKS = re.compile(r"\r\n|[\r\x85\u2028\u2029]")
_BLANK_LINES = re.compile(r"\n{3,}")


def clean_text(value: str) -> str:
    """`clean_line` for multi-line text (descriptions): line breaks are kept, as "\\n".

    Each line is cleaned like a name (NUL and bidirectional controls refused, invisible
    characters dropped, edges trimmed), runs of blank lines become one, and text with nothing
    visible is `blank`.
    """
    unified = _TEXT_LINE_BREAKS.sub("\n", value)
    if "\x00" in unified:
        raise PydanticCustomError("invalid_characters", "must not contain NUL characters")
    lines: list[str] = []
    for line in unified.split("\n"):
        try:
            lines.append(_clean(line, keep_emoji=True))
        except PydanticCustomError as error:
            if error.type != "blank":
                raise
            lines.append("")
    text = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")
    if not _has_visible_base(text):
        raise PydanticCustomError("blank", "must not be blank")
    return text


Description = Annotated[
    str, StringConstraints(min_length=1, max_length=1000), AfterValidator(clean_text)
]
"""A description of 1..1000 characters, several lines allowed."""
