"""Translation providers against loopback fakes of Google Translation v2 and LibreTranslate."""

from __future__ import annotations

import asyncio
import html
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from proveo.config import Settings
from proveo.integrations.translation import (
    GoogleTranslator,
    LibreTranslator,
    NoTranslator,
    TranslationFailed,
    Translator,
    build_translator,
)
from tests.fixtures.servers import free_port

GOOGLE_KEY = "AIza-test-google-key"
LIBRE_KEY = "libre-test-key"
GOOGLE_PATH = "/language/translate/v2"
TIMEOUT = 0.5


def fake_translation(text: str, target: str) -> str:
    return f"[{target}] {text}"


@dataclass
class FakeTranslationApis:
    """Both APIs in one Starlette app; `answer` picks how the next requests are answered."""

    answer: str = "ok"  # ok | slow | 400 | 403 | 500 | 503 | not_json | empty | wrong_shape
    requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route(GOOGLE_PATH, self.google, methods=["POST"]),
                Route("/translate", self.libre, methods=["POST"]),
            ]
        )

    async def _misbehave(self) -> Response | None:
        if self.answer == "slow":
            await asyncio.sleep(TIMEOUT * 6)
        if self.answer.isdigit():
            return JSONResponse({"error": {"message": "nope"}}, status_code=int(self.answer))
        if self.answer == "not_json":
            return PlainTextResponse("<html>gateway</html>", status_code=200)
        return None

    async def google(self, request: Request) -> Response:
        form = dict(await request.form())
        self.requests.append({"api": "google", "query": dict(request.query_params), **form})
        if (refusal := await self._misbehave()) is not None:
            return refusal
        if form.get("key") != GOOGLE_KEY:
            return JSONResponse({"error": {"code": 400, "message": "API key not valid"}}, 400)
        if self.answer == "wrong_shape":
            return JSONResponse({"data": {"translations": []}})
        q, target = str(form["q"]), str(form["target"])
        text = "" if self.answer == "empty" else fake_translation(q, target)
        # The real API escapes HTML entities in some answers, even with format=text.
        return JSONResponse({"data": {"translations": [{"translatedText": html.escape(text)}]}})

    async def libre(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append({"api": "libretranslate", **body})
        if (refusal := await self._misbehave()) is not None:
            return refusal
        if self.answer == "wrong_shape":
            return JSONResponse(["not", "an", "object"])
        text = "" if self.answer == "empty" else fake_translation(body["q"], body["target"])
        return JSONResponse({"translatedText": text})


@pytest.fixture(scope="module")
def fake_server() -> Iterator[tuple[FakeTranslationApis, str]]:
    fake = FakeTranslationApis()
    port = free_port()
    config = uvicorn.Config(
        fake.app(), host="127.0.0.1", port=port, log_level="warning", access_log=False,
        lifespan="off", http="h11", ws="none", timeout_graceful_shutdown=1,
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-translation", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the fake translation APIs did not start")
        time.sleep(0.01)
    try:
        yield fake, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def fake(fake_server: tuple[FakeTranslationApis, str]) -> FakeTranslationApis:
    apis, _ = fake_server
    apis.answer = "ok"
    apis.requests.clear()
    return apis


@pytest.fixture(params=["google", "libretranslate"])
async def translator(
    request: pytest.FixtureRequest, fake_server: tuple[FakeTranslationApis, str]
) -> AsyncIterator[Translator]:
    _, url = fake_server
    provider: Translator
    if request.param == "google":
        provider = GoogleTranslator(url=url + GOOGLE_PATH, api_key=GOOGLE_KEY, timeout=TIMEOUT)
    else:
        provider = LibreTranslator(url=url, api_key=LIBRE_KEY, timeout=TIMEOUT)
    yield provider
    await provider.close()


class TestProvidersTranslate:
    async def test_returns_the_providers_translation(
        self, fake: FakeTranslationApis, translator: Translator
    ) -> None:
        result = await translator.translate("Servicios de aseo", source="es", target="en")
        assert result == "[en] Servicios de aseo"
        assert translator.enabled

    async def test_keeps_unicode_and_unescapes_html_entities(
        self, fake: FakeTranslationApis, translator: Translator
    ) -> None:
        text = 'Ñandú & Peña\'s "café" — 20 % off <b>ya</b> 🍵'
        assert await translator.translate(text, source="es", target="en") == f"[en] {text}"

    async def test_google_sends_the_v2_form_with_the_key_out_of_the_url(
        self, fake: FakeTranslationApis, fake_server: tuple[FakeTranslationApis, str]
    ) -> None:
        _, url = fake_server
        google = GoogleTranslator(url=url + GOOGLE_PATH, api_key=GOOGLE_KEY, timeout=TIMEOUT)
        try:
            await google.translate("Hola", source="es", target="en")
        finally:
            await google.close()
        assert fake.requests == [
            {"api": "google", "query": {}, "key": GOOGLE_KEY, "q": "Hola", "source": "es",
             "target": "en", "format": "text"},
        ]  # fmt: skip

    async def test_libretranslate_sends_its_json_with_the_optional_key(
        self, fake: FakeTranslationApis, fake_server: tuple[FakeTranslationApis, str]
    ) -> None:
        _, url = fake_server
        for key, expected_extra in ((LIBRE_KEY, {"api_key": LIBRE_KEY}), ("", {})):
            libre = LibreTranslator(url=url + "/", api_key=key, timeout=TIMEOUT)
            try:
                await libre.translate("Hello", source="en", target="es")
            finally:
                await libre.close()
            assert fake.requests.pop() == {
                "api": "libretranslate", "q": "Hello", "source": "en", "target": "es",
                "format": "text", **expected_extra,
            }  # fmt: skip


class TestProvidersFailAsTranslationFailed:
    @pytest.mark.parametrize(
        "answer", ["400", "403", "429", "500", "503", "not_json", "empty", "wrong_shape"]
    )
    async def test_bad_answers(
        self, fake: FakeTranslationApis, translator: Translator, answer: str
    ) -> None:
        fake.answer = answer
        with pytest.raises(TranslationFailed):
            await translator.translate("Hola", source="es", target="en")

    async def test_a_slow_provider_fails_within_the_timeout(
        self, fake: FakeTranslationApis, translator: Translator
    ) -> None:
        fake.answer = "slow"
        started = time.monotonic()
        with pytest.raises(TranslationFailed, match="no answer within"):
            await translator.translate("Hola", source="es", target="en")
        assert time.monotonic() - started < TIMEOUT + 1.5  # the fake answers after 3 s

    @pytest.mark.parametrize("provider", [GoogleTranslator, LibreTranslator])
    async def test_a_refused_connection(
        self, provider: type[GoogleTranslator | LibreTranslator]
    ) -> None:
        translator = provider(url=f"http://127.0.0.1:{free_port()}", api_key="k", timeout=TIMEOUT)
        try:
            with pytest.raises(TranslationFailed, match="request failed"):
                await translator.translate("Hola", source="es", target="en")
        finally:
            await translator.close()

    async def test_the_error_never_carries_the_key(
        self, fake: FakeTranslationApis, fake_server: tuple[FakeTranslationApis, str]
    ) -> None:
        _, url = fake_server
        google = GoogleTranslator(url=url + GOOGLE_PATH, api_key="wrong-key", timeout=TIMEOUT)
        try:
            with pytest.raises(TranslationFailed) as failed:
                await google.translate("Hola", source="es", target="en")
        finally:
            await google.close()
        assert str(failed.value) == "google: HTTP 400"

    async def test_no_translator_always_fails_and_is_disabled(self) -> None:
        translator = NoTranslator()
        assert not translator.enabled
        with pytest.raises(TranslationFailed):
            await translator.translate("Hola", source="es", target="en")


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


PRODUCTION = {
    "env": "production",
    "secret_key": "translation-tests-secret-0123456789abcdefghijklmnop",
    "database_url": "postgresql://proveo@db/proveo",
    "public_base_url": "https://proveo.cl",
    "email_backend": "resend",
    "resend_api_key": "re_Zk3mQ9xT2vB7",
}


class TestSettings:
    async def test_builds_the_configured_provider_with_the_timeout(self) -> None:
        google = build_translator(
            _settings(translator="google", google_translate_api_key="k",
                      translate_timeout_seconds=1.5)
        )  # fmt: skip
        libre = build_translator(
            _settings(translator="libretranslate", libretranslate_url="http://lt")
        )
        try:
            assert isinstance(google, GoogleTranslator)
            assert google.timeout == 1.5
            assert isinstance(libre, LibreTranslator)
            assert libre.url == "http://lt/translate"
            assert libre.timeout == 3.0
            assert isinstance(build_translator(_settings()), NoTranslator)
        finally:
            await google.close()
            await libre.close()

    @pytest.mark.parametrize(
        ("override", "complaint"),
        [
            ({"translator": "google"}, "PROVEO_GOOGLE_TRANSLATE_API_KEY"),
            ({"translator": "libretranslate"}, "PROVEO_LIBRETRANSLATE_URL"),
        ],
    )
    def test_production_refuses_a_provider_without_its_credentials(
        self, override: dict[str, object], complaint: str
    ) -> None:
        with pytest.raises(ValidationError, match=complaint):
            _settings(**PRODUCTION, **override)

    def test_production_accepts_a_configured_provider(self) -> None:
        settings = _settings(
            **PRODUCTION, translator="libretranslate", libretranslate_url="https://lt.internal"
        )
        assert settings.translator == "libretranslate"
