"""The one cleaning every user and catalogue text field goes through."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from proveo.core.text import CatalogName, Name

NAME = TypeAdapter(Name)


def _error_type(value: str) -> str:
    with pytest.raises(ValidationError) as caught:
        NAME.validate_python(value)
    return str(caught.value.errors()[0]["type"])


class TestCleanLine:
    def test_trims_and_drops_control_characters(self) -> None:
        assert NAME.validate_python("  Ana\x1b Pérez\t\n ") == "Ana Pérez"

    def test_nul_is_refused_not_dropped(self) -> None:
        assert _error_type("Ana\x00 Pérez") == "invalid_characters"

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


CATALOG_NAME = TypeAdapter(CatalogName)


class TestInvisibleCharacters:
    """Found by an adversary: invisible characters made look-alike duplicates and blank names."""

    @pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\u2060", "\u200c", "\u034f"])
    def test_default_ignorables_inside_a_name_are_dropped(self, invisible: str) -> None:
        value = f"Ali{invisible}mentación"
        assert NAME.validate_python(value) == "Alimentación"
        assert CATALOG_NAME.validate_python(value) == "Alimentación"

    @pytest.mark.parametrize("value", ["\u0301\u0301", "\ufe0f\ufe0f", "\u0301\ufe0f \u20e3"])
    def test_marks_or_selectors_without_a_base_character_are_blank(self, value: str) -> None:
        assert _error_type(value) == "blank"

    @pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
    def test_line_and_paragraph_separators_are_dropped_like_line_breaks(
        self, separator: str
    ) -> None:
        assert NAME.validate_python(f"ab{separator}cd") == "abcd"

    def test_emoji_joiners_are_kept_after_a_symbol_only(self) -> None:
        assert NAME.validate_python("Ali\u200dmentación ☕\ufe0f") == "Alimentación ☕\ufe0f"

    def test_catalogue_names_keep_no_invisible_character_at_all(self) -> None:
        assert CATALOG_NAME.validate_python("Café ☕\ufe0f 👩\u200d💻") == "Café ☕ 👩💻"
