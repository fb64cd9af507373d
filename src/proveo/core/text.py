"""Text as users send it: stored as given, except trimmed and without control characters."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator, StringConstraints


def clean_line(value: str) -> str:
    """Trim and drop control characters (NUL, escapes, line breaks); refuse what is left blank."""
    cleaned = "".join(char for char in value if unicodedata.category(char) != "Cc").strip()
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


def has_control_characters(value: str) -> bool:
    return any(unicodedata.category(char) == "Cc" for char in value)


Name = Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(clean_line)]
"""A name of 1..100 characters (people, products, communes)."""
