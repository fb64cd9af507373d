"""`/sitemap.xml` (an index of files of at most 50,000 URLs each, with `lastmod`), its company
and landing files read by keyset from each chunk's first id, and `/robots.txt`."""

from __future__ import annotations

import re
from xml.etree import ElementTree

import httpx
import pytest
from fastapi import FastAPI

from proveo.core.cache import Cache
from proveo.core.db import Connection
from proveo.site import repository, service
from proveo.site.service import SitemapListings, SitemapSettings
from tests.factories import create_company, create_user

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
BASE = "http://127.0.0.1:8000"


def _xml(body: bytes) -> ElementTree.Element:
    return ElementTree.fromstring(body)  # noqa: S314 (our own answer)


def _locs(response: httpx.Response, tag: str) -> list[str]:
    root = _xml(response.content)
    return [el.findtext("s:loc", namespaces=NS) or "" for el in root.findall(f"s:{tag}", NS)]


def _path(url: str) -> str:
    return url.removeprefix(BASE)


@pytest.fixture
def small_files(app: FastAPI, cache: Cache) -> SitemapSettings:
    """Four URLs per file: two companies (each in Spanish and English) per companies file."""
    settings = SitemapSettings(max_urls=4)
    app.state.sitemap_listings = SitemapListings(app.state.database, cache, settings)
    return settings


async def _companies(conn: Connection, count: int, **fields: object) -> list[str]:
    names = [f"Empresa {n:03d}" for n in range(count)]
    for name in names:
        await create_company(conn, (await create_user(conn)).id, name=name, **fields)
    return [f"empresa-{n:03d}" for n in range(count)]


class TestSitemapIndex:
    async def test_lists_every_file_with_its_lastmod(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, small_files: object
    ) -> None:
        await _companies(conn, 5)
        response = await client.get(app.url_path_for("site:sitemap"))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        paths = [_path(loc) for loc in _locs(response, "sitemap")]
        # Landings: the category, its region and its commune, one a file (two addresses each,
        # and the home page's in the first); companies: two a file.
        assert paths == [
            "/sitemaps/landings-1.xml",
            "/sitemaps/landings-2.xml",
            "/sitemaps/landings-3.xml",
            "/sitemaps/companies-1.xml",
            "/sitemaps/companies-2.xml",
            "/sitemaps/companies-3.xml",
        ]
        root = _xml(response.content)
        stamps = [el.findtext("s:lastmod", namespaces=NS) for el in root.findall("s:sitemap", NS)]
        assert all(stamp and re.match(r"\d{4}-\d\d-\d\dT", stamp) for stamp in stamps)

    async def test_company_files_hold_at_most_the_limit_each_company_in_both_languages(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, small_files: object
    ) -> None:
        slugs = await _companies(conn, 5)
        seen: list[str] = []
        for number in (1, 2, 3):
            url = app.url_path_for("site:sitemap_companies", number=str(number))
            response = await client.get(url)
            assert response.status_code == 200
            locs = [_path(loc) for loc in _locs(response, "url")]
            assert len(locs) <= 4
            seen.extend(locs)
        expected = []
        for slug in slugs:
            expected += [f"/empresas/{slug}", f"/en/companies/{slug}"]
        assert seen == expected
        past = app.url_path_for("site:sitemap_companies", number="4")
        assert (await client.get(past)).status_code == 404
        # Found by the adversary: the same file answered at `companies-01.xml` too.
        assert (await client.get("/sitemaps/companies-01.xml")).status_code == 404
        assert (await client.get("/sitemaps/landings-001.xml")).status_code == 404

    async def test_each_url_names_its_alternates(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await _companies(conn, 1)
        url = app.url_path_for("site:sitemap_companies", number="1")
        root = _xml((await client.get(url)).content)
        first = root.findall("s:url", NS)[0]
        links = {el.get("hreflang"): el.get("href") for el in first.findall("x:link", NS)}
        assert links == {
            "es": f"{BASE}/empresas/empresa-000",
            "en": f"{BASE}/en/companies/empresa-000",
            "x-default": f"{BASE}/empresas/empresa-000",
        }
        assert first.findtext("s:lastmod", namespaces=NS)

    async def test_landings_are_the_places_that_list_someone(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await create_company(
            conn,
            (await create_user(conn)).id,
            name="Uno",
            product_name="Gasfitería",
            commune_name="Temuco",
        )
        url = app.url_path_for("site:sitemap_landings", number="1")
        paths = [_path(loc) for loc in _locs(await client.get(url), "url")]
        assert paths[0] == "/"
        for path in (
            "/proveedores/gasfiteria",
            "/en/providers/plumbing",
            "/proveedores/gasfiteria/region-la-araucania",
            "/proveedores/gasfiteria/temuco",
            "/en/providers/plumbing/temuco",
        ):
            assert path in paths
        assert not any("providencia" in path for path in paths)
        for path in paths:
            assert (await client.get(path)).status_code == 200, path

    async def test_the_listings_are_cached(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection, small_files: object
    ) -> None:
        await _companies(conn, 2)
        first = await client.get(app.url_path_for("site:sitemap"))
        await create_company(conn, (await create_user(conn)).id, name="Nueva")
        again = await client.get(app.url_path_for("site:sitemap"))
        assert again.content == first.content

    def test_a_file_never_holds_more_than_50000_urls(self) -> None:
        settings = SitemapSettings()
        assert settings.max_urls == 50_000
        assert settings.companies_per_chunk * 2 <= 50_000

    async def test_is_gzipped_for_crawlers_that_take_it(
        self, app: FastAPI, client: httpx.AsyncClient, conn: Connection
    ) -> None:
        await _companies(conn, 30)
        url = app.url_path_for("site:sitemap_companies", number="1")
        response = await client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.headers["content-encoding"] == "gzip"


class TestChunkQuery:
    async def test_chunks_start_where_the_previous_one_ended(self, conn: Connection) -> None:
        await _companies(conn, 7)
        chunks = await repository.select_company_chunks(conn, 3)
        assert [c.number for c in chunks] == [1, 2, 3]
        read: list[str] = []
        for chunk in chunks:
            read += [
                slug
                for slug, _ in await repository.select_company_slugs_from(conn, chunk.first_id, 3)
            ]
        assert read == [f"empresa-{n:03d}" for n in range(7)]


class TestRobots:
    async def test_points_to_the_sitemap_and_keeps_crawlers_out_of_private_pages(
        self, app: FastAPI, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(app.url_path_for("site:robots"))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        lines = response.text.splitlines()
        assert f"Sitemap: {BASE}/sitemap.xml" in lines
        for path in ("/api/", "/admin/", "/my-company/", "/account/", "/publish/"):
            assert f"Disallow: {path}" in lines
        assert "Disallow: /empresas/" not in lines
        assert "Disallow: /images/" not in lines  # logos are preview images
        assert service.ROBOTS_DISALLOW
