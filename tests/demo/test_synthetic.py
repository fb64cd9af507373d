"""`proveo seed --synthetic N`: realistic, skewed, deterministic companies, copied in bulk."""

from __future__ import annotations

import asyncio
import re
import subprocess
from collections import Counter
from pathlib import Path
from uuid import uuid4

import asyncpg
import httpx
import pytest

from proveo.catalog.data import COMMUNES, PRODUCTS, REGIONS
from proveo.companies.schemas import normalise_rut
from proveo.core.db import Connection
from proveo.core.embedded_pg import EmbeddedPostgres
from proveo.core.security import hash_password_sync
from proveo.demo.companies import DEMO_COMPANIES
from proveo.demo.synthetic import (
    COMMON_SHARE,
    RARE_WORD,
    RUT_BASE,
    SYNTHETIC_PASSWORD,
    SyntheticCompany,
    seed_synthetic,
    synthetic_companies,
    synthetic_company,
    synthetic_email,
    synthetic_rut,
)
from tests.fixtures.database import create_database
from tests.fixtures.servers import free_port, proveo_command, proveo_env

SAMPLE = list(synthetic_companies(1, 1, 4000))
PRODUCT_EN = {product.name_es: product.name_en for product in PRODUCTS}


def searchable(company: SyntheticCompany) -> str:
    parts = (company.name, company.description_es, company.description_en, company.product,
             PRODUCT_EN[company.product])  # fmt: skip
    return " ".join(part for part in parts if part).lower()


class TestGeneratedCompanies:
    def test_the_same_seed_gives_the_same_companies_and_another_seed_others(self) -> None:
        assert list(synthetic_companies(1, 1, 50)) == SAMPLE[:50]
        assert synthetic_company(2, 10) != synthetic_company(1, 10)
        # Company i depends on the seed and i only: a larger N extends a smaller one.
        assert synthetic_company(1, 3000) == SAMPLE[2999]

    def test_every_commune_and_product_appears(self) -> None:
        assert {c.commune for c in SAMPLE} == {name for name, _ in COMMUNES}
        assert {c.product for c in SAMPLE} == {p.name_es for p in PRODUCTS}

    def test_a_few_big_communes_hold_a_large_share_like_a_real_directory(self) -> None:
        top = Counter(c.commune for c in SAMPLE).most_common(3)
        assert [name for name, _ in top] == ["Santiago", "Providencia", "Las Condes"]
        assert 0.15 < sum(count for _, count in top) / len(SAMPLE) < 0.35
        _, count = Counter(c.product for c in SAMPLE).most_common(1)[0]
        assert count / len(SAMPLE) > 0.1

    def test_the_common_word_is_in_about_forty_percent_and_the_rare_word_in_few(self) -> None:
        common = sum(bool(re.search(r"servici|servic", searchable(c))) for c in SAMPLE)
        assert abs(common / len(SAMPLE) - COMMON_SHARE) < 0.05
        rare = sum(RARE_WORD in searchable(c) for c in SAMPLE)
        assert 0 < rare < 20

    def test_descriptions_are_spanish_and_english_with_some_left_to_translate(self) -> None:
        both = [c for c in SAMPLE if c.description_es and c.description_en]
        assert len(both) / len(SAMPLE) > 0.85
        assert "años de experiencia" in " ".join(c.description_es or "" for c in both[:50])
        assert "clients" in " ".join(c.description_en or "" for c in both[:50])
        pending = [c for c in SAMPLE if "pending" in (c.es_source, c.en_source)]
        assert pending
        for company in pending:
            assert (company.description_es is None) == (company.es_source == "pending")
            assert (company.description_en is None) == (company.en_source == "pending")
        assert {c.original_lang for c in SAMPLE} == {"es", "en"}

    def test_fields_fit_the_publishing_rules(self) -> None:
        for company in SAMPLE:
            assert 1 <= len(company.name) <= 100
            assert re.fullmatch(r"\+56[0-9]{9}", company.phone)
            assert re.fullmatch(r"[a-z]+@[a-z0-9]+\.cl", company.email)
            assert len(company.description_es or "") <= 1000
            assert len(company.description_en or "") <= 1000
        assert len({c.name for c in SAMPLE}) > 0.8 * len(SAMPLE)


