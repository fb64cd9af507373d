"""A search's filters as lexemes of its words' query, the last word completed from the
vocabulary, and a word's names read in name order: each only changes how the indexes are read,
never what a search finds."""

from __future__ import annotations

import httpx
import pytest

from proveo.catalog.data import GREATER_SANTIAGO, REGIONS
from proveo.core.db import Connection
from proveo.core.security import hash_password_sync
from proveo.demo.synthetic import SYNTHETIC_PASSWORD, seed_synthetic
from proveo.search import repository
from proveo.search.schemas import SearchParams
from tests.fixtures.recording import RecordingConnection
from tests.search.conftest import SEARCH_URL, add_company

# Every company's matches by the columns, as the filters read without words.
BY_COLUMNS = """
SELECT count(*) FROM proveo.company_search s
WHERE s.doc @@ proveo.search_query($1::text[])
  AND ($3::bigint IS NULL OR s.product_ids @> ARRAY[$3::bigint])
  AND CASE WHEN $6::text IS NULL THEN {located}
           ELSE s.served_regions @> ARRAY[$6::text] AND NOT {located} END
""".format(
    located="""(($2::bigint IS NULL OR s.commune_id = $2::bigint)
    AND ($4::text IS NULL OR s.region = $4::text)
    AND ($5::bigint[] IS NULL OR s.commune_id = ANY($5::bigint[])))"""
)
BY_LEXEMES = """
SELECT count(*) FROM proveo.company_search s
WHERE s.doc @@ proveo.search_query_in($1::text[], $2::bigint, $3::bigint, $4::text,
                                      $5::bigint[], $6::text)
"""


@pytest.fixture
async def synthetic(conn: Connection) -> None:
    """600 synthetic companies; a tenth serve another region (one in twenty all of Chile), one
    in seven lists a second category."""
    await seed_synthetic(conn, 600, seed=3, password_hash=hash_password_sync(SYNTHETIC_PASSWORD, 4))
    await conn.execute(
        """
        UPDATE proveo.company SET served_regions = CASE
            WHEN id % 20 = 0 THEN $1::text[] ELSE ARRAY[($1::text[])[1 + (id / 10) % 16]] END
        WHERE id % 10 = 0
        """,
        list(REGIONS),
    )
    await conn.execute(
        """
        INSERT INTO proveo.company_product (company_id, product_id)
        SELECT c.id, (SELECT min(p.id) FROM proveo.product p WHERE p.id <> c.product_id)
        FROM proveo.company c WHERE c.id % 7 = 0
        ON CONFLICT DO NOTHING
        """
    )


async def test_lexemes_select_the_companies_the_columns_select(
    conn: Connection, synthetic: None
) -> None:
    communes = [r["id"] for r in await conn.fetch(
        "SELECT commune_id AS id FROM proveo.company_search GROUP BY 1 ORDER BY count(*) DESC "
        "LIMIT 3"
    )]  # fmt: skip
    products = [r["id"] for r in await conn.fetch(
        "SELECT product_id AS id FROM proveo.company_search GROUP BY 1 ORDER BY count(*) DESC "
        "LIMIT 2"
    )]  # fmt: skip
    area = [r["id"] for r in await conn.fetch(
        "SELECT id FROM proveo.commune WHERE name = ANY($1::text[]) ORDER BY id",
        list(GREATER_SANTIAGO),
    )]  # fmt: skip
    regions = ["Metropolitana de Santiago", "Valparaíso", "Libertador General Bernardo O'Higgins"]
    places: list[tuple[int | None, str | None, list[int] | None]] = [
        (None, None, None),
        *((commune, None, None) for commune in communes),
        *((None, region, None) for region in regions),
        (None, None, area),
        (None, None, []),
        (communes[0], regions[0], area),
    ]
    compared = 0
    for words in (["servicios"], ["=empresa|empresas"], ["servicios", "calidad"]):
        for product in (None, *products):
            for commune, region, communes_of_area in places:
                for served in (None, "Biobío", "Metropolitana de Santiago"):
                    args = (words, commune, product, region, communes_of_area, served)
                    expected = await conn.fetchval(BY_COLUMNS, *args)
                    assert await conn.fetchval(BY_LEXEMES, *args) == expected, args
                    compared += expected
    assert compared > 1000  # the filters select something worth comparing


