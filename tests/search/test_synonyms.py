"""Synonym groups and abbreviations: what buyers type finds what providers wrote."""

from __future__ import annotations

import httpx
import pytest

from proveo.core.db import Connection
from proveo.search import repository
from proveo.search.service import normalise_query
from proveo.search.synonyms import (
    ABBREVIATIONS,
    SYNONYM_GROUPS,
    completions,
    expand,
    group_lexeme,
    grouped,
)
from tests.search.conftest import FACETS_URL, SEARCH_URL, SUGGEST_URL, add_company


class TestExpand:
    def test_a_word_of_a_group_lists_the_others_after_itself(self) -> None:
        assert expand(["plomero", "nunoa"]) == [
            "plomero|gasfiter|gasfiteria|plomeria|fontanero|fontaneria|plumber|plumbing",
            "nunoa",
        ]

    def test_a_phrase_becomes_one_element(self) -> None:
        assert expand(["aire", "acondicionado", "santiago"]) == [
            "aire acondicionado|climatizacion|hvac|air conditioning",
            "santiago",
        ]

    def test_abbreviations_expand_one_way(self) -> None:
        assert expand(["pto", "montt"]) == ["pto|puerto", "montt"]
        assert expand(["puerto", "montt"]) == ["puerto", "montt"]
        assert expand(["valpo"]) == ["valpo|valparaiso"]

    def test_phrases_hold_only_specific_words(self) -> None:
        """Found in review: `moving company` matched any profile with `moving` and `company`
        (a phrase's words need not be side by side), and freight sat beside house moving."""
        phrases = [entry for group in SYNONYM_GROUPS for entry in group if " " in entry]
        generic = {"company", "empresa", "servicio", "servicios", "firm"}
        assert not [phrase for phrase in phrases if set(phrase.split()) & generic]
        assert not [group for group in SYNONYM_GROUPS if "mudanza" in group]

    def test_entries_are_folded_as_queries_are_and_in_one_group_only(self) -> None:
        entries = [entry for group in SYNONYM_GROUPS for entry in group]
        entries += [*ABBREVIATIONS, *ABBREVIATIONS.values()]
        assert all(normalise_query(entry) == entry for entry in entries)
        grouped = [entry for group in SYNONYM_GROUPS for entry in group]
        assert len(grouped) == len(set(grouped))


class TestCompletions:
    def test_a_prefix_of_an_entry_brings_its_group(self) -> None:
        assert "gasfiteria" in completions("plomer")
        assert "recursos humanos" in completions("rrhh")
        assert completions("pto") == ["puerto"]
        assert completions("pto mon") == ["puerto mon"]

    def test_short_or_unknown_prefixes_bring_nothing(self) -> None:
        assert completions("pl") == []
        assert completions("zzz") == []

    def test_what_the_buyer_types_is_not_repeated(self) -> None:
        assert not [entry for entry in completions("gasfit") if entry.startswith("gasfit")]