class TestGeneratedProfiles:
    def test_ruts_are_valid_and_unique(self) -> None:
        ruts = [c.rut for c in SAMPLE if c.rut]
        assert 0.8 < len(ruts) / len(SAMPLE) < 0.97
        assert len(set(ruts)) == len(ruts)
        for rut in ruts[:500]:
            assert normalise_rut(rut) == rut

    def test_ruts_never_meet_the_demo_companies_of_a_directory_seeded_beside_them(self) -> None:
        # Found in review: `make run`, then `proveo seed --synthetic 100000` failed on the
        # demo company's RUT 76.045.613-x, the synthetic company 45,613's.
        demo = [int(c.rut.split("-")[0]) - RUT_BASE for c in DEMO_COMPANIES if c.rut]
        assert all(not 1 <= index <= 2_000_000 for index in demo)
        assert synthetic_rut(45_613) not in {c.rut for c in DEMO_COMPANIES}

    def test_some_have_websites_sizes_and_years(self) -> None:
        websites = [c.website for c in SAMPLE if c.website]
        assert 0.25 < len(websites) / len(SAMPLE) < 0.45
        assert all(re.fullmatch(r"https://www\.[a-z0-9]+\.cl", w) for w in websites)
        sizes = Counter(c.size_band for c in SAMPLE)
        assert sizes["1-9"] > sizes["10-49"] > sizes["50-199"] > sizes["200+"] > 0
        years = [c.year_founded for c in SAMPLE if c.year_founded]
        assert all(1900 <= year <= 2026 for year in years)

    def test_some_serve_several_regions_or_all_of_chile(self) -> None:
        region_of = dict(COMMUNES)
        everywhere = [c for c in SAMPLE if set(c.served_regions) == set(REGIONS)]
        several = [c for c in SAMPLE if 0 < len(c.served_regions) < len(REGIONS)]
        assert 0.05 < len(everywhere) / len(SAMPLE) < 0.11
        assert 0.15 < len(several) / len(SAMPLE) < 0.3
        for company in several:
            assert region_of[company.commune] not in company.served_regions

    def test_some_have_two_or_three_categories(self) -> None:
        counts = Counter(len(c.extra_products) for c in SAMPLE)
        assert counts[1] > counts[2] > 0
        for company in SAMPLE:
            assert company.product not in company.extra_products
            assert len(set(company.extra_products)) == len(company.extra_products)


