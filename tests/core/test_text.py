"""The one cleaning every user and catalogue text field goes through."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from proveo.core.text import Name

NAME = TypeAdapter(Name)


def _error_type(value: str) -> str:
    with pytest.raises(ValidationError) as caught:
        NAME.validate_python(value)
    return str(caught.value.errors()[0]["type"])


class TestCleanLine:
    def test_trims_and_drops_control_characters(self) -> None:
        assert NAME.validate_python("  Ana\x00 Pérez\n ") == "Ana Pérez"

    @pytest.mark.parametrize(
        "value",
        ["\u200b", " \u200b\u200c\u200d ", "\ufeff", "\u2060\u00ad", "\u3164", "\u2800 \u115f"],
    )
    def test_text_that_shows_nothing_is_blank(self, value: str) -> None:
        assert _error_type(value) == "blank"

    @pytest.mark.parametrize(
        "value",
        [
            "abc\u202egnp.exe",
            "\u202aAcme\u202c",
            "\u202bAcme",
            "\u202dAcme",
            "\u2066Acme\u2069",
            "\u2067x",
            "\u2068x",
            "Acme\u200e",
            "Acme\u200f",
            "Acme\u061c",
        ],
    )
    def test_bidirectional_controls_are_refused(self, value: str) -> None:
        assert _error_type(value) == "invalid_characters"

    def test_invisible_edges_are_trimmed(self) -> None:
        assert NAME.validate_python("\u200b\ufeffAcme\u200d\u00ad ") == "Acme"

    @pytest.mark.parametrize(
        "value",
        [
            "Ñuñoa",
            "O'Higgins",
            "שלום",  # right-to-left text needs no control characters
            "👩\u200d💻 Studio",  # a zero-width joiner inside an emoji sequence
            "Escocia 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # tag flag
        ],
    )
    def test_real_names_are_kept_as_given(self, value: str) -> None:
        assert NAME.validate_python(value) == value
