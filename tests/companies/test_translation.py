"""Description provenance: original, human, machine, pending; and the retry job's function.

The provider is a test double implementing the Translator protocol (the HTTP providers are
tested against loopback fakes of their APIs in tests/integrations)."""

from __future__ import annotations

import httpx
import pytest

from proveo.companies.schemas import CompanyUpdate
from proveo.companies.service import fit_translation, retry_pending_translations
from proveo.core.db import Connection
from proveo.integrations.translation import Lang
from tests.companies.support import FakeTranslator, patch_mine, publish
from tests.factories import LoggedIn, create_company, create_user, log_in
from tests.fixtures.database import PinnedDatabase


def _descriptions(body: dict[str, object]) -> tuple[object, ...]:
    return (
        body["description_original_lang"],
        body["description_es"],
        body["description_es_source"],
        body["description_en"],
        body["description_en_source"],
    )


@pytest.fixture
async def session(client: httpx.AsyncClient, conn: Connection) -> LoggedIn:
    return await log_in(client, await create_user(conn))


class TestPublishTranslates:
    async def test_the_missing_description_is_machine_translated(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        response = await publish(client, session, description_en=None)
        assert response.status_code == 201
        assert _descriptions(response.json()) == (
            "es", "Obras menores y remodelaciones.", "original",
            "[en] Obras menores y remodelaciones.", "machine",
        )  # fmt: skip
        assert translator.calls == [("Obras menores y remodelaciones.", "es", "en")]

    async def test_an_english_only_profile_gets_spanish(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        response = await publish(client, session, description_es=None, lang="es")
        body = response.json()
        assert (body["description_original_lang"], body["description_es_source"]) == (
            "en", "machine",
        )  # fmt: skip
        assert body["description_es"] == "[es] Minor works and refurbishments."

    async def test_both_given_the_other_is_human_and_nothing_is_translated(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        response = await publish(client, session, lang="en")
        body = response.json()
        assert (body["description_original_lang"], body["description_en_source"]) == (
            "en", "original",
        )  # fmt: skip
        assert body["description_es_source"] == "human"
        assert translator.calls == []

    @pytest.mark.parametrize("mode", ["fail", "off"])
    async def test_without_a_translation_the_original_shows_in_both_languages(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        session: LoggedIn,
        translator: FakeTranslator,
        mode: str,
    ) -> None:
        translator.mode = mode
        response = await publish(client, session, description_en=None)
        assert response.status_code == 201
        body = response.json()
        assert _descriptions(body) == (
            "es", "Obras menores y remodelaciones.", "original",
            "Obras menores y remodelaciones.", "pending",
        )  # fmt: skip
        stored = await conn.fetchval(
            "SELECT description_en FROM proveo.company WHERE uuid = $1", body["uuid"]
        )
        assert stored is None  # nothing pretends to be a translation

    async def test_an_overlong_translation_is_cut_at_a_word(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        translator.answer = "palabra " * 200
        response = await publish(client, session, description_en=None, description_es="x" * 900)
        assert response.status_code == 201
        translated = response.json()["description_en"]
        assert len(translated) <= 1000
        assert translated.endswith("palabra…")

    async def test_a_1500_character_translation_is_stored_whole_words_and_marked_machine(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        session: LoggedIn,
        translator: FakeTranslator,
    ) -> None:
        translator.mode = "ok"
        # Punctuation and spaces right where a cut lands, a line break, and a long tail.
        sentence = "Reparamos techos, muros y pisos; - "
        translator.answer = ("Primera línea.\n" + sentence * 50)[:1500]
        assert len(translator.answer) == 1500
        response = await publish(client, session, description_en=None)
        assert response.status_code == 201
        uuid = response.json()["uuid"]
        stored, source = await conn.fetchrow(
            "SELECT description_en, description_en_source FROM proveo.company WHERE uuid = $1",
            uuid,
        )
        assert source == "machine"
        assert len(stored) <= 1000
        assert stored.endswith("…")
        assert stored.count("…") == 1
        body = stored.removesuffix("…")
        # Only whole words of the provider's text, with no separator left dangling before the
        # ellipsis.
        assert translator.answer.startswith(body)
        assert translator.answer[len(body)] in " ,;.-"
        assert body[-1].isalnum()
        # Valid as owner text: the same rules an owner's description passes.
        assert CompanyUpdate.model_validate({"description_en": stored}).description_en == stored

    @pytest.mark.parametrize(
        "answer", ["x" * 1500, "Palabra " + "y" * 1492, "uno, " * 300, "punto. " * 250]
    )
    def test_any_overlong_translation_fits_and_stays_valid(self, answer: str) -> None:
        fitted = fit_translation(answer)
        assert fitted is not None
        assert len(fitted) <= 1000
        assert fitted.endswith("…")
        assert fitted.removesuffix("…")[-1:] not in " ,;.-"
        assert CompanyUpdate.model_validate({"description_es": fitted}).description_es == fitted


class TestEditingKeepsProvenance:
    async def test_editing_the_original_refreshes_a_machine_translation(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        assert (await publish(client, session, description_en=None)).status_code == 201
        response = await patch_mine(client, session, description_es="Texto nuevo")
        assert _descriptions(response.json()) == (
            "es", "Texto nuevo", "original", "[en] Texto nuevo", "machine",
        )  # fmt: skip

    async def test_editing_the_original_never_overwrites_a_human_translation(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        assert (await publish(client, session)).status_code == 201
        response = await patch_mine(client, session, description_es="Texto nuevo")
        assert _descriptions(response.json()) == (
            "es", "Texto nuevo", "original", "Minor works and refurbishments.", "human",
        )  # fmt: skip
        assert translator.calls == []

    async def test_text_typed_in_the_other_language_becomes_human(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        assert (await publish(client, session, description_en=None)).status_code == 201
        typed = await patch_mine(client, session, description_en="My own words")
        assert typed.json()["description_en_source"] == "human"
        # ...and from then on the original's edits leave it alone.
        edited = await patch_mine(client, session, description_es="Otra vez")
        assert edited.json()["description_en"] == "My own words"

    async def test_a_failed_refresh_leaves_it_pending_not_stale(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        assert (await publish(client, session, description_en=None)).status_code == 201
        translator.mode = "fail"
        response = await patch_mine(client, session, description_es="Texto nuevo")
        assert _descriptions(response.json()) == (
            "es", "Texto nuevo", "original", "Texto nuevo", "pending",
        )  # fmt: skip

    async def test_resending_the_same_original_translates_nothing(
        self, client: httpx.AsyncClient, session: LoggedIn, translator: FakeTranslator
    ) -> None:
        translator.mode = "ok"
        assert (await publish(client, session, description_en=None)).status_code == 201
        translator.calls.clear()
        await patch_mine(client, session, description_es="Obras menores y remodelaciones.")
        assert translator.calls == []


class TestRetryPendingTranslations:
    async def _pending_company(self, conn: Connection, text: str = "Hola") -> int:
        company = await create_company(
            conn, (await create_user(conn)).id, description_es=text, description_en=None
        )
        assert company.description_en_source == "pending"
        return company.id

    async def test_translates_what_is_pending(self, conn: Connection) -> None:
        first = await self._pending_company(conn, "Uno")
        second = await self._pending_company(conn, "Dos")
        translator = FakeTranslator("ok")
        assert await retry_pending_translations(PinnedDatabase(conn), translator) >= 2
        rows = await conn.fetch(
            "SELECT description_en, description_en_source FROM proveo.company "
            "WHERE id = ANY($1::bigint[]) ORDER BY id",
            [first, second],
        )
        assert [tuple(row) for row in rows] == [("[en] Uno", "machine"), ("[en] Dos", "machine")]
        assert await retry_pending_translations(PinnedDatabase(conn), translator) == 0

    async def test_does_nothing_without_a_provider(self, conn: Connection) -> None:
        await self._pending_company(conn)
        translator = FakeTranslator("off")
        assert await retry_pending_translations(PinnedDatabase(conn), translator) == 0
        assert translator.calls == []

    async def test_stops_at_the_first_failure(self, conn: Connection) -> None:
        await self._pending_company(conn, "Uno")
        await self._pending_company(conn, "Dos")
        translator = FakeTranslator("fail")
        assert await retry_pending_translations(PinnedDatabase(conn), translator) == 0
        assert len(translator.calls) == 1

    async def test_respects_the_limit(self, conn: Connection) -> None:
        for index in range(3):
            await self._pending_company(conn, f"Texto {index}")
        done = await retry_pending_translations(PinnedDatabase(conn), FakeTranslator("ok"), limit=2)
        assert done == 2

    async def test_an_edit_made_meanwhile_wins(self, conn: Connection) -> None:
        company_id = await self._pending_company(conn, "Viejo")

        class EditsWhileTranslating(FakeTranslator):
            async def translate(self, text: str, *, source: Lang, target: Lang) -> str:
                await conn.execute(
                    "UPDATE proveo.company SET description_es = 'Nuevo' WHERE id = $1", company_id
                )
                return await super().translate(text, source=source, target=target)

        await retry_pending_translations(PinnedDatabase(conn), EditsWhileTranslating("ok"))
        row = await conn.fetchrow(
            "SELECT description_en, description_en_source FROM proveo.company WHERE id = $1",
            company_id,
        )
        assert tuple(row) == (None, "pending")

    async def test_deleted_companies_are_left_alone(self, conn: Connection) -> None:
        company_id = await self._pending_company(conn)
        await conn.execute("UPDATE proveo.company SET deleted_at = now() WHERE id = $1", company_id)
        translator = FakeTranslator("ok")
        await retry_pending_translations(PinnedDatabase(conn), translator)
        assert ("Hola", "es", "en") not in translator.calls