class TestSearchQueryFunction:
    @pytest.mark.parametrize(
        ("words", "same_as"),
        [
            # A stop word before the last word is dropped, as before alternatives existed.
            (["control", "de", "plagas"], ["control", "plagas"]),
            # Alternatives never change what the typed word itself matches.
            (["plomero|gasfiter"], ["plomero"]),
        ],
    )
    async def test_typed_words_keep_their_meaning(
        self, conn: Connection, words: list[str], same_as: list[str]
    ) -> None:
        query = "SELECT proveo.search_query($1::text[])::text"
        built, plain = await conn.fetchval(query, words), await conn.fetchval(query, same_as)
        assert plain in built

    async def test_alternatives_are_ored_and_phrases_anded(self, conn: Connection) -> None:
        built = await conn.fetchval(
            "SELECT proveo.search_query($1::text[])::text",
            ["rrhh|recursos humanos", "santiago"],
        )
        assert "'rrhh' | 'rrhh:*'" not in built  # only the last typed word is a prefix
        assert all(part in built for part in ("'recursos'", "'human'", "&"))
        assert await conn.fetchval(
            "SELECT to_tsvector('simple', 'recursos humanos santiago') @@ proveo.search_query($1)",
            ["rrhh|recursos humanos", "santiago"],
        )

    async def test_a_typed_stop_word_drops_its_alternatives_too(self, conn: Connection) -> None:
        built = await conn.fetchval(
            "SELECT proveo.search_query($1::text[])::text", ["de|gasfiter", "plagas"]
        )
        assert "gasfiter" not in built

    async def test_a_word_names_each_lexeme_once(self, conn: Connection) -> None:
        query = "SELECT proveo.search_word_query($1, $2)::text"
        assert await conn.fetchval(query, "cia", False) == "'cia'"
        # A prefix stands for the word and for the stems it begins.
        assert await conn.fetchval(query, "ltda", True) == "'ltda':*"
        stems = "'servicios' | 'servici' | 'servicio'"
        assert await conn.fetchval(query, "servicios", False) == stems

    async def test_alternatives_name_each_lexeme_once(self, conn: Connection) -> None:
        query = "SELECT proveo.search_query($1::text[])::text"
        built = await conn.fetchval(query, ["=electrica|electrical|electricas", "transpor"])
        assert built.count("'electr'") == 1
        assert built.count("'electrica'") == 1
        assert "'transpor':*" in built
        # A phrase among the alternatives keeps its words ANDed.
        phrase = await conn.fetchval(query, ["rrhh|recursos humanos|recursos"])
        assert "&" in phrase

    async def test_alternatives_match_what_each_of_them_matches(self, conn: Connection) -> None:
        texts = ["Instalaciones eléctricas", "Electrical works", "Transportes del Sur",
                 "Recursos humanos", "Recursos mineros", "Electricidad"]  # fmt: skip
        elements = ["=electrica|electrical|electricas", "transporte|transportes",
                    "rrhh|recursos humanos", "electric"]  # fmt: skip
        matches = """
            SELECT d.text, e.element,
                   doc @@ proveo.search_query(ARRAY[e.element]) AS together,
                   EXISTS (SELECT 1 FROM unnest(string_to_array(ltrim(e.element, '='), '|')) a
                           WHERE doc @@ proveo.search_query(ARRAY['=' || a])) AS alone
            FROM unnest($1::text[]) AS d(text), unnest($2::text[]) AS e(element),
                 LATERAL (SELECT proveo.search_vector(d.text) || to_tsvector('spanish', d.text)
                          || to_tsvector('english', d.text) AS doc) AS v
        """
        rows = await conn.fetch(matches, texts, elements)
        assert [r for r in rows if r["together"] != r["alone"]] == []
        assert sum(r["together"] for r in rows) >= 5

    async def test_what_a_word_matches_is_unchanged(self, conn: Connection) -> None:
        # Every form joined, repeats and all, as before each lexeme was named once.
        every_form = """
            SELECT d.text, w.word, w.prefix
            FROM unnest($1::text[]) AS d(text), unnest($2::text[]) AS words(word),
                 unnest(ARRAY[false, true]) AS prefixes(prefix),
                 LATERAL (SELECT words.word, prefixes.prefix) AS w
            WHERE (proveo.search_vector(d.text) || to_tsvector('spanish', d.text)
                   || to_tsvector('english', d.text)) @@ {query}
            ORDER BY 1, 2, 3
        """
        old = """(quote_literal(w.word)::tsquery
            || CASE WHEN w.prefix AND char_length(w.word) >= 3
                    THEN (quote_literal(w.word) || ':*')::tsquery
                    ELSE quote_literal(w.word)::tsquery END
            || coalesce(quote_literal((ts_lexize('spanish_stem', w.word))[1])::tsquery,
                        quote_literal(w.word)::tsquery)
            || coalesce(quote_literal((ts_lexize('english_stem', w.word))[1])::tsquery,
                        quote_literal(w.word)::tsquery))"""
        texts = [
            "Contadores Asociados Ltda", "Servicios de contabilidad", "Cía. Constructora",
            "Accounting and bookkeeping services", "Ltdas y limitadas", "Servicio técnico",
            "Constructores del sur", "Plumbing works", "Servir", "Contabilizar",
        ]  # fmt: skip
        words = ["cia", "ltda", "contador", "contabilidad", "servicios", "servicio", "constr",
                 "accounting", "plumbing", "account", "servir", "conta"]  # fmt: skip
        before = await conn.fetch(every_form.format(query=old), texts, words)
        now = await conn.fetch(
            every_form.format(query="proveo.search_word_query(w.word, w.prefix)"), texts, words
        )
        assert len(before) > 20
        assert [tuple(row) for row in now] == [tuple(row) for row in before]


CLEANING = next(group for group in SYNONYM_GROUPS if "aseo" in group)