async def test_an_area_gaining_or_losing_a_commune_keeps_finding_its_companies(
    conn: Connection, synthetic: None
) -> None:
    # The area's lexeme is a digest of its communes: a commune joining or leaving the area
    # changes it for every company of the area.
    area_of = "SELECT array_agg(id ORDER BY id) FROM proveo.commune WHERE area = 'Gran Santiago'"
    args = (["servicios"], None, None, None)
    before = await conn.fetchval(BY_LEXEMES, *args, await conn.fetchval(area_of), None)
    assert before > 0
    for change, communes in (
        ("INSERT INTO proveo.commune (name, region, area) VALUES "
         "('Nueva Comuna', 'Metropolitana de Santiago', 'Gran Santiago')",
         len(GREATER_SANTIAGO) + 1),
        ("DELETE FROM proveo.commune WHERE name = 'Nueva Comuna'", len(GREATER_SANTIAGO)),
    ):  # fmt: skip
        await conn.execute(change)
        area = await conn.fetchval(area_of)
        assert len(area) == communes
        assert await conn.fetchval(BY_LEXEMES, *args, area, None) == before
        assert await conn.fetchval(BY_COLUMNS, *args, area, None) == before


async def test_a_company_edit_moves_its_place_lexemes(
    client: httpx.AsyncClient, conn: Connection
) -> None:
    await add_company(conn, "Ferretería Austral", commune_name="Punta Arenas")
    found = await client.get(SEARCH_URL, params={"q": "ferreteria", "region": "magallanes"})
    assert [hit["name"] for hit in found.json()] == ["Ferretería Austral"]
    await conn.execute(
        "UPDATE proveo.company SET commune_id = (SELECT id FROM proveo.commune "
        "WHERE name = 'Temuco') WHERE name = 'Ferretería Austral'"
    )
    for region, names in (("magallanes", []), ("araucania", ["Ferretería Austral"])):
        response = await client.get(
            SEARCH_URL, params={"q": "ferreteria austral", "region": region}
        )
        assert [hit["name"] for hit in response.json()] == names, region