class TestSeedSynthetic:
    async def test_copies_companies_with_verified_owners_and_tops_up_to_n(
        self, conn: Connection
    ) -> None:
        password_hash = hash_password_sync(SYNTHETIC_PASSWORD, 4)
        first = await seed_synthetic(conn, 400, seed=7, password_hash=password_hash)
        assert (first.added, first.total) == (400, 400)
        again = await seed_synthetic(conn, 450, seed=7, password_hash=password_hash)
        assert (again.added, again.total) == (50, 450)
        assert (await seed_synthetic(conn, 450, seed=7, password_hash=password_hash)).added == 0

        rows = await conn.fetch(
            "SELECT c.uuid, c.name, p.name_es AS product, m.name AS commune, u.email, "
            "u.email_verified, u.password_hash "
            "FROM proveo.company c JOIN proveo.user_account u ON u.id = c.user_id "
            "JOIN proveo.product p ON p.id = c.product_id "
            "JOIN proveo.commune m ON m.id = c.commune_id "
            "WHERE u.email LIKE 'synthetic-%' AND c.deleted_at IS NULL"
        )
        assert len(rows) == 450
        by_email = {row["email"]: row for row in rows}
        expected = synthetic_company(7, 123)
        row = by_email[synthetic_email(123)]
        assert (row["uuid"], row["name"], row["product"], row["commune"]) == (
            expected.uuid, expected.name, expected.product, expected.commune,
        )  # fmt: skip
        assert all(row["email_verified"] for row in rows)
        stored = await conn.fetchrow(
            "SELECT website, rut, year_founded, size_band, served_regions, "
            "ARRAY(SELECT p.name_es FROM proveo.company_product cp "
            "      JOIN proveo.product p ON p.id = cp.product_id "
            "      WHERE cp.company_id = c.id ORDER BY p.name_es) AS extras "
            "FROM proveo.company c WHERE c.uuid = $1",
            expected.uuid,
        )
        assert (stored["website"], stored["rut"], stored["year_founded"], stored["size_band"]) == (
            expected.website, expected.rut, expected.year_founded, expected.size_band,
        )  # fmt: skip
        assert stored["served_regions"] == list(expected.served_regions)
        assert stored["extras"] == sorted(expected.extra_products)
        extra_total = sum(len(synthetic_company(7, i).extra_products) for i in range(1, 451))
        assert await conn.fetchval("SELECT count(*) FROM proveo.company_product") == extra_total
        # One bcrypt for all: the owners share the hash.
        assert {row["password_hash"] for row in rows} == {password_hash}

    async def test_a_large_seed_builds_the_search_indexes_again_at_the_end(
        self, conn: Connection
    ) -> None:
        indexes = (
            "SELECT indexname, indexdef FROM pg_indexes "
            "WHERE schemaname = 'proveo' AND tablename = 'company_search' ORDER BY indexname"
        )
        before = await conn.fetch(indexes)
        password_hash = hash_password_sync(SYNTHETIC_PASSWORD, 4)
        seeded = await seed_synthetic(
            conn, 300, seed=7, password_hash=password_hash, rebuild_indexes_from=100
        )
        assert seeded.added == 300
        assert await conn.fetch(indexes) == before
        # The rebuilt word index holds every company: it counts what a scan of the table counts.
        count = (
            "SELECT count(*) FROM proveo.company_search s "
            "WHERE s.doc @@ proveo.search_query(ARRAY['servicios'])"
        )
        counted = []
        for plan in ("enable_seqscan = off", "enable_bitmapscan = off"):
            async with conn.transaction():
                await conn.execute(f"SET LOCAL {plan}")
                counted.append(await conn.fetchval(count))
        assert counted[0] == counted[1] > 0

    async def test_a_large_seed_indexes_its_companies_at_the_end_as_the_triggers_would(
        self, conn: Connection
    ) -> None:
        vocabulary = "SELECT term FROM proveo.search_term"
        before = {row["term"] for row in await conn.fetch(vocabulary)}
        await seed_synthetic(
            conn, 40, seed=7, password_hash=hash_password_sync(SYNTHETIC_PASSWORD, 4)
        )
        await seed_synthetic(
            conn,
            260,
            seed=7,
            password_hash=hash_password_sync(SYNTHETIC_PASSWORD, 4),
            rebuild_indexes_from=100,
        )
        tables = (
            "SELECT * FROM proveo.company_search ORDER BY company_id",
            "SELECT * FROM proveo.company_search_category ORDER BY company_id, product_id",
            "SELECT * FROM proveo.company_search_served ORDER BY 1, 2, 3",
            "SELECT * FROM proveo.company_search_name_word ORDER BY 1, 2",
        )
        seeded = [await conn.fetch(rows) for rows in tables]
        assert [len(rows) for rows in seeded[:2]] == [260, sum(
            len(row["product_ids"]) for row in seeded[0]
        )]  # fmt: skip
        assert any(len(row["product_ids"]) > 1 for row in seeded[0])
        assert seeded[2]
        assert len(seeded[3]) > 260
        learnt = {row["term"] for row in await conn.fetch(vocabulary)} - before
        await conn.execute(
            "SELECT proveo.refresh_company_search(ARRAY(SELECT id FROM proveo.company))"
        )
        assert [await conn.fetch(rows) for rows in tables] == seeded
        words = await conn.fetch(
            "SELECT DISTINCT w.term FROM proveo.company c, LATERAL proveo.search_terms("
            "concat_ws(' ', c.name, c.description_es, c.description_en)) AS w(term)"
        )
        assert learnt == {row["term"] for row in words} - before
        # Nothing of the build is left in the session.
        assert await conn.fetchval("SELECT to_regclass('synthetic_search_texts')") is None

    async def test_indexes_each_company_as_the_triggers_would_and_leaves_them_on(
        self, conn: Connection
    ) -> None:
        await seed_synthetic(
            conn, 120, seed=7, password_hash=hash_password_sync(SYNTHETIC_PASSWORD, 4)
        )
        rows = "SELECT * FROM proveo.company_search ORDER BY company_id"
        seeded = await conn.fetch(rows)
        assert len(seeded) == 120
        assert any(len(row["product_ids"]) > 1 for row in seeded)
        await conn.execute(
            "SELECT proveo.refresh_company_search(ARRAY(SELECT id FROM proveo.company))"
        )
        assert await conn.fetch(rows) == seeded
        enabled = await conn.fetch(
            "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'tg_company_search_%' "
            "AND tgenabled = 'D'"
        )
        assert enabled == []

    async def test_learns_every_word_of_the_companies_for_typo_correction(
        self, conn: Connection
    ) -> None:
        vocabulary = "SELECT term FROM proveo.search_term"
        before = {row["term"] for row in await conn.fetch(vocabulary)}
        await seed_synthetic(
            conn, 150, seed=7, password_hash=hash_password_sync(SYNTHETIC_PASSWORD, 4)
        )
        learnt = {row["term"] for row in await conn.fetch(vocabulary)} - before
        # Each company's whole text, word by word: what the refresh took before it split at spaces.
        words = await conn.fetch(
            "SELECT DISTINCT w.term FROM proveo.company c, LATERAL proveo.search_terms("
            "concat_ws(' ', c.name, c.description_es, c.description_en)) AS w(term)"
        )
        assert learnt == {row["term"] for row in words} - before
        assert len(learnt) > 100

    async def test_gives_a_later_company_of_the_same_name_a_slug_with_its_uuid(
        self, conn: Connection
    ) -> None:
        await seed_synthetic(
            conn, 400, seed=7, password_hash=hash_password_sync(SYNTHETIC_PASSWORD, 4)
        )
        rows = await conn.fetch(
            "SELECT c.id, c.uuid, c.slug, proveo.slugify(c.name) AS base, s.company_id AS holder "
            "FROM proveo.company c LEFT JOIN proveo.company_slug s ON s.slug = c.slug "
            "ORDER BY c.created_at, c.uuid"
        )
        assert all(row["holder"] == row["id"] for row in rows)  # every slug recorded
        seen: set[str] = set()
        for row in rows:
            if row["base"] in seen:
                assert row["slug"] == f"{row['base'][:68]}-{row['uuid'].hex[:8]}"
            else:
                assert row["slug"] == row["base"]
            seen.add(row["base"])
        assert len(seen) < len(rows)  # some names repeat

    async def test_an_owner_logs_in_with_the_synthetic_password(
        self, conn: Connection, client: httpx.AsyncClient
    ) -> None:
        await seed_synthetic(
            conn, 5, seed=1, password_hash=hash_password_sync(SYNTHETIC_PASSWORD, 4)
        )
        response = await client.post(
            "/api/v1/users/login",
            json={"email": synthetic_email(5), "password": SYNTHETIC_PASSWORD},
        )
        assert response.status_code == 200, response.text