class TestGroupLexemes:
    async def test_the_index_has_the_groups_synonyms_py_has(self, conn: Connection) -> None:
        """A group changed in `synonyms.py` needs a migration that changes the index's too:
        a query would carry a lexeme no company has."""
        rows = await conn.fetch("SELECT lexeme, entries FROM proveo.search_synonym_group")
        assert {row["lexeme"]: tuple(row["entries"]) for row in rows} == {
            group_lexeme(group): group for group in SYNONYM_GROUPS
        }

    def test_a_group_word_carries_the_groups_lexeme_after_itself(self) -> None:
        lexeme = group_lexeme(CLEANING)
        assert grouped(expand(["limpieza", "maipu"])) == [f"limpieza|{lexeme}", "maipu"]
        assert grouped(expand(["pto", "montt"])) == ["pto|puerto", "montt"]

    async def test_the_lexeme_replaces_the_entries_and_a_typed_prefix_stays(
        self, conn: Connection
    ) -> None:
        query = "SELECT proveo.search_query($1::text[])::text"
        lexeme = group_lexeme(CLEANING)
        before_last = await conn.fetchval(query, [f"limpieza|{lexeme}", "maipu"])
        assert f"'{lexeme}'" in before_last
        assert "limpiez" not in before_last
        assert "'limpieza':*" in await conn.fetchval(query, [f"limpieza|{lexeme}"])
        assert "limpiez" not in await conn.fetchval(query, [f"=limpieza|{lexeme}"])

    async def test_a_text_matches_the_lexeme_where_it_matched_the_entries(
        self, conn: Connection
    ) -> None:
        texts = ["Servicios de limpieza industrial", "Janitorial services", "Aseos del Sur",
                 "Control integral de plagas", "Pest control", "Contabilidad y auditoría",
                 "Asesorías contables", "Limpiezas Australes", "Plomería",
                 "Ferretería"]  # fmt: skip
        words = ["aseo", "limpieza", "contabilidad", "contable", "control de plagas", "plomero"]
        elements = [
            (marker + element, marker + typed)
            for element, typed in ((expand(w.split())[0], grouped(expand(w.split()))[0])
                                   for w in words)
            for marker in ("", "=")
        ]  # fmt: skip
        matches = """
            SELECT d.text, e.plain,
                   doc @@ proveo.search_query(ARRAY[e.plain]) AS plain,
                   proveo.search_with_groups(doc) @@ proveo.search_query(ARRAY[e.grouped])
                       AS grouped
            FROM unnest($1::text[]) AS d(text),
                 unnest($2::text[], $3::text[]) AS e(plain, grouped),
                 LATERAL (SELECT proveo.search_vector(d.text) || to_tsvector('spanish', d.text)
                          || to_tsvector('english', d.text) AS doc) AS v
        """
        plain, with_lexeme = zip(*elements, strict=True)
        rows = await conn.fetch(matches, texts, list(plain), list(with_lexeme))
        assert [tuple(r) for r in rows if r["plain"] != r["grouped"]] == []
        assert sum(r["plain"] for r in rows) >= 12

    def test_a_single_word_of_a_group_is_left_to_the_planner(self) -> None:
        """One lexeme, which the planner estimates as it does a plain word's."""
        assert not repository._read_by_word_index(["contabilidad"])
        assert not repository._read_by_word_index(["servicios"])
        assert repository._read_by_word_index(["contador", "providencia"])
        assert repository._read_by_word_index(["pto"])  # `pto|puerto`: an OR

    async def test_a_query_word_of_a_group_reads_one_lexeme(self, conn: Connection) -> None:
        (element,) = await repository.query_words(conn, ["contabilidad"])
        assert group_lexeme(next(g for g in SYNONYM_GROUPS if "contabilidad" in g)) in element
        assert "contador" not in element

    async def test_a_company_found_by_a_synonym_of_its_name_ranks_by_its_name(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await add_company(conn, "Limpiezas Australes", description_es="Servicios generales.")
        await add_company(conn, "Australes Servicios", description_es="Aseo de oficinas.")
        response = await client.get(SEARCH_URL, params={"q": "aseo australes"})
        assert [hit["name"] for hit in response.json()] == [
            "Limpiezas Australes",
            "Australes Servicios",
        ]


class TestSearchWithSynonyms:
    async def test_a_synonym_is_a_word_match_and_facets_agree(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        response = await client.get(SEARCH_URL, params={"q": "plomero"})
        assert [hit["name"] for hit in response.json()] == ["Gasfitería Rápida Ñuñoa"]
        assert response.headers["X-Search-Match"] == "words"
        facets = (await client.get(FACETS_URL, params={"q": "plomero"})).json()
        assert facets["total"] == int(response.headers["X-Total-Count"]) == 1

    async def test_a_phrase_finds_the_category_it_names(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        response = await client.get(SEARCH_URL, params={"q": "aire acondicionado"})
        assert response.headers["X-Search-Match"] == "words"
        assert "Frío Clima Spa" in [hit["name"] for hit in response.json()]

    async def test_an_abbreviated_commune_is_found(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await add_company(conn, "Sur Austral Ingeniería", commune_name="Puerto Montt")
        response = await client.get(SEARCH_URL, params={"q": "ingenieria pto montt"})
        assert [hit["name"] for hit in response.json()] == ["Sur Austral Ingeniería"]
        assert response.headers["X-Search-Match"] == "words"


class TestSuggestWithSynonyms:
    async def test_a_synonym_suggests_the_category_it_means(
        self, client: httpx.AsyncClient, directory: None
    ) -> None:
        """Found in review: `rrhh`, `plomer` and `pto mon…` suggested nothing."""
        texts = [s["text"] for s in (await client.get(SUGGEST_URL, params={"q": "rrhh"})).json()]
        assert "Recursos humanos" in texts
        body = (await client.get(SUGGEST_URL, params={"q": "plomer", "lang": "en"})).json()
        assert [(s["text"], s["kind"]) for s in body] == [("Plumbing", "product")]

    async def test_an_abbreviation_suggests_the_communes_it_begins(
        self, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await add_company(conn, "Hostal Sur", commune_name="Puerto Montt")
        for prefix in ("pto", "pto mon"):
            body = (await client.get(SUGGEST_URL, params={"q": prefix})).json()
            assert [(s["text"], s["kind"]) for s in body] == [("Puerto Montt", "commune")]