class TestCompletion:
    async def test_the_last_word_is_completed_from_the_vocabulary(self, conn: Connection) -> None:
        await add_company(conn, "Tributaria Limitada", description_es="Auditorías tributarias")
        terms = await repository.query_words(conn, ["asesoria", "tributa"])
        assert terms[0] == "asesoria"
        assert terms[1].startswith("=tributa|")
        assert set(terms[1].split("|")[1:]) == {"tributaria", "tributarias"}

    async def test_a_completed_word_finds_what_its_prefix_found(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        # Only in a description, stemmed (`tribut`): found through the completion's stem.
        await add_company(conn, "Estudio Norte", description_es="Asesorías tributarias")
        await add_company(conn, "Tributos del Sur", description_es="Contabilidad")
        by_prefix = (
            "SELECT c.name FROM proveo.company_search s JOIN proveo.company c "
            "ON c.id = s.company_id WHERE s.doc @@ proveo.search_query($1::text[])"
        )
        for q in ("tribut", "tributa", "tributari", "asesorias tributa", "estudio nor"):
            expected = {row["name"] for row in await conn.fetch(by_prefix, q.split())}
            response = await client.get(SEARCH_URL, params={"q": q})
            assert {hit["name"] for hit in response.json()} == expected != set(), q

    async def test_a_prefix_of_many_words_stays_a_prefix(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await conn.executemany(
            "INSERT INTO proveo.search_term (term) VALUES ($1) ON CONFLICT DO NOTHING",
            [(f"zeta{chr(97 + n // 26)}{chr(97 + n % 26)}",) for n in range(40)],
        )
        assert await repository.query_words(conn, ["zeta"]) == ["zeta"]
        await add_company(conn, "Zetaxz Ingeniería")
        response = await client.get(SEARCH_URL, params={"q": "zeta"})
        assert [hit["name"] for hit in response.json()] == ["Zetaxz Ingeniería"]

    @pytest.mark.parametrize("word", ["12345", "ab"])
    async def test_numbers_and_short_words_are_not_completed(
        self, conn: Connection, word: str
    ) -> None:
        assert await repository.query_words(conn, [word]) == [word]

    async def test_the_start_of_a_word_of_any_length_finds_it(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        # Found by a review: the vocabulary held words of up to 40 letters, so the start of a
        # 45-letter word of a description found nothing until 31 letters were typed.
        long_word = "zqvextra" + "l" * 37
        await add_company(conn, "Integra Sur", description_es=f"Empresa {long_word} servicio")
        for typed in (long_word[:4], long_word[:8], long_word[:30], long_word[:31], long_word):
            response = await client.get(SEARCH_URL, params={"q": typed})
            assert [hit["name"] for hit in response.json()] == ["Integra Sur"], len(typed)


class TestNameWords:
    """`company_search_name_word`: the name tier of one word, read in name order per lexeme."""

    ROWS = (
        "SELECT company_id, word, name_key, commune_id, region "
        "FROM proveo.company_search_name_word ORDER BY 1, 2"
    )
    EXPECTED = (
        "SELECT s.company_id, w.word, s.name_key, s.commune_id, s.region "
        "FROM proveo.company_search s, unnest(tsvector_to_array(s.name_doc)) AS w(word) "
        "ORDER BY 1, 2"
    )

    async def test_holds_each_name_word_of_the_search_rows_whatever_changed(
        self, conn: Connection
    ) -> None:
        await add_company(conn, "Contadores Andinos", commune_name="Providencia")
        await add_company(conn, "Balance Contable", commune_name="Ñuñoa")
        assert len(await conn.fetch(self.ROWS)) > 4
        assert await conn.fetch(self.ROWS) == await conn.fetch(self.EXPECTED)
        for change in (
            "UPDATE proveo.company SET name = 'Cuentas Claras' WHERE name = 'Balance Contable'",
            "UPDATE proveo.commune SET region = 'Maule' WHERE name = 'Providencia'",
            "UPDATE proveo.company SET deleted_at = now() WHERE name = 'Contadores Andinos'",
        ):
            await conn.execute(change)
            assert await conn.fetch(self.ROWS) == await conn.fetch(self.EXPECTED), change

    async def test_pages_are_those_the_name_index_gives(
        self, conn: Connection, synthetic: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        regions = [None, "Metropolitana de Santiago", "Aysén del General Carlos Ibáñez del Campo"]
        searches = [
            SearchParams(q=q, region=region, offset=offset, limit=limit)
            for q in ("servicios", "contador", "constructora", "ingenieria", "sur")
            for region in regions
            for offset, limit in ((0, 20), (20, 20), (5, 50))
        ]
        # Pages ranked by their tiers, not sliced from a count's few ids.
        monkeypatch.setattr(repository, "FEW_MATCHES", 0)
        used = 0
        pages = []
        for params in searches:
            recording = RecordingConnection(conn)
            pages.append(await repository.search(recording.as_connection(), params))
            used += any("company_search_name_word" in sql for sql in recording.sql)
        assert used > len(searches) // 2  # the name tier was read by name words
        monkeypatch.setattr(repository, "_by_name_words", lambda params, terms: False)
        for params, page in zip(searches, pages, strict=True):
            assert await repository.search(conn, params) == page, params
