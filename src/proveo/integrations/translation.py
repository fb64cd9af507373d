"""Machine translation of descriptions: none, Google Cloud Translation v2, LibreTranslate."""

from __future__ import annotations

from typing import Literal, Protocol

from proveo.config import Settings

Lang = Literal["es", "en"]


class TranslationFailed(Exception):
    """The provider did not answer in time or refused; the caller keeps the original text."""


class Translator(Protocol):
    name: str  # "none", "google", "libretranslate"

    @property
    def enabled(self) -> bool:
        """False for `none`: callers keep the original text and schedule nothing."""
        ...

    async def translate(self, text: str, *, source: Lang, target: Lang) -> str:
        """The translated text. Raises TranslationFailed on timeout, 4xx, 5xx or bad answers."""
        ...

    async def close(self) -> None: ...


class NoTranslator:
    name = "none"

    @property
    def enabled(self) -> bool:
        return False

    async def translate(self, text: str, *, source: Lang, target: Lang) -> str:
        raise TranslationFailed("no translation provider is configured")

    async def close(self) -> None:
        return None


def build_translator(settings: Settings) -> Translator:
    return NoTranslator()
