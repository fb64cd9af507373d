"""Machine translation of descriptions: none, Google Cloud Translation v2, LibreTranslate.

A provider gets one short, total time budget per text. Every failure (timeout, refused
connection, an HTTP error status, an answer we cannot read, an empty translation) becomes
`TranslationFailed`: the caller keeps the original text and a scheduled job retries later.
"""

from __future__ import annotations

import asyncio
import html
from typing import Any, Literal, Protocol

import httpx

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


class _HttpTranslator:
    """One pooled client per provider; `_post` turns every way a request can fail into one error."""

    name: str

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout
        # httpx times each phase separately; the total budget is enforced in `_post`.
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)

    @property
    def enabled(self) -> bool:
        return True

    async def _post(self, url: str, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client.post(url, **kwargs)
        except TimeoutError as exc:
            raise TranslationFailed(f"{self.name}: no answer within {self.timeout:g} s") from exc
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            # The error's type only: its text can quote the URL, which may carry credentials.
            raise TranslationFailed(f"{self.name}: request failed ({type(exc).__name__})") from exc
        if not response.is_success:
            raise TranslationFailed(f"{self.name}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise TranslationFailed(f"{self.name}: the answer is not JSON") from exc

    def _checked(self, translated: object) -> str:
        if not isinstance(translated, str) or not translated.strip():
            raise TranslationFailed(f"{self.name}: the answer has no translated text")
        return translated

    async def close(self) -> None:
        await self._client.aclose()


class GoogleTranslator(_HttpTranslator):
    """Cloud Translation v2 (REST, API key): `POST url` with form fields, `data.translations`."""

    name = "google"

    def __init__(self, *, url: str, api_key: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.url = url
        self._api_key = api_key

    async def translate(self, text: str, *, source: Lang, target: Lang) -> str:
        # The key travels in the form body, not the query string, so it never reaches a log
        # line that prints URLs.
        body = await self._post(
            self.url,
            data={"key": self._api_key, "q": text, "source": source, "target": target,
                  "format": "text"},
        )  # fmt: skip
        try:
            translated = body["data"]["translations"][0]["translatedText"]
        except (KeyError, IndexError, TypeError) as exc:
            raise TranslationFailed("google: the answer has no translations") from exc
        # v2 escapes HTML entities (&#39;, &amp;) in some answers even with format=text.
        return html.unescape(self._checked(translated))


class LibreTranslator(_HttpTranslator):
    """LibreTranslate: `POST {url}/translate` with JSON, answering `{"translatedText": ...}`."""

    name = "libretranslate"

    def __init__(self, *, url: str, api_key: str, timeout: float) -> None:
        super().__init__(timeout=timeout)
        self.url = url.rstrip("/") + "/translate"
        self._api_key = api_key

    async def translate(self, text: str, *, source: Lang, target: Lang) -> str:
        payload = {"q": text, "source": source, "target": target, "format": "text"}
        if self._api_key:
            payload["api_key"] = self._api_key
        body = await self._post(self.url, json=payload)
        if not isinstance(body, dict):
            raise TranslationFailed("libretranslate: the answer is not an object")
        return self._checked(body.get("translatedText"))


def build_translator(settings: Settings) -> Translator:
    timeout = settings.translate_timeout_seconds
    if settings.translator == "google":
        return GoogleTranslator(
            url=settings.google_translate_url,
            api_key=settings.google_translate_api_key.get_secret_value(),
            timeout=timeout,
        )
    if settings.translator == "libretranslate":
        return LibreTranslator(
            url=settings.libretranslate_url,
            api_key=settings.libretranslate_api_key.get_secret_value(),
            timeout=timeout,
        )
    return NoTranslator()
