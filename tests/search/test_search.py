"""`GET /companies/search`, `/facets` and `/suggest`: matching, ranking, paging, filters and
any query string a client can send."""

from __future__ import annotations

import httpx
import pytest

from proveo.core.db import Connection
from proveo.search import repository
from proveo.search.schemas import SearchParams
from proveo.search.service import normalise_query
from tests.fixtures.recording import RecordingConnection
from tests.search.conftest import FACETS_URL, SEARCH_URL, SUGGEST_URL, add_company


async def _names(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get(SEARCH_URL, params=params)
    assert response.status_code == 200, response.text
    return [hit["name"] for hit in response.json()]


class TestNormaliseQuery:
    def test_folds_accents_case_and_punctuation(self) -> None:
        assert normalise_query("  Ñuñoa, GASFITERÍA!! ") == "nunoa gasfiteria"

    def test_tsquery_operators_and_quotes_are_separators(self) -> None:
        assert normalise_query("a & b | !c <-> d:* 'e' \"f\"") == "a b c d e f"

    def test_keeps_the_first_words_of_a_long_query(self) -> None:
        assert len(normalise_query("palabra " * 500).split()) == 16


class TestResults:
    async def test_answers_a_list_with_the_total_in_a_header(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        response = await client.get(SEARCH_URL, params={"q": "solar"})
        assert response.status_code == 200
        assert response.headers["X-Total-Count"] == "1"
        [hit] = response.json()
        assert set(hit) == {
            "uuid", "slug", "name", "description", "product_name", "commune_name",
            "address", "phone", "email", "image_url", "match",
        }  # fmt: skip
        assert hit["match"] is None  # no place filter
        assert hit["slug"]  # the company page's address, /empresas/{slug}
        assert hit["product_name"] == "Energía solar"
        assert hit["commune_name"] == "La Serena"

    async def test_lang_en_gives_english_descriptions_and_product_names(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        response = await client.get(SEARCH_URL, params={"q": "solar", "lang": "en"})
        [hit] = response.json()
        assert hit["product_name"] == "Solar energy"
        assert hit["description"].startswith("Photovoltaic")

    async def test_a_pending_translation_shows_the_original(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        [hit] = (await client.get(SEARCH_URL, params={"q": "sondajes", "lang": "en"})).json()
        assert hit["description"].startswith("Perforación")

    async def test_no_query_lists_the_directory_in_name_order(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        response = await client.get(SEARCH_URL, params={"limit": "100"})
        names = [hit["name"] for hit in response.json()]
        assert int(response.headers["X-Total-Count"]) == len(names) >= 32
        assert names == sorted(names, key=normalise_query)

    async def test_deleted_companies_are_not_found(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await add_company(conn, "Empresa Borrada")
        await conn.execute(
            "UPDATE proveo.company SET deleted_at = now() WHERE name = $1", "Empresa Borrada"
        )
        assert await _names(client, q="borrada") == []

    async def test_words_must_all_match(self, client: httpx.AsyncClient, directory: None) -> None:
        assert await _names(client, q="solar guantes") == []


class TestRanking:
    async def test_exact_name_then_prefix_then_name_words_then_catalogue_then_descriptions(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await add_company(conn, "Zeta Vidrios", description_es="Vidrios templados.")
        await add_company(conn, "Vidrios", description_es="Cristales.")
        await add_company(conn, "Vidrios Alfa", description_es="Cristales.")
        await add_company(conn, "Alfa Vidrio Sur", description_es="Cristales.")
        await add_company(
            conn, "Beta Ltda", description_es="Vidrios y espejos.", commune_name="Vitacura"
        )
        await add_company(conn, "Alfa Servicios", commune_name="Vitacura", description_es="Obras.")
        assert await _names(client, q="vidrios") == [
            "Vidrios",  # the exact name
            "Vidrios Alfa",  # a name that starts with the query
            "Alfa Vidrio Sur",  # the word in the name (name order within the tier)
            "Zeta Vidrios",
            "Beta Ltda",  # only in the description
        ]
        # The commune (catalogue) ranks above the description.
        assert (await _names(client, q="vitacura obras"))[0] == "Alfa Servicios"

    async def test_pages_never_overlap_or_skip(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        for index in range(23):
            # Equal names: only the stable tie-break orders them.
            await add_company(conn, "Grúas Iguales" if index % 2 else f"Grúas {index:02d}")
        everything = await _names(client, q="gruas", limit="100")
        assert len(everything) == 23
        paged: list[str] = []
        for offset in range(0, 23, 5):
            paged += await _names(client, q="gruas", limit="5", offset=str(offset))
        assert paged == everything
        uuids = []
        for offset in range(0, 23, 5):
            page = await client.get(
                SEARCH_URL, params={"q": "gruas", "limit": "5", "offset": str(offset)}
            )
            uuids += [hit["uuid"] for hit in page.json()]
        assert len(set(uuids)) == 23

    async def test_a_page_the_first_tiers_fill_is_the_page_every_tier_gives(
        self, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(repository, "FEW_MATCHES", 0)  # the tiered statements
        # Names that start with the word fill the first pages, so the lower tiers are not read;
        # companies with the word elsewhere (one sorts before them all) come after them.
        for index in range(12):
            await add_company(conn, f"Servicios Integrales {index:02d}")
        for index in range(4):
            await add_company(conn, f"Aaa Servicios {index}")
            await add_company(conn, f"Aseo {index}", description_es="Servicios de aseo.")

        async def every_tier(
            conn: Connection, params: SearchParams, words: list[str]
        ) -> repository.MatchCounts:
            counts = await repository.count_matches(conn, params, words)
            return repository.MatchCounts(counts.total)  # no tier known to fill the page

        shortcuts = 0
        for offset, limit in [(0, 5), (5, 5), (7, 5), (10, 5), (0, 12), (0, 13), (15, 10)]:
            params = SearchParams(q="servicios", offset=offset, limit=limit)
            counts = await repository.count_matches(conn, params, params.words)
            shortcuts += counts.last_tier(offset + limit) < 4
            page = await repository.search(conn, params)
            assert page == await repository.search(conn, params, every_tier), (offset, limit)
        assert shortcuts == 6

    async def test_few_matches_ranked_in_one_pass_give_the_pages_the_tiers_give(
        self, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Every tier represented, ties in name broken by id, places and filters.
        for index in range(3):
            await add_company(conn, "Grúas Sur", commune_name="Temuco")
            await add_company(conn, f"Grúas Sur {index}", commune_name="Santiago")
            await add_company(conn, f"Andes Grúas {index}", commune_name="Temuco")
            await add_company(conn, f"Izajes {index}", description_es="Arriendo de grúas.")
        await add_company(conn, "Grúas", product_name="Arriendo de maquinaria")
        searches = [
            SearchParams(q=q, offset=offset, limit=limit, **filters)
            for q in ("gruas sur", "gruas", "gru", "izajes gruas")
            for offset, limit in ((0, 5), (3, 4), (0, 20), (12, 5))
            for filters in ({}, {"region": "La Araucanía"})
        ]
        one_pass = [await repository.search(conn, params) for params in searches]
        assert sum(len(page.items) for page in one_pass) > 40
        monkeypatch.setattr(repository, "FEW_MATCHES", 0)
        assert one_pass == [await repository.search(conn, params) for params in searches]

    async def test_few_matches_come_with_their_ids_only_when_all_were_counted(
        self, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        for index in range(5):
            await add_company(conn, f"Grúas {index}", commune_name="Temuco")
        words = ["gruas"]
        counts = await repository.count_matches(conn, SearchParams(q="gruas"), words)
        found = await conn.fetch(
            "SELECT s.company_id FROM proveo.company_search s JOIN proveo.company c "
            "ON c.id = s.company_id WHERE c.name LIKE 'Grúas %'"
        )
        assert counts.ids is not None
        assert sorted(counts.ids) == sorted(row["company_id"] for row in found)
        monkeypatch.setattr(repository, "COUNT_LIMIT", 3)  # 4 read of 5: not all
        counts = await repository.count_matches(conn, SearchParams(q="gruas"), words)
        assert (counts.total, counts.exact, counts.ids) == (3, False, None)

    async def test_the_answer_says_how_its_companies_were_found(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        # Found by a newcomer: corrected and similar-name results looked like plain matches.
        await add_company(conn, "Grúas Andinas", commune_name="Santiago")
        await add_company(conn, "Ferretería Sur", commune_name="Valdivia")
        found = {}
        for q in ("gruas", "gruaz", "gruas andinas valdivia"):
            response = await client.get(SEARCH_URL, params={"q": q})
            assert response.json()[0]["name"] == "Grúas Andinas", q
            found[q] = (
                response.headers["X-Search-Match"],
                response.headers.get("X-Search-Corrected"),
            )
        assert found == {
            "gruas": ("words", None),
            "gruaz": ("corrected", "gruas"),
            "gruas andinas valdivia": ("similar", None),
        }


class TestFilters:
    async def test_filter_by_commune_uuid_or_name(
        self, client: httpx.AsyncClient, conn: Connection, directory: None
    ) -> None:
        commune_uuid = await conn.fetchval(
            "SELECT uuid FROM proveo.commune WHERE name = 'Providencia'"
        )
        by_uuid = await _names(client, commune=str(commune_uuid), limit="100")
        by_name = await _names(client, commune="  PROVIDENCIA ", limit="100")
        assert by_uuid == by_name
        assert set(by_uuid) == {
            "Contadores Asociados Pérez",
            "Pixel Marketing",
            "Traducciones Babel",
        }

    async def test_filter_by_product_in_either_language(
        self, client: httpx.AsyncClient, conn: Connection, directory: None
    ) -> None:
        product_uuid = await conn.fetchval(
            "SELECT uuid FROM proveo.product WHERE name_en = 'Plumbing'"
        )
        assert await _names(client, product=str(product_uuid)) == ["Gasfitería Rápida Ñuñoa"]
        assert await _names(client, product="gasfiteria") == ["Gasfitería Rápida Ñuñoa"]

    @pytest.mark.parametrize("field", ["commune", "product"])
    async def test_an_unknown_filter_is_a_422(self, client: httpx.AsyncClient, field: str) -> None:
        response = await client.get(SEARCH_URL, params={field: "Atlántida"})
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"

    @pytest.mark.parametrize("field", ["commune", "product"])
    @pytest.mark.parametrize("value", ["\ufffd", "!!!", "\u200b"])
    async def test_a_filter_with_no_letters_is_unknown_not_absent(
        self, client: httpx.AsyncClient, directory: None, field: str, value: str
    ) -> None:
        # Cleaned to nothing, it once matched the unfiltered search (and its cached answer).
        for _ in range(2):
            assert len(await _names(client)) > 1
            response = await client.get(SEARCH_URL, params={field: value})
            assert response.status_code == 422, response.text
            assert response.json()["detail"][0]["type"] == f"unknown_{field}"
            facets = await client.get(FACETS_URL, params={field: value})
            assert facets.status_code == 422, facets.text

    async def test_a_renamed_commune_is_searchable_at_once(
        self, client: httpx.AsyncClient, conn: Connection, directory: None
    ) -> None:
        await conn.execute("UPDATE proveo.commune SET name = 'Calamá Norte' WHERE name = 'Calama'")
        assert await _names(client, q="calama norte") == ["Protege EPP"]


HOSTILE = [
    "'", '"', "\\", "a & b", "!", "|", "<->", ":*", "a:* & !b", "(((", "')) OR 1=1 --",
    "'; DROP TABLE proveo.company; --", "%", "_", "%%%", "x" * 1000, "🚀🔥", "   ", "\t\n",
    "\u202eevil", "ñ" * 300, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    "de la el los", "\u0301\u0301", "🇨🇱 construccion",
]  # fmt: skip


class TestBoundedCounting:
    """Totals stop at `COUNT_LIMIT` matches (1,000; 6 here): a search that matches more says
    "more than", facets past as many matches are estimates,
    and what one request costs stays bounded whatever the directory's size. The pages are the
    pages an exact count gives."""

    @pytest.fixture(autouse=True)
    def small_limit(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(repository, "COUNT_LIMIT", 6)
        monkeypatch.setattr(repository, "DEEP_SAMPLE", 1)

    @pytest.fixture
    async def grues(self, conn: Connection) -> None:
        for index in range(14):
            commune = "Santiago" if index < 10 else "Temuco"
            await add_company(conn, f"Grúas {index:02d}", commune_name=commune)

    async def test_more_matches_than_the_limit_say_more_than_with_the_same_pages(
        self,
        client: httpx.AsyncClient,
        conn: Connection,
        grues: None,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        page = await client.get(SEARCH_URL, params={"q": "gruas", "limit": "5", "offset": "10"})
        assert page.status_code == 200
        assert page.headers["X-Total-Count"] == "6"
        assert page.headers["X-Total-Count-Exact"] == "false"
        bounded = [hit["name"] for hit in page.json()]
        monkeypatch.setattr(repository, "COUNT_LIMIT", 10_000)
        exact = await repository.search(conn, SearchParams(q="gruas", limit=5, offset=10))
        assert (exact.total, exact.total_exact) == (14, True)
        assert bounded == [hit.name for hit in exact.items] == [
            "Grúas 10", "Grúas 11", "Grúas 12", "Grúas 13",
        ]  # fmt: skip

    async def test_similar_names_are_ranked_among_the_first_found_past_the_limit(
        self, conn: Connection, grues: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # No company has "zzz": the names like "gruas zzz" are listed, each as similar.
        params = SearchParams(q="gruas zzz", limit=5, offset=5)
        bounded = await repository.search(conn, params)
        assert (bounded.match, bounded.total, bounded.total_exact) == ("similar", 6, False)
        assert len(bounded.items) == 2  # 7 ranked: `COUNT_LIMIT` + 1
        monkeypatch.setattr(repository, "COUNT_LIMIT", 10_000)
        exact = await repository.search(conn, params)
        assert (exact.match, exact.total, exact.total_exact) == ("similar", 14, True)
        assert len(exact.items) == 5

    async def test_within_the_limit_the_count_is_exact(
        self, client: httpx.AsyncClient, grues: None
    ) -> None:
        page = await client.get(SEARCH_URL, params={"q": "gruas", "commune": "Temuco"})
        assert page.headers["X-Total-Count"] == "4"
        assert page.headers["X-Total-Count-Exact"] == "true"
        facets = (await client.get(FACETS_URL, params={"q": "gruas", "commune": "Temuco"})).json()
        assert (facets["total"], facets["total_exact"], facets["counts_exact"]) == (4, True, True)

    async def test_facets_of_more_matches_than_the_limit_are_estimates(
        self, client: httpx.AsyncClient, grues: None
    ) -> None:
        facets = (await client.get(FACETS_URL, params={"q": "gruas"})).json()
        assert (facets["total"], facets["total_exact"], facets["counts_exact"]) == (6, False, False)
        # Scaled from the first matches counted to the table: each commune at least one.
        assert {c["name"] for c in facets["communes"]} <= {"Santiago", "Temuco"}
        assert all(c["count"] >= 1 for c in facets["communes"])

    async def test_facets_read_no_more_matches_than_a_count(
        self, client: httpx.AsyncClient, conn: Connection, grues: None
    ) -> None:
        # Bounded like a count: 7 of the 14 read (the sample), the rest estimated from them.
        assert repository.facet_sample() == repository.count_sample(SearchParams(q="gruas"))
        recording = RecordingConnection(conn)
        facets = await repository.facets(recording.as_connection(), SearchParams(q="gruas"))
        assert (facets.total, facets.counts_exact) == (6, False)
        assert [args[-1] for sql, args in recording.statements if "counted" in sql] == [7]

    @pytest.mark.parametrize("offset", [0, 5, 8])
    async def test_pages_past_the_shallow_ones_count_their_tiers_further(
        self, conn: Connection, grues: None, monkeypatch: pytest.MonkeyPatch, offset: int
    ) -> None:
        # Past `SHALLOW_PAGE_END` a count reads the facets' sample: the tiers' sizes must reach
        # the page for the tiers below to be left unread.
        monkeypatch.setattr(repository, "SHALLOW_PAGE_END", 5)
        monkeypatch.setattr(repository, "DEEP_SAMPLE", 3)
        for name in ("Gruas", "Gruas Norte", "Gruas Sur"):  # the name-prefix tier
            await add_company(conn, name)
        params = SearchParams(q="gruas", limit=5, offset=offset)
        assert repository.count_sample(params) == (7 if offset == 0 else 19)
        bounded = await repository.search(conn, params)
        monkeypatch.setattr(repository, "COUNT_LIMIT", 10_000)
        exact = await repository.search(conn, params)
        assert [hit.name for hit in bounded.items] == [hit.name for hit in exact.items]
        assert len(exact.items) == 5

    def test_a_search_without_words_counts_no_further_than_its_limit_on_any_page(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # No tiers to size: a deep page of a region counts as its first page does.
        deep = SearchParams(region="Valparaíso", offset=900, limit=20)
        monkeypatch.setattr(repository, "SHALLOW_PAGE_END", 100)
        assert repository.count_sample(deep) == repository.COUNT_LIMIT + 1
        words = deep.model_copy(update={"q": "gruas"})
        assert repository.count_sample(words) == repository.COUNT_LIMIT * repository.DEEP_SAMPLE + 1

    async def test_no_query_counts_the_directory_up_to_the_limit(
        self, client: httpx.AsyncClient, grues: None
    ) -> None:
        page = await client.get(SEARCH_URL)
        assert (page.headers["X-Total-Count"], page.headers["X-Total-Count-Exact"]) == (
            "6", "false",
        )  # fmt: skip
        assert len(page.json()) == 14

    def test_estimates_are_rounded_to_two_significant_figures(self) -> None:
        assert [repository._round_estimate(v) for v in (0.2, 7.4, 99.6, 123.0, 12_345.0)] == [
            1, 7, 100, 120, 12_000,
        ]  # fmt: skip


class TestHostileQueries:
    @pytest.mark.parametrize("q", HOSTILE)
    async def test_any_query_string_answers_200_with_a_list(
        self, client: httpx.AsyncClient, directory: None, q: str
    ) -> None:
        for url in (SEARCH_URL, FACETS_URL):
            response = await client.get(url, params={"q": q})
            assert response.status_code == 200, (url, response.text)
        response = await client.get(SUGGEST_URL, params={"q": q[:100]})
        assert response.status_code == 200

    async def test_nul_is_a_separator_not_an_error(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        response = await client.get(SEARCH_URL, params={"q": "solar\x00andino"})
        assert response.status_code == 200
        assert [hit["name"] for hit in response.json()] == ["Solar Andino"]

    async def test_a_query_over_1000_characters_is_a_422(self, client: httpx.AsyncClient) -> None:
        response = await client.get(SEARCH_URL, params={"q": "x" * 1001})
        assert response.status_code == 422

    @pytest.mark.parametrize(
        ("limit", "offset"), [("0", "0"), ("101", "0"), ("5", "-1"), ("a", "0")]
    )
    async def test_paging_out_of_bounds_is_a_422(
        self, client: httpx.AsyncClient, limit: str, offset: str
    ) -> None:
        response = await client.get(SEARCH_URL, params={"limit": limit, "offset": offset})
        assert response.status_code == 422

    @pytest.mark.parametrize(("limit", "offset"), [("20", "981"), ("2", "999"), ("100", "901")])
    async def test_paging_past_the_first_1000_results_is_a_clear_422(
        self, client: httpx.AsyncClient, limit: str, offset: str
    ) -> None:
        # Found by a review: `offset=44000` cost up to 0.9 s at 100k companies, and eight
        # clients paging deep quadrupled everyone's median.
        response = await client.get(
            SEARCH_URL, params={"q": "santiago", "limit": limit, "offset": offset}
        )
        assert response.status_code == 422
        assert response.json()["code"] == "page_too_deep"
        assert "1000" in response.json()["detail"]

    @pytest.mark.parametrize("offset", ["1000", "44000"])
    async def test_an_offset_past_the_first_1000_results_is_refused_by_the_schema(
        self, client: httpx.AsyncClient, offset: str
    ) -> None:
        response = await client.get(SEARCH_URL, params={"q": "santiago", "offset": offset})
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"

    async def test_the_last_page_within_the_first_1000_results_is_served(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(
            SEARCH_URL, params={"q": "santiago", "limit": "20", "offset": "980"}
        )
        assert response.status_code == 200
        assert int(response.headers["X-Total-Count"]) >= 0

    async def test_the_repository_takes_raw_operators_as_plain_words(
        self, conn: Connection
    ) -> None:
        # Even words that skipped normalisation are never parsed as tsquery syntax.
        page = await repository.search(conn, SearchParams(q="a:* & !b <-> 'c'"))
        assert page.total >= 0

    async def test_a_long_query_of_unknown_words_skips_the_costly_fallbacks(
        self, conn: Connection
    ) -> None:
        # Found by an adversary: 16 random 61-letter words cost 12 s at 100k companies in the
        # similar-names fallback (a trigram lookup per letter) and 0.1 s in correction.
        await add_company(conn, "Solar Andino")
        words = ["".join(chr(97 + (i * 7 + j * 3) % 26) for j in range(61)) for i in range(16)]
        recording = RecordingConnection(conn)
        page = await repository.search(recording.as_connection(), SearchParams(q=" ".join(words)))
        assert page.total == 0
        assert repository.SELECT_PAGE_SIMILAR not in recording.sql
        assert await repository.correct_words(conn, words) == words  # too long to correct

    @pytest.mark.parametrize(
        ("q", "by_index"),
        [("contador plomero", True), ("solar andino", True), ("solar", False),
         ("accounting", False)],  # a synonym group's word is one lexeme, as a plain word
    )  # fmt: skip
    async def test_several_words_are_read_by_the_word_index(
        self, conn: Connection, q: str, by_index: bool
    ) -> None:
        # At 1,000,000 companies the planner guessed 138,778 matches for the 1,110 of
        # `contador plomero` and read the whole table to count them: 2.3 s, 138 ms by the index.
        await add_company(conn, "Solar Andino", description_es="Contador y plomero.")
        recording = RecordingConnection(conn)
        params = SearchParams(q=q)
        async with conn.transaction(readonly=True):
            search = await repository.search(recording.as_connection(), params)
            facets = await repository.facets(recording.as_connection(), params)
            assert await conn.fetchval("SHOW enable_seqscan") == "on"  # the pages' choice back
        assert (search.total, facets.total) == (1, 1)
        settings = [sql for sql in recording.sql if "enable_seqscan" in sql]
        expected = [repository.BY_WORD_INDEX, repository.BY_PLANNER] * 2  # search, facets
        assert settings == (expected if by_index else [])

    async def test_an_unknown_short_word_finds_nothing(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        # Found by an adversary and a newcomer: `zz`, `TI` or `x` was "corrected" to an
        # arbitrary vocabulary word and listed its companies.
        for q in ("zz", "TI", "x", "77", "ñ"):
            response = await client.get(SEARCH_URL, params={"q": q})
            assert (response.headers["X-Total-Count"], response.json()) == ("0", []), q

    async def test_a_short_last_word_pages_exactly_its_matches(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        # Found by an adversary: with a last word under three letters (no prefix), names that
        # merely started with it filled the first pages beyond the total.
        for index in range(6):
            await add_company(conn, f"Eléctrica Norte {index}")
        await add_company(conn, "Higiene El Tabo")
        await add_company(conn, "Transportes El Roble")
        for q in ("el", "transportes el"):
            everything = await client.get(SEARCH_URL, params={"q": q, "limit": "100"})
            names = [hit["name"] for hit in everything.json()]
            assert int(everything.headers["X-Total-Count"]) == len(names)
            assert not any(name.startswith("Eléctrica") for name in names), q
            paged: list[str] = []
            for offset in range(0, 10, 3):
                page = await client.get(
                    SEARCH_URL, params={"q": q, "limit": "3", "offset": str(offset)}
                )
                paged += [hit["name"] for hit in page.json()]
            assert paged == names, q


class TestFacets:
    async def test_counts_per_commune_and_product_for_the_query(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        response = await client.get(FACETS_URL, params={"q": "servicios"})
        body = response.json()
        total = int(
            (await client.get(SEARCH_URL, params={"q": "servicios"})).headers["X-Total-Count"]
        )
        assert body["total"] == total > 0
        assert sum(c["count"] for c in body["communes"]) == total
        assert sum(p["count"] for p in body["products"]) == total

    async def test_follow_the_filters_and_the_language(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        body = (
            await client.get(FACETS_URL, params={"commune": "Providencia", "lang": "en"})
        ).json()
        assert body["total"] == 3
        assert [c["name"] for c in body["communes"]] == ["Providencia"]
        assert {p["name"] for p in body["products"]} == {
            "Accounting services", "Digital marketing", "Translation and interpreting",
        }  # fmt: skip

    async def test_follow_search_to_similar_names(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        """Found in review: search listed similar names, its facets counted nothing."""
        params = {"q": "softlab valdivia"}
        search = await client.get(SEARCH_URL, params=params)
        assert search.headers["X-Search-Match"] == "similar"
        total = int(search.headers["X-Total-Count"])
        facets = (await client.get(FACETS_URL, params=params)).json()
        assert facets["total"] == total > 0
        assert sum(p["count"] for p in facets["products"]) == total

    async def test_ties_are_in_alphabetical_order_accents_folded(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        """Found in review: 'Ñuñoa' sorted after 'Valparaíso' (raw bytes), unlike the lists."""
        for commune in ("Valparaíso", "Ñuñoa", "Ovalle", "Ancud"):
            await add_company(
                conn, f"Zumbido {commune}", commune_name=commune,
                description_es="Servicio zumbidor de prueba",
            )  # fmt: skip
        body = (await client.get(FACETS_URL, params={"q": "zumbido"})).json()
        assert [c["name"] for c in body["communes"]] == ["Ancud", "Ñuñoa", "Ovalle", "Valparaíso"]


class TestSuggest:
    async def test_completes_products_communes_and_company_names(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        body = (await client.get(SUGGEST_URL, params={"q": "Constru"})).json()
        assert {"text": "Construcción", "kind": "product"}.items() <= body[0].items()
        assert "Constructora Los Andes" in [s["text"] for s in body]
        assert len(body) <= 8

    async def test_in_english(self, client: httpx.AsyncClient, directory: None) -> None:
        body = (await client.get(SUGGEST_URL, params={"q": "plumb", "lang": "en"})).json()
        assert body[0]["text"] == "Plumbing"

    async def test_a_renamed_category_or_commune_is_completed_by_its_new_name(
        self, client: httpx.AsyncClient, conn: Connection, directory: None
    ) -> None:
        # Their folded names are stored (generated columns): a rename refolds them.
        await conn.execute(
            "UPDATE proveo.product SET name_es = 'Obras y edificación' "
            "WHERE name_es = 'Construcción'"
        )
        await conn.execute("UPDATE proveo.commune SET name = 'Ñuñoa Alta' WHERE name = 'Ñuñoa'")
        texts = [s["text"] for s in (await client.get(SUGGEST_URL, params={"q": "edifica"})).json()]
        assert texts[0] == "Obras y edificación"
        texts = [s["text"] for s in (await client.get(SUGGEST_URL, params={"q": "nunoa a"})).json()]
        assert "Ñuñoa Alta" in texts

    async def test_an_empty_prefix_suggests_nothing(self, client: httpx.AsyncClient) -> None:
        assert (await client.get(SUGGEST_URL, params={"q": " "})).json() == []

    async def test_company_names_are_completed_from_a_later_word_too(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        """Found in review: `abog` did not suggest "Ibáñez & Lagos Abogados"."""
        body = (await client.get(SUGGEST_URL, params={"q": "alerta"})).json()
        assert ("Guardias Alerta", "company") in [(s["text"], s["kind"]) for s in body]
        body = (await client.get(SUGGEST_URL, params={"q": "lagos abog"})).json()
        assert body == []  # every typed word must be in the name
        # Legal forms end half the names: they complete nothing.
        body = (await client.get(SUGGEST_URL, params={"q": "ltda"})).json()
        assert [s for s in body if s["kind"] == "company"] == []

    async def test_a_later_word_is_completed_from_a_bounded_number_of_names(
        self, client: httpx.AsyncClient, conn: Connection, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # All of them were read and sorted: `la ser` cost 820 ms at 1,000,000 companies.
        monkeypatch.setattr(repository, "NAME_WORD_CANDIDATES", 4)
        for index in range(8):
            await add_company(conn, f"Taller Ópalo {index}")
        body = (await client.get(SUGGEST_URL, params={"q": "opalo"})).json()
        names = [s["text"] for s in body if s["kind"] == "company"]
        assert len(names) == 3
        assert all(name.startswith("Taller Ópalo ") for name in names)
        assert names == sorted(names)

    async def test_names_that_start_with_the_prefix_come_first(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        for name in ("Eventos Zafiro", "Zafiro Eventos", "Taller Zafiro Azul"):
            await add_company(conn, name)
        body = (await client.get(SUGGEST_URL, params={"q": "zafiro"})).json()
        assert [s["text"] for s in body if s["kind"] == "company"] == [
            "Zafiro Eventos", "Eventos Zafiro", "Taller Zafiro Azul",
        ]  # fmt: skip

    async def test_only_catalogue_entries_with_companies_are_suggested(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        # Found by a newcomer: "Puerto Octay" was offered with no company there (an empty page).
        await add_company(conn, "Hostal Puerto Montt", commune_name="Puerto Montt")
        body = (await client.get(SUGGEST_URL, params={"q": "puerto"})).json()
        assert [(s["text"], s["kind"]) for s in body] == [
            ("Puerto Montt", "commune"), ("Hostal Puerto Montt", "company"),
        ]  # fmt: skip

    async def test_company_names_keep_three_places_beside_the_catalogue(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        # Found by a newcomer: `con` filled all 8 places with products and communes.
        communes = ["Concepción", "Constitución", "Concón", "Contulmo", "Conchalí"]
        for index, commune in enumerate(communes):
            await add_company(conn, f"Empresa {index}", commune_name=commune,
                              product_name="Construcción")  # fmt: skip
        for name in ("Conservas Uno", "Conservas Dos", "Consultores Tres", "Contadores Cuatro"):
            await add_company(conn, name)
        body = (await client.get(SUGGEST_URL, params={"q": "con"})).json()
        kinds = [s["kind"] for s in body]
        assert len(body) == 8
        assert kinds.count("company") == 3
        assert kinds[:5] == ["product", "commune", "commune", "commune", "commune"]
