"""Search by place: the `region` filter and facet, places named in a query (regions, Greater
Santiago, communes), companies that serve a place after those located there, the region offered
when a commune has few results, every category of a company, help when nothing is found, and
the popular categories."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from proveo.catalog.data import COMMUNES, GREATER_SANTIAGO, REGION_METROPOLITANA, REGIONS
from proveo.core.db import Connection
from proveo.search import places, repository
from proveo.search.service import (
    SearchCaches,
    SearchRequest,
    normalise_query,
    popular_products,
    search_companies,
)
from tests.fixtures.database import PinnedDatabase
from tests.fixtures.recording import RecordingConnection
from tests.search.conftest import FACETS_URL, SEARCH_URL, SUGGEST_URL, add_company

POPULAR_URL = "/api/v1/companies/search/popular"
RM = REGION_METROPOLITANA
ALL_CHILE = list(REGIONS)


async def _serve(conn: Connection, name: str, regions: list[str]) -> None:
    await conn.execute(
        "UPDATE proveo.company SET served_regions = $2 WHERE name = $1", name, regions
    )


async def _add_category(conn: Connection, name: str, product_es: str) -> None:
    await conn.execute(
        """
        INSERT INTO proveo.company_product (company_id, product_id)
        SELECT c.id, p.id FROM proveo.company c, proveo.product p
        WHERE c.name = $1 AND p.name_es = $2
        """,
        name,
        product_es,
    )


@pytest.fixture
async def geo(conn: Connection) -> None:
    """Accountants in Providencia and Ñuñoa, one in Valparaíso that serves the Metropolitan
    region, auditors in Concepción that serve all Chile and also keep books; printers across
    Greater Santiago and beyond."""
    accounting = "Servicios contables"
    printing = "Imprenta y publicidad"
    for name, product, commune in (
        ("Contadores Andinos", accounting, "Providencia"),
        ("Balance Contable", accounting, "Ñuñoa"),
        ("Cuentas del Puerto", accounting, "Valparaíso"),
        ("Auditores del Sur", "Auditoría", "Concepción"),
        ("Imprenta Maipú", printing, "Maipú"),
        ("Imprenta Cordillera", printing, "Puente Alto"),
        ("Imprenta Colina", printing, "Colina"),
        ("Imprenta Rancagua", printing, "Rancagua"),
        ("Transportes Viña", "Transporte y logística", "Viña del Mar"),
    ):
        await add_company(
            conn, name, product_name=product, commune_name=commune,
            description_es=f"{name}: servicios para empresas.",
        )  # fmt: skip
    await _serve(conn, "Cuentas del Puerto", [RM])
    await _serve(conn, "Auditores del Sur", ALL_CHILE)
    await _add_category(conn, "Auditores del Sur", accounting)


async def _search(client: httpx.AsyncClient, **params: str) -> httpx.Response:
    response = await client.get(SEARCH_URL, params={"limit": "100", **params})
    assert response.status_code == 200, response.text
    return response


async def _found(client: httpx.AsyncClient, **params: str) -> list[tuple[str, str | None]]:
    return [(hit["name"], hit["match"]) for hit in (await _search(client, **params)).json()]


async def _facets(client: httpx.AsyncClient, **params: str) -> dict[str, object]:
    response = await client.get(FACETS_URL, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


class TestGreaterSantiagoList:
    def test_has_the_32_communes_of_the_province_and_puente_alto_and_san_bernardo(self) -> None:
        metropolitan = {name for name, region in COMMUNES if region == RM}
        assert len(GREATER_SANTIAGO) == len(set(GREATER_SANTIAGO)) == 34
        assert set(GREATER_SANTIAGO) <= metropolitan
        assert {"Puente Alto", "San Bernardo", "Santiago", "Maipú"} <= set(GREATER_SANTIAGO)
        assert "Colina" not in GREATER_SANTIAGO


class TestReadPlaces:
    @pytest.mark.parametrize(
        ("query", "words", "region", "greater"),
        [
            ("imprenta santiago", ("imprenta",), None, True),
            ("imprenta en gran santiago", ("imprenta",), None, True),
            ("accountant in greater santiago", ("accountant",), None, True),
            ("region metropolitana", (), RM, False),
            ("contador metropolitana", ("contador",), RM, False),
            ("contador region metropolitana de santiago", ("contador",), RM, False),
            ("transporte region de valparaiso", ("transporte",), "Valparaíso", False),
            # A region's name that is also a commune's stays a word without "región".
            ("transporte valparaiso", ("transporte", "valparaiso"), None, False),
            ("contador araucania", ("contador",), "La Araucanía", False),
            # Part of a commune's name is still the region ("Alto Biobío", "San Pedro de
            # Atacama"); the commune typed whole is the commune.
            ("construccion biobio", ("construccion",), "Biobío", False),
            ("hotel atacama", ("hotel",), "Atacama", False),
            ("hotel san pedro de atacama", ("hotel", "san", "pedro", "de", "atacama"), None, False),
            ("turismo alto biobio", ("turismo", "alto", "biobio"), None, False),
            ("contador providencia", ("contador", "providencia"), None, False),
        ],
    )
    def test_regions_and_greater_santiago_become_filters(
        self, query: str, words: tuple[str, ...], region: str | None, greater: bool
    ) -> None:
        read = places.read_places(query.split(), normalise_query)
        assert (read.words, read.region, read.greater_santiago) == (words, region, greater)

    @pytest.mark.parametrize("query", ["arquitecto santiago centro", "arquitecto stgo centro"])
    def test_santiago_centro_is_the_commune_of_santiago(self, query: str) -> None:
        read = places.read_places(query.split(), normalise_query)
        assert (read.words, read.commune, read.greater_santiago) == (
            ("arquitecto", "santiago"),
            "Santiago",
            False,
        )

    def test_a_commune_is_reported_and_kept_as_words(self) -> None:
        read = places.read_places(["contador", "las", "condes"], normalise_query)
        assert read.commune == "Las Condes"
        assert read.words == ("contador", "las", "condes")

    @pytest.mark.parametrize(
        "value",
        [
            "metropolitana",
            "Metropolitana de Santiago",
            "METROPOLITANA-DE-SANTIAGO",
            "región metropolitana",
            "RM",
        ],
    )
    def test_the_region_filter_takes_names_short_names_and_slugs(self, value: str) -> None:
        assert places.resolve_region(value, normalise_query) == RM

    def test_every_region_resolves_from_its_slug(self) -> None:
        for region in REGIONS:
            assert (
                places.resolve_region(places.region_slug(region, normalise_query), normalise_query)
                == region
            )


class TestRegionFilter:
    async def test_finds_the_companies_located_there_then_those_that_serve_it(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        found = await _found(client, region="metropolitana", q="contables")
        assert found == [
            ("Balance Contable", "located"),
            ("Contadores Andinos", "located"),
            ("Auditores del Sur", "serves"),
            ("Cuentas del Puerto", "serves"),
        ]

    async def test_accents_and_case_do_not_matter(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        expected = await _found(client, region="valparaiso")
        assert [name for name, _ in expected] == [
            "Cuentas del Puerto", "Transportes Viña", "Auditores del Sur",
        ]  # fmt: skip
        assert await _found(client, region="Región de VALPARAÍSO") == expected

    async def test_an_unknown_region_is_a_422_that_lists_them(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(SEARCH_URL, params={"region": "Atlántida"})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["type"] == "unknown_region"
        assert "metropolitana-de-santiago" in error["msg"]
        assert "los-rios" in error["msg"]
        facets = await client.get(FACETS_URL, params={"region": "Atlántida"})
        assert facets.status_code == 422

    async def test_facets_of_only_serving_companies_are_not_of_similar_names(
        self, client: httpx.AsyncClient, conn: Connection, geo: None
    ) -> None:
        # Found in review: no company located there matched, so facets counted the names like
        # the query there, which search never lists: it lists the one that serves the region.
        await add_company(conn, "Mudanzas Sur Express", commune_name="Concepción",
                          description_es="Fletes.")  # fmt: skip
        await _serve(conn, "Mudanzas Sur Express", [RM])
        await add_company(conn, "Mudanzas Sur", commune_name="Maipú", description_es="Fletes.")
        assert await conn.fetchval("SELECT 'mudanzas sur' % 'mudanzas sur express'")
        found = await _found(client, region="metropolitana", q="mudanzas sur express")
        assert found == [("Mudanzas Sur Express", "serves")]
        facets = await _facets(client, region="metropolitana", q="mudanzas sur express")
        assert (facets["total"], facets["match"], facets["communes"]) == (0, "words", [])

    async def test_facets_of_corrected_words_that_only_serve_offer_no_help_for_nothing(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        # Found in review: the serving companies were counted with the words as typed, so the
        # facets said nothing was found (related categories) while search listed them.
        found = await _found(client, region="metropolitana", q="auditorez")
        assert found == [("Auditores del Sur", "serves")]
        facets = await _facets(client, region="metropolitana", q="auditorez")
        assert (facets["match"], facets["total"], facets["related_products"]) == (
            "corrected", 0, [],
        )  # fmt: skip

    async def test_pages_run_across_located_and_serving_companies(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        everything = await _found(client, region="metropolitana", q="contables")
        pages = []
        for offset in range(4):
            pages += await _found(client, region="metropolitana", q="contables", limit="1",
                                  offset=str(offset))  # fmt: skip
        assert pages == everything
        response = await _search(client, region="metropolitana", q="contables", limit="1")
        assert response.headers["X-Total-Count"] == "4"

    async def test_located_and_serving_together_still_stop_counting_at_the_limit(
        self, client: httpx.AsyncClient, geo: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Found in review: each scope counted up to the limit, and 10,744 was called exact.
        monkeypatch.setattr(repository, "COUNT_LIMIT", 3)
        response = await _search(client, region="metropolitana", q="contables")
        assert len(response.json()) == 4
        assert response.headers["X-Total-Count"] == "3"
        assert response.headers["X-Total-Count-Exact"] == "false"

    async def test_facets_count_regions(self, client: httpx.AsyncClient, geo: None) -> None:
        body = await _facets(client, q="imprenta")
        assert body["regions"] == [
            {"slug": "metropolitana-de-santiago", "name": RM, "count": 3},
            {"slug": "libertador-general-bernardo-o-higgins",
             "name": "Libertador General Bernardo O'Higgins", "count": 1},
        ]  # fmt: skip
        filtered = await _facets(client, q="imprenta", region="metropolitana")
        assert filtered["total"] == 3
        assert filtered["place"] == {
            "kind": "region", "name": RM, "slug": "metropolitana-de-santiago", "from_query": False,
            "words_place_kind": None, "words_place_name": None,
        }  # fmt: skip


class TestPlacesInTheQuery:
    async def test_santiago_means_greater_santiago(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        expected = [("Imprenta Cordillera", "located"), ("Imprenta Maipú", "located")]
        assert await _found(client, q="imprenta santiago") == expected
        assert await _found(client, q="Imprenta Gran Santiago") == expected
        assert (await _facets(client, q="imprenta santiago"))["place"] == {
            "kind": "greater_santiago", "name": "Gran Santiago", "slug": None, "from_query": True,
            "words_place_kind": None, "words_place_name": None,
        }  # fmt: skip

    async def test_santiago_centro_finds_the_commune_of_santiago(
        self, client: httpx.AsyncClient, geo: None, conn: Connection
    ) -> None:
        await add_company(
            conn, "Imprenta Alameda", product_name="Imprenta y publicidad",
            commune_name="Santiago", description_es="Imprenta en el centro.",
        )  # fmt: skip
        assert await _found(client, q="imprenta santiago centro") == [("Imprenta Alameda", None)]
        assert await _found(client, q="santiago centro") == [("Imprenta Alameda", None)]

    async def test_santiago_centro_needs_no_centro_in_the_profile(
        self, client: httpx.AsyncClient, geo: None, conn: Connection
    ) -> None:
        # Found in review: "centro" stayed a word to match, and found nothing.
        await add_company(
            conn, "Estudio Bravo Arquitectos", commune_name="Santiago",
            description_es="Arquitectura y diseño de oficinas.",
        )  # fmt: skip
        expected = [("Estudio Bravo Arquitectos", None)]
        assert await _found(client, q="arquitectos santiago centro") == expected
        assert await _found(client, q="arquitectos stgo centro") == expected

    async def test_a_region_name_is_a_region_filter(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        found = await _found(client, q="imprenta región metropolitana")
        assert [name for name, _ in found] == [
            "Imprenta Colina", "Imprenta Cordillera", "Imprenta Maipú",
        ]  # fmt: skip
        assert [name for name, _ in await _found(client, q="región metropolitana")] == [
            "Balance Contable", "Contadores Andinos", "Imprenta Colina", "Imprenta Cordillera",
            "Imprenta Maipú", "Auditores del Sur", "Cuentas del Puerto",
        ]  # fmt: skip

    async def test_an_explicit_place_filter_leaves_the_words_alone(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        place = (await _facets(client, q="imprenta santiago", region="ohiggins"))["place"]
        assert place == {
            "kind": "region", "name": "Libertador General Bernardo O'Higgins",
            "slug": "libertador-general-bernardo-o-higgins", "from_query": False,
            # Searched in the filter's region; Greater Santiago, named by the words, is offered.
            "words_place_kind": "greater_santiago", "words_place_name": "Gran Santiago",
        }  # fmt: skip
        assert "Imprenta Maipú" not in [
            n for n, _ in await _found(client, q="imprenta santiago", region="ohiggins")
        ]

    async def test_a_place_among_the_words_gives_way_to_the_filter(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        # Found by a review: `contador gran santiago` with the region picked among the facets
        # searched `gran` too, and found only similar names.
        for filters in ({"region": "metropolitana"}, {"commune": "maipu"}, {"region": "ohiggins"}):
            expected = await _found(client, q="imprenta", **filters)
            for q in ("imprenta gran santiago", "imprenta en greater santiago",
                      "imprenta region metropolitana"):  # fmt: skip
                assert await _found(client, q=q, **filters) == expected, (q, filters)
        assert await _found(client, q="imprenta", region="metropolitana") != []

    async def test_another_place_among_the_words_is_named_beside_the_filter(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        """Found by adversaries: with a filter kept from an earlier search, `region de
        valparaiso` (then `gran santiago`) typed in the words was dropped without a word."""
        for filters in ({"region": "metropolitana"}, {"commune": "maipu"}):
            place = (await _facets(client, q="imprenta region de valparaiso", **filters))["place"]
            assert place["from_query"] is False
            named = (place["words_place_kind"], place["words_place_name"])
            assert named == ("region", "Valparaíso"), filters
        away = (await _facets(client, q="imprenta gran santiago", region="valparaiso"))["place"]
        assert (away["words_place_kind"], away["words_place_name"]) == (
            "greater_santiago", "Gran Santiago",
        )  # fmt: skip
        # The words' place within the filter's region, or the same region: nothing to offer.
        for q, filters in (
            ("imprenta region metropolitana", {"region": "metropolitana"}),
            ("imprenta gran santiago", {"region": "metropolitana"}),
            ("imprenta gran santiago", {"commune": "maipu"}),
        ):
            assert (await _facets(client, q=q, **filters))["place"]["words_place_kind"] is None


class TestCommuneFilter:
    async def test_also_finds_companies_that_serve_its_region_after_those_located_there(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        found = await _found(client, commune="providencia", product="servicios contables")
        assert found == [
            ("Contadores Andinos", "located"),
            ("Auditores del Sur", "serves"),
            ("Cuentas del Puerto", "serves"),
        ]

    async def test_a_commune_outside_the_region_filter_is_refused(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        # Found in review: Arica with the Metropolitan region listed the region's companies
        # as serving it, and the facets said none.
        for url in (SEARCH_URL, FACETS_URL):
            response = await client.get(url, params={"region": "metropolitana", "commune": "arica"})
            assert response.status_code == 422
            [error] = response.json()["detail"]
            assert error["type"] == "commune_not_in_region"
            assert error["msg"] == f"Arica is not in {RM}"
        # The commune's own region with it changes nothing.
        same = await _found(client, region="metropolitana", commune="providencia", q="contables")
        assert same == await _found(client, commune="providencia", q="contables")
        assert ("Contadores Andinos", "located") in same

    async def test_without_a_place_filter_hits_carry_no_match(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        assert {match for _, match in await _found(client, q="imprenta")} == {None}

    async def test_few_results_offer_the_same_search_in_its_region(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        response = await _search(client, q="contador", commune="ñuñoa")
        assert response.headers["X-Total-Count"] == "3"  # Balance Contable and two that serve
        response = await _search(client, q="imprenta", commune="maipu")
        assert response.headers["X-Total-Count"] == "1"
        assert response.headers["X-Search-Region-Offer"] == "metropolitana-de-santiago"
        offer = (await _facets(client, q="imprenta", commune="maipu"))["region_offer"]
        assert offer == {
            "slug": "metropolitana-de-santiago", "name": RM, "count": 3, "count_exact": True,
            "commune": "Maipú", "q": "imprenta",
        }  # fmt: skip

    async def test_contador_providencia_finds_the_accountant_and_offers_the_region(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        response = await _search(client, q="contador providencia")
        assert [hit["name"] for hit in response.json()] == ["Contadores Andinos"]
        assert response.headers["X-Search-Region-Offer"] == "metropolitana-de-santiago"
        offer = (await _facets(client, q="contador providencia"))["region_offer"]
        assert offer == {
            "slug": "metropolitana-de-santiago", "name": RM, "count": 4, "count_exact": True,
            "commune": "Providencia", "q": "contador",
        }  # fmt: skip

    async def test_names_similar_to_the_query_still_offer_its_region(
        self, client: httpx.AsyncClient, conn: Connection, geo: None
    ) -> None:
        # Found in review: `abogado corral` listed lawyers across Chile whose names looked like
        # "corral", and the region's own lawyers were not offered.
        await add_company(conn, "Libros al Día", product_name="Servicios contables",
                          commune_name="Rengo", description_es="Contabilidad.")  # fmt: skip
        response = await _search(client, q="contador rancagua")
        assert response.headers["X-Search-Match"] == "similar"
        assert [hit["name"] for hit in response.json()] == ["Imprenta Rancagua"]
        region = "libertador-general-bernardo-o-higgins"
        assert response.headers["X-Search-Region-Offer"] == region
        facets = await _facets(client, q="contador rancagua")
        assert facets["match"] == "similar"
        assert facets["region_offer"] == {
            "slug": region, "name": "Libertador General Bernardo O'Higgins", "count": 2,
            "count_exact": True, "commune": "Rancagua",
            "q": "contador",  # Libros al Día and the auditors serving
        }  # fmt: skip

    async def test_a_misspelt_trade_still_offers_its_region(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        # Found in review: the region was counted with the words as typed, which match nothing.
        response = await _search(client, q="imprenat maipu")
        assert response.headers["X-Search-Match"] == "corrected"
        assert response.headers["X-Search-Region-Offer"] == "metropolitana-de-santiago"
        offer = (await _facets(client, q="imprenat maipu"))["region_offer"]
        assert (offer["count"], offer["count_exact"], offer["q"]) == (3, True, "imprenat")

    async def test_an_offer_past_the_count_limit_says_more_than(
        self, client: httpx.AsyncClient, geo: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Found in review: located and serving were added past the limit and called exact.
        monkeypatch.setattr(repository, "COUNT_LIMIT", 2)
        offer = (await _facets(client, q="imprenta", commune="maipu"))["region_offer"]
        assert (offer["count"], offer["count_exact"]) == (2, False)

    async def test_enough_results_offer_nothing(self, client: httpx.AsyncClient, geo: None) -> None:
        response = await _search(client, commune="providencia", product="servicios contables")
        assert "X-Search-Region-Offer" not in response.headers
        body = await _facets(client, commune="providencia", product="servicios contables")
        assert body["region_offer"] is None


class TestCategories:
    async def test_the_category_filter_matches_any_of_a_companys_categories(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        names = [name for name, _ in await _found(client, product="servicios contables")]
        assert names == [
            "Auditores del Sur", "Balance Contable", "Contadores Andinos", "Cuentas del Puerto",
        ]  # fmt: skip
        products = (await _facets(client, q="auditores"))["products"]
        assert {p["name"] for p in products} == {"Auditoría", "Servicios contables"}

    async def test_a_category_some_company_lists_second_is_suggested(
        self, client: httpx.AsyncClient, conn: Connection, geo: None
    ) -> None:
        # Suggestions check a category's companies by its primary ones first, then by the
        # categories listed second or third: Gasfitería is only one company's second.
        await _add_category(conn, "Transportes Viña", "Gasfitería")
        response = await client.get(SUGGEST_URL, params={"q": "gasfit"})
        assert ("Gasfitería", "product") in [(s["text"], s["kind"]) for s in response.json()]
        response = await client.get(SUGGEST_URL, params={"q": "plagas"})
        assert [s for s in response.json() if s["kind"] == "product"] == []

    async def test_the_words_find_a_company_by_an_extra_category(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        assert "Auditores del Sur" in [name for name, _ in await _found(client, q="contador")]

    async def test_a_category_in_a_region_or_greater_santiago_lists_located_then_serving(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        accounting = "servicios contables"
        expected = [
            ("Balance Contable", "located"),
            ("Contadores Andinos", "located"),
            ("Auditores del Sur", "serves"),
            ("Cuentas del Puerto", "serves"),
        ]
        assert await _found(client, product=accounting, region="metropolitana") == expected
        assert await _found(client, product=accounting, q="gran santiago") == expected
        second = await _search(client, product=accounting, region="metropolitana", limit="1",
                               offset="2")  # fmt: skip
        assert [hit["name"] for hit in second.json()] == ["Auditores del Sur"]
        assert second.headers["X-Total-Count"] == "4"
        printers = await _found(client, product="imprenta y publicidad", q="santiago")
        # Colina is in the Metropolitan region, not in Greater Santiago.
        assert printers == [("Imprenta Cordillera", "located"), ("Imprenta Maipú", "located")]

    async def test_each_company_has_a_category_row_per_category_that_follows_it(
        self, conn: Connection, geo: None
    ) -> None:
        """`company_search_category` (the category filter's table) holds the search rows'
        categories, and `company_search_served` their categories and served regions, whatever
        changed: a category added, a name, served regions, a region, a deletion."""
        rows = """
            SELECT company_id, product_id, commune_id, region, name_key, served_regions
            FROM proveo.company_search_category ORDER BY company_id, product_id
        """
        expected = """
            SELECT s.company_id, listed.id AS product_id, s.commune_id, s.region, s.name_key,
                   s.served_regions
            FROM proveo.company_search s, unnest(s.product_ids) AS listed(id)
            ORDER BY s.company_id, listed.id
        """
        served = """
            SELECT company_id, product_id, served_region, commune_id, region, name_key
            FROM proveo.company_search_served ORDER BY 1, 2, 3
        """
        expected_served = """
            SELECT s.company_id, listed.id, served.region, s.commune_id, s.region, s.name_key
            FROM proveo.company_search s, unnest(s.product_ids) AS listed(id),
                 unnest(s.served_regions) AS served(region)
            ORDER BY 1, 2, 3
        """
        assert len(await conn.fetch(rows)) == 10
        assert await conn.fetch(rows) == await conn.fetch(expected)
        # Cuentas del Puerto serves one region, Auditores del Sur all 16 in its two categories.
        assert len(await conn.fetch(served)) == 1 + 2 * 16
        assert await conn.fetch(served) == await conn.fetch(expected_served)
        await _add_category(conn, "Transportes Viña", "Gasfitería")
        await conn.execute(
            "UPDATE proveo.company SET name = 'Viña Cargo' WHERE name = 'Transportes Viña'"
        )
        await _serve(conn, "Imprenta Colina", ALL_CHILE)
        await conn.execute("UPDATE proveo.commune SET region = 'Maule' WHERE name = 'Colina'")
        await conn.execute(
            "UPDATE proveo.company SET deleted_at = now() WHERE name = 'Imprenta Rancagua'"
        )
        assert len(await conn.fetch(rows)) == 10
        assert await conn.fetch(rows) == await conn.fetch(expected)
        assert len(await conn.fetch(served)) == 1 + 2 * 16 + 16
        assert await conn.fetch(served) == await conn.fetch(expected_served)


class TestZeroResults:
    async def test_offer_related_categories_where_the_words_find_companies(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        params = {"q": "imprenta", "region": "aysen"}
        assert (await _search(client, **params)).headers["X-Total-Count"] == "0"
        body = await _facets(client, **params)
        assert [p["name"] for p in body["related_products"]] == ["Imprenta y publicidad"]

    async def test_a_commune_among_the_words_is_no_word_a_category_must_match(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        """Found by the newcomer: `contador providencia` offered the popular categories."""
        params = {"q": "auditoria maipu"}
        assert (await _search(client, **params)).headers["X-Total-Count"] == "0"
        body = await _facets(client, **params)
        assert body["related_with_query"] is True
        assert [p["name"] for p in body["related_products"]] == ["Auditoría", "Servicios contables"]

    async def test_words_that_find_nothing_anywhere_offer_the_popular_categories(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        body = await _facets(client, q="zzzqqq", product="transporte y logistica")
        related = [p["name"] for p in body["related_products"]]
        assert related
        assert "Transporte y logística" not in related
        assert related[:2] == ["Servicios contables", "Imprenta y publicidad"]


class TestPopular:
    async def test_without_statistics_the_categories_with_most_companies(
        self, client: httpx.AsyncClient, geo: None
    ) -> None:
        response = await client.get(POPULAR_URL, params={"lang": "en"})
        assert response.status_code == 200
        assert [p["name"] for p in response.json()] == [
            "Accounting services", "Printing and advertising", "Transport and logistics",
            "Auditing",
        ]  # fmt: skip

    async def test_the_most_searched_categories_come_first(
        self, client: httpx.AsyncClient, conn: Connection, geo: None
    ) -> None:
        today = datetime.now(UTC).date()
        for query, searches in (("transporte", 40), ("auditoria santiago", 30), ("contador", 5)):
            await conn.execute(
                "INSERT INTO proveo.search_query_stat (day, query, searches, zero_results) "
                "VALUES ($1, $2, $3, 0)",
                today, query, searches,
            )  # fmt: skip
        response = await client.get(POPULAR_URL, params={"limit": "3"})
        assert [p["name"] for p in response.json()] == [
            "Transporte y logística", "Auditoría", "Servicios contables",
        ]  # fmt: skip
        assert response.json()[0]["searches"] == 40

    async def test_every_limit_is_a_slice_of_one_read_per_language(
        self, conn: Connection, geo: None
    ) -> None:
        # Found in review: each limit was a read of its own (24 a minute per worker).
        caches = SearchCaches.create()
        recording = RecordingConnection(conn)
        database = PinnedDatabase(recording.as_connection())
        lists = [await popular_products(database, caches, "es", n) for n in range(1, 13)]
        assert recording.sql.count(repository.SELECT_POPULAR) == 1
        assert all(lists[n - 1] == lists[-1][:n] for n in range(1, 13))
        await popular_products(database, caches, "en", 4)
        assert recording.sql.count(repository.SELECT_POPULAR) == 2


class TestFreshness:
    """The index follows served regions and extra categories within 2 s."""

    async def _until(
        self, client: httpx.AsyncClient, name: str, present: bool, **params: str
    ) -> float:
        started = time.monotonic()
        while True:
            names = [n for n, _ in await _found(client, **params)]
            if (name in names) == present:
                return time.monotonic() - started
            assert time.monotonic() - started < 2.0, f"{name} still stale for {params}"
            await asyncio.sleep(0.05)

    async def test_served_regions_and_categories_reach_search_within_2_seconds(
        self, client: httpx.AsyncClient, conn: Connection, geo: None
    ) -> None:
        await self._until(client, "Transportes Viña", False, region="magallanes")
        await _serve(conn, "Transportes Viña", ["Magallanes y de la Antártica Chilena"])
        await self._until(client, "Transportes Viña", True, region="magallanes")

        await self._until(client, "Transportes Viña", False, product="courier y mensajeria")
        await _add_category(conn, "Transportes Viña", "Courier y mensajería")
        await self._until(client, "Transportes Viña", True, product="courier y mensajeria")
        await conn.execute(
            "DELETE FROM proveo.company_product WHERE company_id = "
            "(SELECT id FROM proveo.company WHERE name = 'Transportes Viña')"
        )
        await self._until(client, "Transportes Viña", False, product="courier y mensajeria")

    async def test_a_commune_moved_to_another_region_moves_its_companies(
        self, client: httpx.AsyncClient, conn: Connection, geo: None
    ) -> None:
        await conn.execute("UPDATE proveo.commune SET region = 'Maule' WHERE name = 'Colina'")
        assert ("Imprenta Colina", "located") in await _found(client, region="maule")


_PAGE_STATEMENTS = {*repository.SELECT_PAGES.values(), repository.SELECT_PAGE_FEW}


class TestQueryCount:
    async def test_a_page_across_both_scopes_costs_two_counts_and_two_pages(
        self, conn: Connection, geo: None
    ) -> None:
        caches = SearchCaches.create()
        recording = RecordingConnection(conn)
        database = PinnedDatabase(recording.as_connection())
        request = SearchRequest("contables", None, None, "es", limit=3, region="metropolitana")
        page = await search_companies(database, caches, None, request)
        assert [hit.match for hit in page.items] == ["located", "located", "serves"]
        counts = recording.sql.count(repository.COUNT_MATCHES)
        pages = sum(sql in _PAGE_STATEMENTS for sql in recording.sql)
        # The last word's completions are looked up once for both counts.
        completions = recording.sql.count(repository.SELECT_COMPLETIONS)
        assert (counts, pages, completions, len(recording.sql)) == (2, 2, 1, 5)
        # Within the located companies alone: one page; no place filter: one count.
        recording.statements.clear()
        await search_companies(
            database, caches, None, replace(request, limit=2, offset=0, q="contable")
        )
        assert sum(sql in _PAGE_STATEMENTS for sql in recording.sql) == 1
        recording.statements.clear()
        await search_companies(database, caches, None, replace(request, region=None))
        assert recording.sql.count(repository.COUNT_MATCHES) == 1