@pytest.fixture
async def database_url(pg_server: EmbeddedPostgres) -> str:
    name = f"proveo_synthetic_{uuid4().hex[:8]}"
    await create_database(pg_server.dsn("postgres"), name)
    return pg_server.dsn(name)


class TestSeedCommand:
    async def test_seed_synthetic_migrates_seeds_the_catalogue_and_the_companies(
        self, tmp_path: Path, database_url: str
    ) -> None:
        env = proveo_env(tmp_path, free_port(), PROVEO_DATABASE_URL=database_url,
                         PROVEO_LOG_FORMAT="json")  # fmt: skip
        result = await asyncio.to_thread(
            subprocess.run,
            proveo_command("seed", "--synthetic", "60", "--seed", "3"), env=env,
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert '"event": "synthetic_data_seeded"' in result.stderr
        conn = await asyncpg.connect(database_url)
        try:
            names = await conn.fetch("SELECT name FROM proveo.company ORDER BY name")
        finally:
            await conn.close()
        assert sorted(row["name"] for row in names) == sorted(
            c.name for c in synthetic_companies(3, 1, 60)
        )

    def test_production_refuses_synthetic_data(self, tmp_path: Path) -> None:
        env = proveo_env(
            tmp_path, free_port(),
            PROVEO_ENV="production",
            PROVEO_SECRET_KEY="Vq3xN8-pL2zR7wKd_T5mYc9Hs4Bf6Gj1Ea0UoIiZ",
            PROVEO_PUBLIC_BASE_URL="https://proveo.cl",
            PROVEO_EMAIL_BACKEND="resend",
            PROVEO_RESEND_API_KEY="re_Zk3mQ9xT2vB7",
            PROVEO_SEED_DEMO="false",
            PROVEO_BCRYPT_ROUNDS="12",
            PROVEO_DATABASE_URL="postgresql://proveo@127.0.0.1:9/proveo",
        )  # fmt: skip
        result = subprocess.run(
            proveo_command("seed", "--synthetic", "10"), env=env,
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.returncode == 2
        assert "error: synthetic data is refused in production" in result.stderr
